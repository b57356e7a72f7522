//! `state.json`: fingerprints of what each step read and wrote, so that a step can tell work
//! already done from work whose inputs changed, and prep can tell a person's edits from its own
//! output.
//!
//! Keys are a closed enum ([`Step`]), and fingerprints are built from typed parts
//! ([`Fingerprint`]): a value is hashed as its JSON serialisation, never as `Debug` output, so a
//! fingerprint changes exactly when a setting that shapes the output does.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Hex SHA-256 of a file, read in blocks (a 2-hour track is never held in memory).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A step whose inputs `state.json` remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// The `subs.srt` prep last wrote (to tell a person's edits from prep's own output).
    PrepSubtitles,
    /// What prep read: the subtitle file or transcript, the options, the edits and their model.
    PrepInput,
    /// What the transcript was made from: the video file, the engine, the options.
    Transcript,
    /// The same for the English translation of the speech (Whisper's translate task).
    TranslatedTranscript,
    /// What the last mux was made from: the video, the output path, the options, the track.
    Mux,
}

impl Step {
    /// The key in `state.json` (stable: work directories outlive versions).
    pub fn key(self) -> &'static str {
        match self {
            Step::PrepSubtitles => "prep.subs_srt",
            Step::PrepInput => "prep.input",
            Step::Transcript => "prep.transcript",
            Step::TranslatedTranscript => "prep.transcript_en",
            Step::Mux => "synth.mux",
        }
    }
}

/// A hash built from typed parts, each length-prefixed so that no two lists of parts collide.
#[derive(Clone, Default)]
pub struct Fingerprint {
    hasher: Sha256,
}

impl Fingerprint {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add raw bytes (a file's content, a hash).
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
        self
    }

    /// Add a text (a path, a model name).
    pub fn text(self, text: &str) -> Self {
        self.bytes(text.as_bytes())
    }

    /// Add a value as its JSON serialisation (options, segments).
    pub fn value<T: Serialize + ?Sized>(self, value: &T) -> Self {
        // Serialising plain data to a Vec cannot fail; an impossible failure hashes as empty and
        // so only ever causes work to be redone.
        let json = serde_json::to_vec(value).unwrap_or_default();
        self.bytes(&json)
    }

    pub fn finish(self) -> String {
        hex(&self.hasher.finalize())
    }
}

/// Recorded fingerprints, by step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    hashes: BTreeMap<String, String>,
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

    pub fn get(&self, step: Step) -> Option<&str> {
        self.hashes.get(step.key()).map(String::as_str)
    }

    pub fn set(&mut self, step: Step, hash: String) {
        self.hashes.insert(step.key().to_string(), hash);
    }

    /// True when `step` was last done from exactly `hash`.
    pub fn is(&self, step: Step, hash: &str) -> bool {
        self.get(step) == Some(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_parts_do_not_run_together() {
        let ab_c = Fingerprint::new().text("ab").text("c").finish();
        let a_bc = Fingerprint::new().text("a").text("bc").finish();
        assert_ne!(ab_c, a_bc);
        assert_eq!(ab_c, Fingerprint::new().text("ab").text("c").finish());
    }

    #[test]
    fn state_round_trips_under_stable_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut state = State::default();
        state.set(Step::Mux, "abc".into());
        state.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"synth.mux\": \"abc\""), "{text}");
        let loaded = State::load(&path);
        assert!(loaded.is(Step::Mux, "abc"));
        assert_eq!(loaded.get(Step::PrepInput), None);
    }
}
