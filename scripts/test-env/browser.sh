#!/usr/bin/env bash
# Headless browser for tests/report/test_report_browser.py: Debian's chromium, driven by Playwright for
# Python with executable_path=/usr/bin/chromium (Playwright never downloads a browser here).
# Idempotent: does nothing when chromium is already installed.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
apt_install chromium fonts-dejavu-core
/usr/bin/chromium --version
