#!/usr/bin/env bash
# Renders a nightly report.html to a PNG with headless Chromium, to look at
# the charts or attach a picture to a message.
#
#   tools/nightly/screenshot.sh report.html out.png [width]
#
# width: of the window in pixels (default 1280); the height is 2400. Installs
# Debian's chromium package if no chromium is found (as root, or with sudo).
# The page loads nothing from the network, so none is needed.
set -euo pipefail

die() {
  echo "screenshot.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 report.html out.png [width]" >&2
  exit 2
}

[[ $# -ge 2 && $# -le 3 ]] || usage
html=$1
png=$2
width=${3:-1280}
height=2400

[[ -f "$html" && -r "$html" ]] || die "cannot read $html"
[[ "$width" =~ ^[0-9]+$ && "$width" -ge 200 && "$width" -le 10000 ]] ||
  die "width must be a number of pixels from 200 to 10000, not '$width'"
out_dir=$(dirname -- "$png")
[[ -d "$out_dir" && -w "$out_dir" ]] ||
  die "cannot write $png: $out_dir is not a writable directory"

find_chromium() {
  local c
  for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

install_chromium() {
  local -a sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "chromium is not installed and this user cannot install it; run" \
        "'sudo apt-get install chromium' (Debian) and try again"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "chromium is not installed and there is no apt-get to install it"
  echo "screenshot.sh: installing chromium (Debian package)..." >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    die "apt-get update failed; check the network and the apt sources"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
    die "apt-get install chromium failed"
}

chromium=$(find_chromium) || {
  install_chromium
  chromium=$(find_chromium) || die "chromium still not found after installing"
}

abs_html=$(realpath -- "$html")
abs_png=$(realpath -m -- "$png")
# A file URL: escape the characters a path may hold that a URL may not.
url=${abs_html//%/%25}
url=${url// /%20}
url=${url//#/%23}
url=${url//\?/%3F}
url="file://$url"
profile=$(mktemp -d "${TMPDIR:-/tmp}/screenshot-chromium.XXXXXX")
trap 'rm -rf -- "$profile"' EXIT

rm -f -- "$abs_png"
log="$profile/chromium.log"
if ! "$chromium" --headless --no-sandbox --disable-gpu \
  --hide-scrollbars --no-first-run --no-default-browser-check \
  --user-data-dir="$profile" \
  --screenshot="$abs_png" --window-size="$width,$height" \
  "$url" >"$log" 2>&1; then
  cat "$log" >&2
  die "chromium failed to render $html"
fi
if [[ ! -s "$abs_png" ]]; then
  cat "$log" >&2
  die "chromium wrote no screenshot to $png"
fi
echo "$abs_png"
