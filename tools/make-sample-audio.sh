#!/usr/bin/env bash
# Regenerates the sample station's audio/ folder: real Mandarin speech from
# espeak-ng (-v cmn), encoded to small mono MP3s with lame, plus a chime and
# music beds synthesised with sox. Needs: espeak-ng lame sox.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in espeak-ng lame sox; do
  command -v "$t" >/dev/null || { echo "make-sample-audio: $t is missing (apt-get install espeak-ng lame sox)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p audio/公告 audio/音乐

enc() { # enc IN.wav OUT.mp3
  lame --quiet -m m -b 32 --resample 22.05 "$1" "$2"
}
say() { # say OUT.mp3 TEXT
  espeak-ng -v cmn -s 160 -w "$tmp/say.wav" "$2"
  enc "$tmp/say.wav" "$1"
}

# 提示音: a two-note "ding-dong".
sox -n -r 22050 -c 1 "$tmp/d1.wav" synth 0.7 sine 659.25 fade q 0.01 0.7 0.6
sox -n -r 22050 -c 1 "$tmp/d2.wav" synth 0.9 sine 523.25 fade q 0.01 0.9 0.8
sox "$tmp/d1.wav" "$tmp/d2.wav" "$tmp/chime.wav" vol 0.6
enc "$tmp/chime.wav" audio/提示音.mp3

say audio/一封信.mp3 "致广大村民朋友的一封信。广大村民朋友们：冬季是火灾高发季节，请大家注意用火用电安全，不私拉乱接电线，不在室内焚烧秸秆。外出务工返乡人员，请主动到村委会登记。感谢大家的理解和支持。村民委员会。"
say audio/倡议书.mp3 "移风易俗倡议书。全体村民：让我们崇尚文明节俭，红事新办，白事简办，不大操大办，不攀比浪费。从我做起，从现在做起，共建文明乡村。"

i=1
for d in 2026-11-29 2026-11-30 2026-12-01 2026-12-02 2026-12-03 2026-12-04 2026-12-05; do
  y=${d:0:4}; m=$((10#${d:5:2})); dd=$((10#${d:8:2}))
  case $i in
    1) body="明天有寒潮，最低气温零下五度，请大家做好防寒保暖。" ;;
    2) body="本周三上午九点，村卫生室为六十岁以上老人免费体检。" ;;
    3) body="今天下午三点，在村委会召开村民代表大会，请准时参加。" ;;
    4) body="请各家各户把垃圾分类投放到指定地点，不要乱倒乱扔。" ;;
    5) body="近期电信诈骗多发，陌生电话要求转账一律不要相信。" ;;
    6) body="明天上午停电检修，时间从八点到十二点，请提前做好准备。" ;;
    7) body="周末道路结冰，开车骑车请减速慢行，注意交通安全。" ;;
  esac
  say "audio/公告/$d.mp3" "今天是${y}年${m}月${dd}日，第${i}期每日公告。${body}"
  i=$((i+1))
done

# Music beds: short sine melodies.
notes=(261.63 329.63 392.00 523.25 392.00 329.63 293.66 349.23 440.00 349.23 293.66 261.63)
parts=()
for n in "${!notes[@]}"; do
  sox -n -r 22050 -c 1 "$tmp/n$n.wav" synth 0.65 sine "${notes[$n]}" fade q 0.02 0.65 0.3 vol 0.4
  parts+=("$tmp/n$n.wav")
done
sox "${parts[@]}" "$tmp/bed.wav"
enc "$tmp/bed.wav" audio/音乐/背景音乐.mp3
sox "${parts[@]:0:8}" "$tmp/light.wav" speed 1.25
enc "$tmp/light.wav" "audio/音乐/轻 音乐.mp3"

for f in audio/*.mp3 audio/*/*.mp3; do
  printf '%6.2fs  %6s  %s\n' "$(soxi -D "$f")" "$(du -h "$f" | cut -f1)" "$f"
done
du -sh audio
