//! The data dir (models, voices, measured registers), resolved once per process: every part of
//! the CLI asks here, so `DUBBER_HOME` and the platform's default are read in one place.

use dubber::models::{DataDir, ModelError};

/// The data dir the environment names (`DUBBER_HOME`, else the platform's); `None` when the
/// environment names none.
pub fn data_dir() -> Option<&'static DataDir> {
    static DATA: std::sync::OnceLock<Option<DataDir>> = std::sync::OnceLock::new();
    DATA.get_or_init(|| DataDir::from_env().ok()).as_ref()
}

/// [`data_dir`], or the error saying none is named.
pub fn require_data_dir() -> Result<&'static DataDir, ModelError> {
    data_dir().ok_or(ModelError::NoDataDir)
}
