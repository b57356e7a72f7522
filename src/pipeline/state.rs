//! `state.json`: hashes of what each stage read and wrote, so that a stage can tell work already
//! done from work whose inputs changed, and prep can tell a person's edits from its own output.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of a file, read in blocks (a 2-hour track is never held in memory).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Recorded hashes, by name (`"prep.subs"`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub hashes: BTreeMap<String, String>,
}

impl State {
    /// Load the state file; a missing or unreadable one is an empty state (work is redone, never
    /// skipped wrongly).
    pub fn load(path: &Path) -> State {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        crate::fsutil::write_json_atomic(path, self)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.hashes.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: &str, hash: String) {
        self.hashes.insert(key.to_string(), hash);
    }
}
