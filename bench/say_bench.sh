#!/usr/bin/env bash
# Benchmark (not a test): how long espeak-ng takes to speak a typed notice
# of 100 Chinese characters, median of 5 uncached renders, and the
# real-time factor (render time / audio length).
#   ./bench/say_bench.sh
# 1. Through the binary, `cunxiang say --wav OUT.wav "TEXT"` (each run
#    renders into a fresh cache, so nothing is cached), when the release
#    binary has that command.
# 2. Through the library, always: the ignored test bench_render_100_chars
#    (sound::speech), which calls `render` with a fresh cache folder per run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v espeak-ng >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq espeak-ng >/dev/null
fi

# The same notice as bench_render_100_chars in src/sound/speech/tests.rs.
TEXT="各位村民请注意，因县自来水厂主管道检修，本村将于明天上午八点至下午五点全村停水。请各家各户提前储备生活用水，关好水龙头，防止来水时跑水漏水。停水期间如有困难，请及时与村委会联系。感谢大家的理解和支持！特此通知，村民委员会。"

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/cunxiang"
if "$bin" say --help >/dev/null 2>&1; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  times=()
  for i in 1 2 3 4 5; do
    t0=$(date +%s.%N)
    "$bin" say --wav "$work/out$i.wav" "$TEXT" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l 2>/dev/null || python3 -c "print($t1 - $t0)")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
  audio=$(python3 -c "import wave,sys; w=wave.open(sys.argv[1]); print(w.getnframes()/w.getframerate())" "$work/out1.wav")
  python3 -c "import sys; m,a=map(float,sys.argv[1:]); print(f'cunxiang say: median {m:.3f} s of 5, audio {a:.2f} s, RTF {m/a:.4f}')" "$median" "$audio"
else
  echo "cunxiang say: not in this binary yet; timing the library only"
fi

cargo test --release --quiet --lib -- --ignored bench_render --nocapture 2>&1 | grep -E "^bench_render|test result"
