//! `dubber models fetch NAME`: download a model or voice from its canonical source into the data
//! dir, with progress and a checksum.
//!
//! Sources are Hugging Face repositories (`Systran/faster-whisper-*`, `rhasspy/piper-voices`).
//! Each file is streamed to a temporary name, hashed with SHA-256 on the way, checked, then
//! renamed, so an interrupted, stalled or corrupted download never looks installed. The expected
//! hash comes from the catalogue when known, else from the server's ETag when it is a SHA-256
//! (Hugging Face serves large files with their SHA-256 as ETag). Anything else (a small file's
//! SHA-1 ETag, no ETag) verifies nothing: such a file is installed but reported as unverified,
//! and the `SOURCE` note records the hash of what arrived either way.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{DataDir, ModelKind, voice_config_path};

/// Canonical host of the models.
pub const HUGGING_FACE: &str = "https://huggingface.co";

/// Whisper sizes that have a faster-whisper conversion at `Systran/faster-whisper-<size>`.
pub const WHISPER_SIZES: [&str; 8] = [
    "tiny.en",
    "tiny",
    "base.en",
    "base",
    "small.en",
    "small",
    "medium.en",
    "medium",
];

/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// Where it goes, relative to the data dir.
    pub target: PathBuf,
    /// Where it comes from.
    pub url: String,
    /// Expected SHA-256 (hex), when known ahead.
    pub sha256: Option<String>,
}

/// A fetchable model or voice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteModel {
    /// Name as given to `dubber models fetch`.
    pub name: String,
    /// Kind.
    pub kind: ModelKind,
    /// Its files.
    pub files: Vec<RemoteFile>,
    /// The `SOURCE` note's path relative to the data dir.
    pub source_note: PathBuf,
}

/// How long a download may go without receiving a byte before it counts as stalled.
pub const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What [`fetch`] installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The model folder or the voice's `.onnx`.
    pub path: PathBuf,
    /// URLs of the files no known SHA-256 could check (installed as they arrived).
    pub unverified: Vec<String>,
}

/// Errors fetching.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The name is neither a Whisper size nor a Piper voice name.
    #[error(
        "unknown model '{0}': use a Whisper size ({sizes}) or a Piper voice like en_US-joe-medium",
        sizes = WHISPER_SIZES.join(", ")
    )]
    UnknownModel(String),
    /// The download failed.
    #[error("downloading {url}: {message}")]
    Download {
        /// The file's URL.
        url: String,
        /// Cause.
        message: String,
    },
    /// The file arrived but its hash is wrong.
    #[error("checksum mismatch for {url}: expected sha256 {expected}, got {actual}")]
    Checksum {
        /// The file's URL.
        url: String,
        /// Expected hash.
        expected: String,
        /// Hash of what arrived.
        actual: String,
    },
    /// Writing to the data dir failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// Resolves `name` to its files at `host` (normally [`HUGGING_FACE`]): a Whisper size, or a Piper
/// voice `<lang>_<REGION>-<name>-<quality>` (e.g. `en_US-joe-medium`).
pub fn remote_model(name: &str, host: &str) -> Result<RemoteModel, FetchError> {
    let host = host.trim_end_matches('/');
    if WHISPER_SIZES.contains(&name) {
        let dir = PathBuf::from("models/whisper").join(name);
        let files = [
            "config.json",
            "model.bin",
            "tokenizer.json",
            "vocabulary.txt",
        ]
        .iter()
        .map(|file| RemoteFile {
            target: dir.join(file),
            url: format!("{host}/Systran/faster-whisper-{name}/resolve/main/{file}"),
            sha256: None,
        })
        .collect();
        return Ok(RemoteModel {
            name: name.to_string(),
            kind: ModelKind::Whisper,
            files,
            source_note: dir.join("SOURCE"),
        });
    }
    // Piper voices live at <family>/<lang_REGION>/<name>/<quality>/<voice>.onnx
    let parts: Vec<&str> = name.split('-').collect();
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let [locale, speaker, quality] = parts.as_slice() else {
        return Err(FetchError::UnknownModel(name.to_string()));
    };
    let family = locale.split('_').next().unwrap_or_default();
    if ![locale, speaker, quality].iter().all(|s| valid(s)) || !locale.contains('_') {
        return Err(FetchError::UnknownModel(name.to_string()));
    }
    let base =
        format!("{host}/rhasspy/piper-voices/resolve/main/{family}/{locale}/{speaker}/{quality}");
    let onnx = PathBuf::from("voices").join(format!("{name}.onnx"));
    let files = vec![
        RemoteFile {
            target: voice_config_path(&onnx),
            url: format!("{base}/{name}.onnx.json"),
            sha256: None,
        },
        RemoteFile {
            target: onnx,
            url: format!("{base}/{name}.onnx"),
            sha256: None,
        },
    ];
    Ok(RemoteModel {
        name: name.to_string(),
        kind: ModelKind::PiperVoice,
        files,
        source_note: PathBuf::from("voices").join(format!("{name}.SOURCE")),
    })
}

