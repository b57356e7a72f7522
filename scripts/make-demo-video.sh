#!/usr/bin/env bash
# Make a 30 s demo video: an ffmpeg test pattern, five English sentences spoken by espeak-ng at
# known times, and a quiet two-tone "music" bed under them. Used by `make demo` and the tests.
# Usage: scripts/make-demo-video.sh OUT.mp4 [SECONDS]
set -euo pipefail
out=${1:?usage: make-demo-video.sh OUT.mp4 [SECONDS]}
length=${2:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# start time (ms) | sentence
lines=(
  "1000|Welcome to this short demonstration of automatic dubbing."
  "7000|Every line starts exactly where the original line started."
  "13000|Speech is never cut off, and never rushed past the limit."
  "19000|The music underneath stays audible between the lines."
  "25000|Thank you for watching this demo."
)
inputs=()
filters=""
i=0
for entry in "${lines[@]}"; do
  start=${entry%%|*}
  text=${entry#*|}
  espeak-ng -v en-us -s 165 -w "$tmp/$i.wav" "$text"
  inputs+=(-i "$tmp/$i.wav")
  filters+="[$i:a]aresample=48000,adelay=${start}|${start}[s$i];"
  i=$((i + 1))
done
mix=""
for ((k = 0; k < i; k++)); do mix+="[s$k]"; done
filters+="${mix}amix=inputs=$i:normalize=0:duration=longest,apad[speech];"
filters+="sine=frequency=220:sample_rate=48000:duration=$length[m1];"
filters+="sine=frequency=330:sample_rate=48000:duration=$length[m2];"
filters+="[m1][m2]amix=inputs=2:normalize=0,volume=0.5[music];"
filters+="[speech][music]amix=inputs=2:normalize=0:duration=shortest,atrim=0:$length[a]"

ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" \
  -f lavfi -i "testsrc2=size=320x240:rate=25:duration=$length" \
  -filter_complex "$filters" \
  -map "$i:v" -map "[a]" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 \
  -c:a aac -b:a 96k -t "$length" "$out"
