# Chromium for the status site's browser tests: Debian's package at /usr/bin/chromium, driven by
# playwright-core. Playwright's own browser download cannot work here (no network but the package
# registries), so `npx playwright install` is never used.

CHROMIUM_BIN=/usr/bin/chromium

ensure_chromium() {
  [ -x "$CHROMIUM_BIN" ] && return 0
  apt_install chromium || warn "$CHROMIUM_BIN is missing and cannot be installed (not root on Debian): the site's browser tests will fail"
}
