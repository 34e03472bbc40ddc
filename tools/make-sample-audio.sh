#!/usr/bin/env bash
# Regenerates the sample station's audio/ folder: Mandarin speech from
# espeak-ng, encoded to small mono MP3s with lame, plus a chime and two music
# beds synthesised with sox. Then checks that every file decodes, is not
# silent, and that audio/ stays small.
#
#   tools/make-sample-audio.sh        (works from any directory; re-running overwrites)
#
# Needs: espeak-ng, lame, sox (+ libsox-fmt-mp3 so sox can read MP3 back).
#   Debian/Ubuntu: apt-get install espeak-ng lame sox libsox-fmt-mp3
#
# Voice: espeak-ng 1.51 (Debian 12) has a bug in the plain `cmn` voice: the
# dictionary turns each character into tone-numbered pinyin ("今" -> jin1) and
# that voice reads Latin text as English, so 今天 comes out as "jin one, tian
# one" in an English accent (espeak-ng issue #1236). `cmn-latn-pinyin` reads
# the same pinyin as Mandarin, so it is used whenever it exists; the texts below
# contain no Latin letters, so nothing else changes. The voice is checked
# before use and the script stops if it would still fall back to English.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -f Cargo.toml && -d tools ]] || { echo "make-sample-audio: cannot find the repository root from $0" >&2; exit 2; }

