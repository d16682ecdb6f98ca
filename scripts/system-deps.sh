#!/usr/bin/env bash
# System packages that pip cannot provide: protobuf for building gcld3 (language identification);
# FFmpeg's libraries for building vpdq (video hashes) and the ffmpeg tool its tests use to make videos;
# chromium for the browser tests of the review app; npm for the web app's graph library (cytoscape.js).
set -euo pipefail
need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
dpkg -s libprotobuf-dev >/dev/null 2>&1 || need+=(libprotobuf-dev)
for p in pkg-config libavdevice-dev libavfilter-dev libavformat-dev libavcodec-dev libswresample-dev libswscale-dev \
  libavutil-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# Debian's Chromium for the review app's browser tests (Playwright drives it; no browser download).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "basira: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "basira: installing system packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
