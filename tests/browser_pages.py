"""The real report in a real browser: what the browser tests share."""

from pathlib import Path

# Debian's chromium (scripts/test-env/browser.sh) through Playwright, which never downloads a
# browser here.
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
# Load every image (also lazy ones and those in closed <details>), then report naturalWidth.
LOAD_ALL_IMAGES = """async () => Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.decode().then(() => [img.getAttribute('src'), img.naturalWidth],
                             () => [img.getAttribute('src'), 0]);
}))"""
