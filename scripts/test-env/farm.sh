#!/usr/bin/env bash
# Servers for tests/farm: Debian's PostgreSQL (Dagster's instance) and RabbitMQ (the Celery
# broker), started by the tests themselves on free ports as unprivileged users; should the
# packages start their own services, the tests leave them alone. And systemd's
# `systemd-analyze verify` for the farm's unit files (tests/deploy/test_units.py); nothing is
# started with it. Idempotent: does nothing when all are installed.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v systemd-analyze >/dev/null; then
    exit 0
fi
apt_install postgresql rabbitmq-server systemd
ls /usr/lib/postgresql/*/bin/initdb /usr/lib/rabbitmq/bin/rabbitmq-server
command -v systemd-analyze
