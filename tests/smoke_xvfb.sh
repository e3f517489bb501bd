#!/usr/bin/env bash
# Real-window smoke test of the viewer: start Xvfb, run `srmscope view demo:convnet` in it,
# screenshot the screen with ImageMagick's `import` until the 3D view shows a line in every
# network's colour (checked by `tests/app_smoke_png.rs`), then close everything.
#
# Needs: xvfb imagemagick libgl1-mesa-dri libegl1 libegl-mesa0 libgbm1 libxkbcommon-x11-0
#        libx11-6 libxcursor1 libxrandr2 libxi6
#
# Environment (all optional):
#   SRMSCOPE_BIN     the binary to run        (default: target/release/srmscope, else target/debug)
#   SMOKE_OUT        where screenshots go     (default: target/smoke)
#   SMOKE_DISPLAY    X display number         (default: :99)
#   SMOKE_TIMEOUT    seconds to wait for the 3D view (default: 120)
#   SMOKE_INPUT      dataset to open          (default: demo:convnet, 5 networks)
#   SMOKE_NETWORKS   networks in that dataset (default: 5)
#   CARGO_PROFILE_FLAG  e.g. --release, passed to `cargo test` for the checker
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${SRMSCOPE_BIN:-}
if [[ -z "$BIN" ]]; then
    if [[ -x target/release/srmscope ]]; then BIN=target/release/srmscope; else BIN=target/debug/srmscope; fi
fi
OUT=${SMOKE_OUT:-target/smoke}
DISP=${SMOKE_DISPLAY:-:99}
TIMEOUT=${SMOKE_TIMEOUT:-120}
INPUT=${SMOKE_INPUT:-demo:convnet}
NETWORKS=${SMOKE_NETWORKS:-5}
PROFILE_FLAG=${CARGO_PROFILE_FLAG:-}

for tool in Xvfb import; do
    command -v "$tool" >/dev/null || { echo "smoke: $tool not found (apt-get install xvfb imagemagick)"; exit 2; }
done
[[ -x "$BIN" ]] || { echo "smoke: $BIN is not built"; exit 2; }
mkdir -p "$OUT"

# Build the pixel checker first so the polling loop only runs it.
cargo test $PROFILE_FLAG --test app_smoke_png --no-run -q

# A fresh HOME: no remembered settings or window state from earlier runs.
SMOKE_HOME=$(mktemp -d)
XVFB_PID=""
APP_PID=""
cleanup() {
    [[ -n "$APP_PID" ]] && kill "$APP_PID" 2>/dev/null || true
    [[ -n "$XVFB_PID" ]] && kill "$XVFB_PID" 2>/dev/null || true
    rm -rf "$SMOKE_HOME"
}
trap cleanup EXIT

Xvfb "$DISP" -screen 0 1280x800x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do
    DISPLAY="$DISP" xdpyinfo >/dev/null 2>&1 && break
    [[ -e "/tmp/.X11-unix/X${DISP#:}" ]] && break
    sleep 0.1
done

env -u WAYLAND_DISPLAY HOME="$SMOKE_HOME" XDG_DATA_HOME="$SMOKE_HOME/data" DISPLAY="$DISP" \
    "$BIN" view "$INPUT" >"$OUT/app.log" 2>&1 &
APP_PID=$!
echo "smoke: $BIN view $INPUT on $DISP (pid $APP_PID)"

start=$(date +%s)
attempt=0
while true; do
    sleep 3
    attempt=$((attempt + 1))
    if ! kill -0 "$APP_PID" 2>/dev/null; then
        echo "smoke: FAIL the viewer exited early"; cat "$OUT/app.log"; exit 1
    fi
    shot="$OUT/smoke.png"
    DISPLAY="$DISP" import -window root "$shot"
    if SRMSCOPE_SMOKE_PNG="$shot" SRMSCOPE_SMOKE_NETWORKS="$NETWORKS" \
        cargo test $PROFILE_FLAG --test app_smoke_png -q -- --ignored --nocapture >"$OUT/check.log" 2>&1; then
        grep "smoke:" "$OUT/check.log" || true
        echo "smoke: PASS after ${attempt} screenshot(s); screenshot in $shot"
        exit 0
    fi
    if (( $(date +%s) - start > TIMEOUT )); then
        echo "smoke: FAIL no trajectories after ${TIMEOUT}s; last screenshot in $shot"
        grep -E "panicked|too few|no 3D view" -A2 "$OUT/check.log" || cat "$OUT/check.log"
        echo "--- app log"; cat "$OUT/app.log"
        exit 1
    fi
done