missing=()
for t in espeak-ng lame sox soxi; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ((${#missing[@]})); then
  echo "make-sample-audio: missing tool(s): ${missing[*]}" >&2
  echo "  install them, e.g.: sudo apt-get install espeak-ng lame sox libsox-fmt-mp3" >&2
  exit 2
fi
# (grep on captured text, not in a pipe: grep -q exiting early would SIGPIPE the writer under pipefail)
if [[ $(sox --help-format mp3 2>&1 || true) != *"Format: mp3"* ]]; then
  echo "make-sample-audio: sox cannot read MP3 (needed for the checks); install libsox-fmt-mp3" >&2
  exit 2
fi

# Mandarin voice (see the note at the top).
voices=$(espeak-ng --voices=cmn 2>/dev/null || true)
if [[ $voices == *" cmn-latn-pinyin "* ]]; then
  voice=cmn-latn-pinyin
else
  voice=cmn
fi
if [[ $voices != *" $voice "* ]]; then
  echo "make-sample-audio: espeak-ng has no Mandarin voice (cmn); install espeak-ng-data" >&2
  exit 2
fi
if [[ $(espeak-ng -v "$voice" -q -x "今天好") == *"(en)"* ]]; then
  echo "make-sample-audio: espeak-ng voice '$voice' reads Chinese as English pinyin; cannot make Mandarin speech" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p audio/公告 audio/音乐

RATE=22050
# Why VBR and not CBR 32 kbit/s: lame writes its Xing/Info + LAME header (exact
# frame count, encoder delay and padding, which players use for exact length and
# gapless playback) inside one frame at the file's own bitrate when encoding
# CBR. At 22.05 kHz (MPEG-2) a CBR frame below 56 kbit/s is too small for it, so
# lame silently leaves the header out. For VBR it uses a 64 kbit/s header frame,
# so the header is always there. -V 9 -B 32: VBR never above 32 kbit/s, mono,
# 22.05 kHz (lowpass ~7 kHz, plenty for village loudspeakers); about 29 kbit/s
# on average for this speech.
enc() { # enc IN.wav OUT.mp3   (never pass -t: that would drop the header)
  lame --quiet -m m -V 9 -B 32 --resample 22.05 "$1" "$2"
}
say() { # say OUT.mp3 TEXT
  if [[ $(espeak-ng -v "$voice" -q -x "$2") == *"(en)"* ]]; then
    echo "make-sample-audio: espeak-ng would read part of this as English: $2" >&2; exit 1
  fi
  espeak-ng -v "$voice" -s 150 -p 45 -w "$tmp/say.wav" "$2"
  # a short breath of silence at both ends so players don't clip the first syllable
  sox "$tmp/say.wav" -r "$RATE" -c 1 "$tmp/say-pad.wav" pad 0.3 0.5
  enc "$tmp/say-pad.wav" "$1"
}
tone() { # tone OUT.wav SECONDS FREQ... -> soft mixed sine chord, mono
  local out=$1 len=$2; shift 2
  local spec=() f
  for f in "$@"; do spec+=(sine "$f"); done
  sox -r "$RATE" -c "$#" -n -c 1 "$out" synth "$len" "${spec[@]}"
}
# Spell a year digit by digit, the way it is spoken: 2026 -> 二零二六
cn_year() {
  local d=(零 一 二 三 四 五 六 七 八 九) y=$1 out="" i
  for ((i = 0; i < ${#y}; i++)); do out+=${d[${y:i:1}]}; done
  printf '%s' "$out"
}

# --- 提示音: "ding-dong", E5 then C5, each with a faint octave for a bell-ish ring.
tone "$tmp/ding.wav" 0.65 659.25 1318.5 659.25 659.25
tone "$tmp/dong.wav" 0.9  523.25 1046.5 523.25 523.25
sox "$tmp/ding.wav" "$tmp/ding-f.wav" fade q 0.01 0.65 0.5
sox "$tmp/dong.wav" "$tmp/dong-f.wav" fade q 0.01 0.9 0.8
sox "$tmp/ding-f.wav" "$tmp/dong-f.wav" "$tmp/chime.wav" vol 0.7 pad 0 0.05
enc "$tmp/chime.wav" audio/提示音.mp3

# --- 一封信 (open letter)
say audio/一封信.mp3 "致广大市民朋友的一封信。\
广大村民朋友们：冬季是火灾高发季节，请大家注意用火用电安全，不私拉乱接电线，不在室内焚烧秸秆。\
外出务工返乡人员，请主动到村委会登记。\
感谢大家的理解和支持。村民委员会。"

# --- 倡议书 (proposal)
say audio/倡议书.mp3 "倡议书。\
全体村民：让我们移风易俗，崇尚文明节俭，红事新办，白事简办，不大操大办，不攀比浪费。\
请大家做好垃圾分类，把垃圾投放到指定地点，共同保持村庄干净整洁。\
从我做起，从现在做起，共建文明乡村。"

# --- 公告/<date>.mp3: seven daily bulletins, each naming its own date.
bodies=(
  "明天有寒潮，最低气温零下五度，请大家做好防寒保暖，关好门窗。"
  "本周三上午九点，村卫生室为六十岁以上老人免费体检，请带好身份证。"
  "今天下午三点，在村委会召开村民代表大会，请各位代表准时参加。"
  "流感疫苗开始接种，需要接种的村民请到村卫生室登记。"
  "近期电信诈骗多发，陌生电话要求转账，一律不要相信。"
  "明天上午停电检修，时间从八点到十二点，请提前做好准备。"
  "周末道路结冰，开车骑车请减速慢行，注意交通安全。"
)
i=1
for d in 2026-11-29 2026-11-30 2026-12-01 2026-12-02 2026-12-03 2026-12-04 2026-12-05; do
  y=$(cn_year "${d:0:4}"); m=$((10#${d:5:2})); dd=$((10#${d:8:2}))
  say "audio/公告/$d.mp3" "今天是${y}年${m}月${dd}日，第${i}期每日公告。${bodies[i-1]}"
  i=$((i + 1))
done

# --- 音乐: soft sine-chord pads with a slow arpeggio on top.
# Chord tones (Hz) for C, Am, F, G.
declare -A chord=(
  [C]="130.81 261.63 329.63 392.00"
  [Am]="110.00 220.00 261.63 329.63"
  [F]="87.31 174.61 220.00 261.63"
  [G]="98.00 196.00 246.94 293.66"
)
music() { # music OUT.mp3 CHORD_SECONDS NOTE_SECONDS "CHORDS" "NOTES"
  local out=$1 clen=$2 nlen=$3 c n k=0 pads=() mel=()
  for c in $4; do
    # shellcheck disable=SC2086
    tone "$tmp/pad$k.wav" "$clen" ${chord[$c]}
    sox "$tmp/pad$k.wav" "$tmp/padf$k.wav" fade t 0.4 "$clen" 0.6 vol 0.5
    pads+=("$tmp/padf$k.wav"); k=$((k + 1))
  done
  k=0
  for n in $5; do
    tone "$tmp/mel$k.wav" "$nlen" "$n"
    sox "$tmp/mel$k.wav" "$tmp/melf$k.wav" fade q 0.02 "$nlen" "$(awk "BEGIN{print $nlen*0.6}")" vol 0.35
    mel+=("$tmp/melf$k.wav"); k=$((k + 1))
  done
  sox "${pads[@]}" "$tmp/pads.wav"
  sox "${mel[@]}" "$tmp/mel.wav"
  sox -m "$tmp/pads.wav" "$tmp/mel.wav" "$tmp/music.wav" fade t 0.3 -0 1.0 norm -6
  enc "$tmp/music.wav" "$out"
}
# 背景音乐: C Am F G, 2 s each (8 s), melody in half-second steps.
music audio/音乐/背景音乐.mp3 2 0.5 "C Am F G" \
  "523.25 659.25 783.99 659.25  440.00 523.25 659.25 523.25  349.23 440.00 523.25 440.00  392.00 493.88 587.33 493.88"
# 轻 音乐 (the space is deliberate: file names with spaces must work): F G C, 5 s.
music "audio/音乐/轻 音乐.mp3" 1.6667 0.4167 "F G C" \
  "698.46 659.25 587.33 523.25  587.33 659.25 587.33 493.88  523.25 659.25 783.99 1046.50"

# --- Checks: every file decodes all the way, has the expected shape, is not silent.
echo "make-sample-audio: voice $voice"
fail=0
total_files=0
while IFS= read -r -d '' f; do
  total_files=$((total_files + 1))
  if ! dur=$(soxi -D "$f" 2>/dev/null); then
    echo "  FAIL $f: soxi cannot read it" >&2; fail=1; continue
  fi
  rate=$(soxi -r "$f"); chans=$(soxi -c "$f")
  if ! st=$(sox "$f" -n stat 2>&1); then
    echo "  FAIL $f: does not decode" >&2; fail=1; continue
  fi
  rms=$(awk '/^RMS +amplitude/ {print $3}' <<<"$st")
  size=$(stat -c %s "$f")
  case $f in audio/音乐/*|audio/提示音.mp3) min=0.01 ;; *) min=0.02 ;; esac
  if ! awk -v r="$rms" -v m="$min" 'BEGIN{exit !(r > m)}'; then
    echo "  FAIL $f: almost silent (RMS $rms, want > $min)" >&2; fail=1
  fi
  if [[ $rate != 22050 || $chans != 1 ]]; then
    echo "  FAIL $f: $rate Hz, $chans channel(s); want 22050 Hz mono" >&2; fail=1
  fi
  hdr=$(head -c 4096 "$f" | LC_ALL=C tr -c 'A-Za-z' '.')
  if [[ $hdr != *Xing* && $hdr != *Info* ]]; then
    echo "  FAIL $f: no Xing/Info header" >&2; fail=1
  fi
  printf '  %6.2f s  %7d B  RMS %-8s  %s\n' "$dur" "$size" "$rms" "$f"
done < <(find audio -type f -name '*.mp3' -print0 | LC_ALL=C sort -z)

kb=$(du -sk audio | cut -f1)
du -sh audio
if ((total_files < 12)); then echo "  FAIL: expected at least 12 MP3 files, found $total_files" >&2; fail=1; fi
if ((kb >= 2048)); then echo "  FAIL: audio/ is ${kb} KiB, must stay under 2 MiB" >&2; fail=1; fi
((fail == 0)) || { echo "make-sample-audio: checks failed" >&2; exit 1; }
echo "make-sample-audio: all $total_files files decode and are not silent"