/// Downloads every file of `model` into `data`, calling `progress(file index, bytes so far,
/// total bytes if known)` as bytes arrive; a download silent for [`STALL_TIMEOUT`] fails.
pub async fn fetch(
    data: &DataDir,
    model: &RemoteModel,
    progress: &(dyn Fn(usize, u64, Option<u64>) + Send + Sync),
) -> Result<Fetched, FetchError> {
    fetch_with_stall_timeout(data, model, progress, STALL_TIMEOUT).await
}

/// [`fetch`] with another stall timeout.
pub async fn fetch_with_stall_timeout(
    data: &DataDir,
    model: &RemoteModel,
    progress: &(dyn Fn(usize, u64, Option<u64>) + Send + Sync),
    stall: std::time::Duration,
) -> Result<Fetched, FetchError> {
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| FetchError::Download {
            url: String::new(),
            message: e.to_string(),
        })?;
    let mut note = String::new();
    let mut unverified = Vec::new();
    for (index, file) in model.files.iter().enumerate() {
        let path = data.root().join(&file.target);
        let (hash, verified) = download(&client, file, &path, stall, &|done, total| {
            progress(index, done, total)
        })
        .await?;
        note.push_str(&format!("{} {hash} {}\n", file.url, file.target.display()));
        if !verified {
            unverified.push(file.url.clone());
        }
    }
    let note_path = data.root().join(&model.source_note);
    std::fs::write(&note_path, note).map_err(|source| FetchError::Io {
        path: note_path,
        source,
    })?;
    let path = match model.kind {
        ModelKind::Whisper => data.whisper_models_dir().join(&model.name),
        _ => data.voices_dir().join(format!("{}.onnx", model.name)),
    };
    Ok(Fetched { path, unverified })
}

/// Streams one file to a temporary name while hashing, checks the hash, renames into place.
/// Returns the SHA-256 of what arrived, and whether a known hash checked it.
async fn download(
    client: &reqwest::Client,
    file: &RemoteFile,
    path: &Path,
    stall: std::time::Duration,
    progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
) -> Result<(String, bool), FetchError> {
    let failed = |message: String| FetchError::Download {
        url: file.url.clone(),
        message,
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FetchError::Io { path, source }
    };
    let stalled = || {
        failed(format!(
            "stalled: nothing arrived for {} s",
            stall.as_secs()
        ))
    };
    let mut response = tokio::time::timeout(stall, client.get(&file.url).send())
        .await
        .map_err(|_| stalled())?
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    // Hugging Face gives large (LFS) files' SHA-256 as the ETag of the final response.
    let server_sha = ["x-linked-etag", "etag"].iter().find_map(|h| {
        let value = response.headers().get(*h)?.to_str().ok()?;
        let value = value
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_lowercase();
        (value.len() == 64 && value.chars().all(|c| c.is_ascii_hexdigit())).then_some(value)
    });
    let expected = file.sha256.clone().or(server_sha);
    let total = response.content_length();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    // Removed when dropped unfinished (an error, Ctrl-C).
    let part = crate::fsutil::TempFile::beside(path);
    let mut out = std::fs::File::create(part.path()).map_err(io(part.path()))?;
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    progress(0, total);
    loop {
        let chunk = match tokio::time::timeout(stall, response.chunk()).await {
            Err(_) => return Err(stalled()),
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => return Err(failed(e.to_string())),
        };
        hasher.update(&chunk);
        out.write_all(&chunk).map_err(io(part.path()))?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    out.flush().map_err(io(part.path()))?;
    drop(out);
    let actual = format!("{:x}", hasher.finalize());
    if let Some(total) = total.filter(|&t| t != done) {
        return Err(failed(format!("got {done} of {total} bytes")));
    }
    let verified = expected.is_some();
    if let Some(expected) = expected.filter(|e| *e != actual) {
        return Err(FetchError::Checksum {
            url: file.url.clone(),
            expected,
            actual,
        });
    }
    part.persist(path).map_err(io(path))?;
    Ok((actual, verified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_hugging_face_paths() {
        let whisper = remote_model("base.en", HUGGING_FACE).unwrap();
        assert_eq!(whisper.kind, ModelKind::Whisper);
        assert_eq!(whisper.files.len(), 4);
        assert_eq!(
            whisper.files[1].url,
            "https://huggingface.co/Systran/faster-whisper-base.en/resolve/main/model.bin"
        );
        assert_eq!(
            whisper.files[1].target,
            PathBuf::from("models/whisper/base.en/model.bin")
        );
        let voice = remote_model("en_US-joe-medium", "http://127.0.0.1:9/").unwrap();
        assert_eq!(
            voice.files[1].url,
            "http://127.0.0.1:9/rhasspy/piper-voices/resolve/main/en/en_US/joe/medium/en_US-joe-medium.onnx"
        );
        assert_eq!(
            voice.files[0].target,
            PathBuf::from("voices/en_US-joe-medium.onnx.json")
        );
        for bad in ["large-v9", "en_US-joe", "../x-y-z", "enUS-joe-medium"] {
            assert!(
                matches!(
                    remote_model(bad, HUGGING_FACE),
                    Err(FetchError::UnknownModel(_))
                ),
                "{bad}"
            );
        }
    }
}
