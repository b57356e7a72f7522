//! ONNX Runtime, loaded once per process from the data dir (or `ORT_DYLIB_PATH`), for every ONNX
//! model dubber runs: Piper voices and the Silero voice-activity detector.

use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::models::DataDir;

static RUNTIME: OnceLock<Result<Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime from `library` (once per process; later calls reuse the first).
pub fn init(library: &Path) -> Result<(), String> {
    runtime(Some(library)).map(|_| ())
}

/// The process's ONNX Runtime, loaded on first use from `library` or the data dir.
pub fn runtime(library: Option<&Path>) -> Result<&'static Environment, String> {
    let result = RUNTIME.get_or_init(|| {
        let path = match library {
            Some(path) => path.to_path_buf(),
            None => DataDir::from_env()
                .and_then(|d| d.onnxruntime_from_env(None))
                .map_err(|e| e.to_string())?,
        };
        let builder = ort::init_from(&path)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))?;
        builder
            .with_name("dubber")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", path.display()))
    });
    result.as_ref().map_err(Clone::clone)
}
