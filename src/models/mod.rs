//! Where the offline engines find their files: Whisper models, Piper voices and the ONNX Runtime
//! library.
//!
//! Everything lives in one data directory (`DUBBER_HOME`, else the platform's data dir) so that
//! `scripts/setup-models.sh`, `dubber models list` and the engines agree on one layout:
//!
//! ```text
//! <data dir>/lib/libonnxruntime.so
//! <data dir>/models/whisper/<name>/{model.bin,config.json,tokenizer.json,vocabulary.txt}
//! <data dir>/models/vad/silero_vad_v6.onnx
//! <data dir>/models/speaker/resemblyzer-ge2e.pt
//! <data dir>/models/ecapa/ecapa-voxceleb.ckpt
//! <data dir>/voices/<name>.onnx, <name>.onnx.json
//! ```
//!
//! Each file is resolved in the same order: an explicit path (from the CLI) → an environment
//! variable → the data directory. When nothing is found, the error says how to install it,
//! because "file not found" alone leaves a user stuck.
//!
//! The parts depend on each other one way only:
//!
//! - `datadir`: the data directory, the environment variables and the resolution of each file;
//! - `catalog`: what is installed in the data directory, for `dubber models list` (uses
//!   `datadir`);
//! - [`fetch`]: downloads into the data directory (uses both).

mod catalog;
mod datadir;
pub mod fetch;

pub use catalog::{InstalledModel, ModelKind};
pub use datadir::{
    DEFAULT_PIPER_VOICE, DEFAULT_WHISPER_MODEL, DataDir, ECAPA_MODEL_FILE, HOME_ENV,
    MULTILINGUAL_WHISPER_MODEL, ModelError, ORT_DYLIB_ENV, PIPER_VOICE_ENV, SETUP_COMMAND,
    SPEAKER_MODEL_FILE, VAD_MODEL_FILE, WHISPER_MODEL_ENV, voice_config_path,
};

/// Writes `bytes` zero bytes at `path`, making its folders (a stand-in model file for tests).
#[cfg(test)]
fn touch(path: &std::path::Path, bytes: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, vec![0u8; bytes]).unwrap();
}
