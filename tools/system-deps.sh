#!/usr/bin/env bash
# Make sure the system packages the course needs are present.
# Installs them with apt-get where this machine allows it (root + apt);
# otherwise prints exactly what to install and fails.
#   usage: tools/system-deps.sh [data] [chromium] [node] [fonts]
set -euo pipefail

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    echo "system-deps: apt-get update"; apt-get update -qq; APT_UPDATED=1
  fi
  echo "system-deps: apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
need() {  # need WHAT PACKAGES HOW-TO-CHECK-MESSAGE
  local what=$1 pkgs=$2 advice=$3
  if can_apt; then apt_install $pkgs; return; fi
  echo "system-deps: missing $what." >&2
  echo "  Install it with:  sudo apt-get install $pkgs" >&2
  echo "  $advice" >&2
  exit 1
}

for dep in "$@"; do
  case "$dep" in
    data)
      keras_dir="${KERAS_HOME:-$HOME/.keras}/datasets/fashion-mnist"
      if [ -n "${COMPANION_DATA_DIR:-}" ] && [ -d "$COMPANION_DATA_DIR" ]; then :;
      elif [ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]; then :;
      elif [ -e "$keras_dir/t10k-labels-idx1-ubyte.gz" ]; then :;
      else need "the Fashion-MNIST data" dataset-fashion-mnist \
        "Or put the four Fashion-MNIST files in a folder and set COMPANION_DATA_DIR to it."; fi ;;
    chromium)
      if command -v chromium >/dev/null 2>&1 || [ -n "${COMPANION_CHROMIUM:-}" ]; then :;
      else need "Chromium (for the browser tests)" chromium \
        "Or set COMPANION_CHROMIUM to the path of a Chromium/Chrome binary."; fi ;;
    node)
      if command -v npm >/dev/null 2>&1; then :;
      else need "Node.js and npm (they fetch the widget JavaScript)" "nodejs npm" \
        "Any Node.js 18+ with npm works."; fi ;;
    fonts)
      if command -v fc-list >/dev/null 2>&1 && fc-list : family | grep -i "Noto Sans CJK" >/dev/null; then :;
      else need "a font with Korean glyphs (for the PDF's glossary)" fonts-noto-cjk \
        "Any CJK font that fontconfig finds works."; fi ;;
    *) echo "system-deps: unknown dependency '$dep'" >&2; exit 2 ;;
  esac
done
