#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium (Playwright's own browser download
# cannot work offline). Install it when missing and we may; otherwise say how.
set -euo pipefail
bin="${AGQG_CHROMIUM:-/usr/bin/chromium}"
[ -x "$bin" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing: installing Debian's chromium and chromium-driver (apt-get)..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
  exit 0
fi
echo "The end-to-end tests need Chromium at $bin (Debian: sudo apt-get install chromium chromium-driver), or set AGQG_CHROMIUM to a Chromium binary." >&2
exit 1
