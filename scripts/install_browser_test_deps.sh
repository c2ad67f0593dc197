#!/bin/sh
# Install what the browser tests of the HTML report (tests/test_report.py) need, on Debian:
#   apt: chromium, chromium-driver (version-matched by Debian), a font for readable screenshots
#   pip: selenium (drives chromium through chromedriver; never downloads a browser or driver)
# With --firefox also firefox-esr (an optional test drives it over WebDriver BiDi, no geckodriver).
# Usage: scripts/install_browser_test_deps.sh [--firefox] [PYTHON]
#        PYTHON defaults to .venv/bin/python, else python3. Run as root or with sudo available.
# Safe to run again: skips what is already there. Needs only Debian apt and PyPI.
set -eu

FIREFOX=0
PY=""
for arg in "$@"; do
    case "$arg" in
        --firefox) FIREFOX=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) PY="$arg" ;;
    esac
done
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
SELENIUM_PIN="selenium==4.51.0"

have_driver() {
    command -v chromedriver >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromedriver ]
}

PACKAGES=""
if ! command -v chromium >/dev/null 2>&1 || ! have_driver; then
    PACKAGES="chromium chromium-driver fonts-dejavu-core"
fi
if [ "$FIREFOX" = 1 ] && ! command -v firefox-esr >/dev/null 2>&1 && ! command -v firefox >/dev/null 2>&1; then
    PACKAGES="$PACKAGES firefox-esr fonts-dejavu-core"
fi
if [ -n "$PACKAGES" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $PACKAGES
else
    echo "browsers already installed"
fi

if "$PY" -c "import selenium" >/dev/null 2>&1; then
    echo "selenium already installed: $("$PY" -c 'import selenium; print(selenium.__version__)')"
else
    "$PY" -m pip install "$SELENIUM_PIN"
fi

chromium --version 2>/dev/null || true
if command -v chromedriver >/dev/null 2>&1; then chromedriver --version; else /usr/lib/chromium/chromedriver --version; fi
if [ "$FIREFOX" = 1 ]; then (firefox-esr --version || firefox --version) 2>/dev/null || true; fi
