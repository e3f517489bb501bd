#!/usr/bin/env bash
# Opens an srmscope HTML page in headless Chromium (software GL) and prints its data-* test
# hooks, its console messages, and optionally a screenshot.
#
#   tools/html_check.sh PAGE.html ['#view=after&frame=40&play=0'] [--shot OUT.png] [--size 1100,800] [--budget MS]
#
# CHROMIUM overrides the browser (default: chromium).
set -euo pipefail
page="" hash="" shot="" size="1100,800" budget=3000
while [ $# -gt 0 ]; do
  case "$1" in
    --shot) shot="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    \#*) hash="$1"; shift ;;
    *) page="$1"; shift ;;
  esac
done
[ -n "$page" ] || { sed -n 2,8p "$0"; exit 2; }
url="file://$(realpath "$page")$hash"
browser="${CHROMIUM:-chromium}"
flags=(--headless --no-sandbox --use-angle=swiftshader --enable-unsafe-swiftshader --disable-gpu-sandbox
       --window-size="$size" --virtual-time-budget="$budget" --enable-logging=stderr --v=0)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dom=$(timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" 2>"$log")
grep -o '<html[^>]*>' <<<"$dom" | tr ' ' '\n' | grep '^data-' | sed 's/^/  /' || echo "  (no data-* hooks: the page did not load)"
grep -o 'CONSOLE[^"]*"[^"]*"' "$log" | sed 's/^/  console: /' || true
if ! grep -q 'id="srmscope-errors"[^>]*hidden' <<<"$dom"; then
  grep -o '<div id="srmscope-errors".*' <<<"$dom" | head -c 2000 || true
  echo
fi
if [ -n "$shot" ]; then
  timeout 120 "$browser" "${flags[@]}" --screenshot="$shot" "$url" 2>/dev/null >/dev/null
  echo "screenshot: $shot"
fi
