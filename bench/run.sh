#!/usr/bin/env bash
# Benchmarks (not tests): ./bench/run.sh [--quick]
# Builds the release binary, installs the reference tools (cron, mpg123,
# sox, lame) if missing, then runs bench/bench.py. Takes about 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in cron mpg123 sox lame libsox-fmt-mp3 libasound2-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet
exec python3 bench/bench.py "$@"
