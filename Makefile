# The steps behind the README's commands. Builds share one target directory outside the clone so
# that a fresh clone (and CI) does not rebuild every dependency.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/dubber/target
CARGO_JOBS ?= 2
# The dev profile optimises dependencies fully (Cargo.toml), and shares its artifacts with the tests.
DUBBER := $(CARGO_TARGET_DIR)/debug/dubber

.PHONY: setup build demo test lint ci

setup:
	@bash scripts/setup.sh

build: setup
	cargo build -j$(CARGO_JOBS)

# The main job on the offline defaults: prep a sample subtitle file into out/demo.dub.
demo: build
	$(DUBBER) prep examples/sample.mp4 --subtitles examples/sample.srt --workdir out/demo.dub --force
	@echo "Review out/demo.dub/subs.srt and out/demo.dub/manifest.json"

test: setup
	cargo test -j$(CARGO_JOBS)

lint:
	cargo fmt --all -- --check
	cargo clippy -j$(CARGO_JOBS) --all-targets -- -D warnings

ci: setup lint test
