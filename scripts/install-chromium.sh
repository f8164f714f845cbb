#!/usr/bin/env bash
# Installs Debian's chromium, and a font with Chinese glyphs (deal pages show
# names from Chinese articles), for the browser tests of the web page
# (internal/cli/serve_test.go). Skips what is there already.
set -euo pipefail
have_cjk_font() { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; }
if [ -x /usr/bin/chromium ] && have_cjk_font; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present) (already installed, with a CJK font)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-wqy-zenhei
/usr/bin/chromium --version
