//! The content-addressed clip cache: `<dir>/<sha256>.wav`, where the hash covers everything that
//! changes the audio (engine signature — provider and base URL —, model, voice, instructions,
//! speed, format, text).
//!
//! Why content addressing: a re-run of an unchanged job finds every clip and makes zero requests,
//! and editing one line changes one key, so only that line is synthesized again. Nothing needs
//! invalidating by hand. Files are written under a temporary name in the same directory and
//! renamed, so a crash or Ctrl-C never leaves a half-written clip under a real name; every file is
//! still validated when read (it decodes and lasts longer than zero), and a bad one is deleted so
//! the runner synthesizes it again. Every clip is stored as a plain 16-bit PCM WAV, whatever the
//! engine sent, so readers need no knowledge of the provider.
//!
//! Why separate: the runner, `synthesize_batch` and the pipeline all find clips by key; the cache
//! knows nothing of engines or scheduling and imports only the request and error types.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::error::TtsError;
use super::request::{SynthAudio, SynthRequest};
use crate::audio::Pcm;

/// Bumped when the key layout or the stored file format changes.
const KEY_VERSION: &str = "dubber-tts-cache-v1";

/// The SHA-256 (hex) naming one clip.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of `req` synthesized by the engine with `signature`
    /// ([`Synthesizer::cache_signature`](super::Synthesizer::cache_signature)).
    pub fn new(signature: &str, req: &SynthRequest) -> Self {
        let mut hash = Sha256::new();
        // Length-prefixed fields, so no two different requests can produce the same byte stream.
        let mut field = |name: &str, value: &str| {
            hash.update(name.as_bytes());
            hash.update((value.len() as u64).to_le_bytes());
            hash.update(value.as_bytes());
        };
        field("version", KEY_VERSION);
        field("engine", signature);
        field("model", &req.model);
        field("voice", &req.voice);
        match &req.instructions {
            Some(i) if !i.is_empty() => field("instructions", i),
            _ => field("no-instructions", ""),
        }
        field("speed", &format!("{:?}", req.speed));
        field("format", &req.format.tag());
        field("text", &req.text);
        let digest = hash.finalize();
        CacheKey(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A synthesized clip on disk: a 16-bit PCM WAV file in the cache (the samples themselves, in
/// memory, are a [`crate::audio::Clip`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CachedClip {
    pub path: PathBuf,
    pub duration: Duration,
    pub sample_rate: u32,
    /// Found in the cache rather than synthesized by this run.
    pub from_cache: bool,
}

/// A directory of clips named by [`CacheKey`].
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// Use (and create if needed) the directory `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, TtsError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| TtsError::Cache {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the clip for `key` lives (whether or not it exists yet).
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.wav", key.as_str()))
    }

    /// The valid clip for `key`, if any. A file that does not decode or is empty is deleted (so it
    /// is synthesized again) and reported as absent.
    pub fn get(&self, key: &CacheKey) -> Result<Option<CachedClip>, TtsError> {
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(TtsError::Cache { path, source }),
        };
        match Pcm::from_wav(&bytes) {
            Ok(pcm) => Ok(Some(clip(path, &pcm, true))),
            Err(why) => {
                tracing::warn!(path = %path.display(), %why, "deleting a bad cache file");
                match std::fs::remove_file(&path) {
                    Ok(()) => Ok(None),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(TtsError::Cache { path, source }),
                }
            }
        }
    }

    /// Validate `audio` and store it under `key` (atomically).
    pub fn put(&self, key: &CacheKey, audio: &SynthAudio) -> Result<CachedClip, TtsError> {
        let pcm = audio.decode().map_err(|message| TtsError::InvalidAudio {
            path: self.path(key),
            message,
        })?;
        self.put_pcm(key, &pcm)
    }

    pub(crate) fn put_pcm(&self, key: &CacheKey, pcm: &Pcm) -> Result<CachedClip, TtsError> {
        let path = self.path(key);
        let wav = pcm.to_wav().map_err(|message| TtsError::InvalidAudio {
            path: path.clone(),
            message,
        })?;
        crate::fsutil::write_atomic_unsynced(&path, &wav).map_err(|source| TtsError::Cache {
            path: path.clone(),
            source,
        })?;
        Ok(clip(path, pcm, false))
    }
}

fn clip(path: PathBuf, pcm: &Pcm, from_cache: bool) -> CachedClip {
    CachedClip {
        path,
        duration: pcm.duration(),
        sample_rate: pcm.sample_rate,
        from_cache,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::request::AudioFormat;

    #[test]
    fn key_changes_with_every_field_and_only_then() {
        let base = SynthRequest::new("Hello.", "onyx", "gpt-4o-mini-tts");
        let k = |sig: &str, r: &SynthRequest| CacheKey::new(sig, r);
        let k0 = k("openai|http://a", &base);
        assert_eq!(k0, k("openai|http://a", &base.clone()));
        assert_eq!(k0.as_str().len(), 64);
        let mut variants = vec![k("openai|http://b", &base), k("elevenlabs|http://a", &base)];
        let mut r = base.clone();
        r.text = "Hello!".into();
        variants.push(k("openai|http://a", &r));
        let mut r = base.clone();
        r.voice = "alloy".into();
        variants.push(k("openai|http://a", &r));
        let mut r = base.clone();
        r.model = "tts-1".into();
        variants.push(k("openai|http://a", &r));
        let mut r = base.clone();
        r.instructions = Some("calm".into());
        variants.push(k("openai|http://a", &r));
        let mut r = base.clone();
        r.speed = 1.25;
        variants.push(k("openai|http://a", &r));
        let mut r = base.clone();
        r.format = AudioFormat::Pcm16 {
            sample_rate: 24_000,
        };
        variants.push(k("openai|http://a", &r));
        for v in &variants {
            assert_ne!(*v, k0);
        }
        let mut all = variants.clone();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), variants.len());
    }
}
