//! The data directory and how each offline file is found in it.
//!
//! Takes an explicit path or name (from the CLI), an environment variable's value and the data
//! directory, in that order, and returns the first that names a complete Whisper model folder, a
//! Piper voice with its config, or the ONNX Runtime library; when none does, a
//! [`ModelError::Missing`] that says where it looked and how to install the file. The data
//! directory itself comes from `DUBBER_HOME`, else the platform's data dir. The `*_from_env`
//! methods read the process environment; the others take the values, so the rules can be tested
//! without touching it. Separate from the listing (`catalog`) and the downloads (`fetch`), which
//! build on this layout.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable naming the data directory.
pub const HOME_ENV: &str = "DUBBER_HOME";
/// Environment variable naming a Whisper model (a folder, or a model name in the data dir).
pub const WHISPER_MODEL_ENV: &str = "DUBBER_WHISPER_MODEL";
/// Environment variable naming a Piper voice (an `.onnx` file, or a voice name in the data dir).
pub const PIPER_VOICE_ENV: &str = "DUBBER_PIPER_VOICE";
/// Environment variable naming the ONNX Runtime library (the variable `ort` itself uses).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// The English-only Whisper model: the one used when no multilingual model is installed.
pub const DEFAULT_WHISPER_MODEL: &str = "tiny.en";
/// The multilingual Whisper model used when none is named: detects the language, transcribes
/// every language, translates into English.
pub const MULTILINGUAL_WHISPER_MODEL: &str = "base";
/// The Silero voice-activity model file, in `<data dir>/models/vad/`.
pub const VAD_MODEL_FILE: &str = "silero_vad_v6.onnx";
/// The speaker encoder (Resemblyzer's GE2E weights), in `<data dir>/models/speaker/`.
pub const SPEAKER_MODEL_FILE: &str = "resemblyzer-ge2e.pt";
/// The ECAPA-TDNN speaker encoder (SpeechBrain's `spkrec-ecapa-voxceleb` checkpoint, unchanged),
/// in `<data dir>/models/ecapa/`: the default speaker encoder.
pub const ECAPA_MODEL_FILE: &str = "ecapa-voxceleb.ckpt";
/// File name of the voice/music separation model (Spleeter 2-stems, converted to ONNX at setup).
pub const SEPARATION_MODEL_FILE: &str = "spleeter-2stems.onnx";
/// The Piper voice used when none is named.
pub const DEFAULT_PIPER_VOICE: &str = "en_US-joe-medium";

/// The command that installs the default offline models.
pub const SETUP_COMMAND: &str = "scripts/setup-models.sh";

/// Files a faster-whisper (CTranslate2) model folder must hold.
pub(super) const WHISPER_FILES: [&str; 4] = [
    "model.bin",
    "config.json",
    "tokenizer.json",
    "vocabulary.txt",
];

/// Errors finding models, voices and libraries.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Neither `DUBBER_HOME` nor a home directory is known.
    #[error("cannot locate dubber's data directory: set {HOME_ENV} to a folder")]
    NoDataDir,
    /// A required file or folder is missing; `hint` says how to install it.
    #[error("{what} not found at {}\n  {hint}", path.display())]
    Missing {
        /// What was looked for, e.g. "Whisper model 'tiny.en'".
        what: String,
        /// Where it was looked for.
        path: PathBuf,
        /// How to install it.
        hint: String,
    },
    /// A folder could not be listed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// dubber's data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at an explicit place.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The data directory from `DUBBER_HOME`, else the platform's data dir.
    pub fn from_env() -> Result<Self, ModelError> {
        Self::from_vars(
            std::env::var_os(HOME_ENV),
            std::env::var_os("XDG_DATA_HOME"),
            std::env::var_os("HOME"),
        )
    }

    /// The data directory from explicit values of `DUBBER_HOME`, `XDG_DATA_HOME` and `HOME`
    /// (so the rule can be tested without touching the process environment).
    pub fn from_vars(
        dubber_home: Option<OsString>,
        xdg_data_home: Option<OsString>,
        home: Option<OsString>,
    ) -> Result<Self, ModelError> {
        let non_empty = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(root) = non_empty(dubber_home) {
            return Ok(Self::at(root));
        }
        let home = non_empty(home);
        if cfg!(target_os = "macos") {
            let home = home.ok_or(ModelError::NoDataDir)?;
            return Ok(Self::at(home.join("Library/Application Support/dubber")));
        }
        if let Some(xdg) = non_empty(xdg_data_home) {
            return Ok(Self::at(xdg.join("dubber")));
        }
        let home = home.ok_or(ModelError::NoDataDir)?;
        Ok(Self::at(home.join(".local/share/dubber")))
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Folder of Whisper models.
    pub fn whisper_models_dir(&self) -> PathBuf {
        self.root.join("models").join("whisper")
    }

    /// Folder of Piper voices.
    pub fn voices_dir(&self) -> PathBuf {
        self.root.join("voices")
    }

    /// Where the ONNX Runtime library is installed.
    pub fn onnxruntime_path(&self) -> PathBuf {
        let file = if cfg!(target_os = "macos") {
            "libonnxruntime.dylib"
        } else if cfg!(windows) {
            "onnxruntime.dll"
        } else {
            "libonnxruntime.so"
        };
        self.root.join("lib").join(file)
    }

    /// Finds a Whisper model folder: `cli` → `env` → `<data dir>/models/whisper/tiny.en`.
    /// Each value may be a folder path or the name of a model in the data dir.
    pub fn whisper_model(
        &self,
        cli: Option<&str>,
        env: Option<&str>,
    ) -> Result<PathBuf, ModelError> {
        let chosen = cli.or(env).filter(|s| !s.is_empty());
        let name = chosen.unwrap_or(DEFAULT_WHISPER_MODEL);
        let as_path = Path::new(name);
        let dir = if chosen.is_some() && as_path.is_dir() {
            as_path.to_path_buf()
        } else {
            self.whisper_models_dir().join(name)
        };
        let complete = WHISPER_FILES.iter().all(|f| dir.join(f).is_file());
        if complete {
            return Ok(dir);
        }
        Err(ModelError::Missing {
            what: format!("Whisper model '{name}'"),
            path: dir,
            hint: format!(
                "install the default (tiny.en) with `{SETUP_COMMAND}`, or point --stt-model or \
                 {WHISPER_MODEL_ENV} at a faster-whisper model folder ({}) such as Hugging Face \
                 Systran/faster-whisper-tiny.en",
                WHISPER_FILES.join(", ")
            ),
        })
    }

    /// The installed Whisper model called `name` in the data dir, if complete.
    pub fn installed_whisper_model(&self, name: &str) -> Option<PathBuf> {
        let dir = self.whisper_models_dir().join(name);
        WHISPER_FILES
            .iter()
            .all(|f| dir.join(f).is_file())
            .then_some(dir)
    }

    /// Where the Silero voice-activity model goes.
    pub fn vad_model_path(&self) -> PathBuf {
        self.root.join("models").join("vad").join(VAD_MODEL_FILE)
    }

    /// The Silero voice-activity model, if installed.
    pub fn vad_model(&self) -> Result<PathBuf, ModelError> {
        let path = self.vad_model_path();
        match path.is_file() {
            true => Ok(path),
            false => Err(ModelError::Missing {
                what: "Silero voice-activity model".to_string(),
                path,
                hint: format!("install it with `{SETUP_COMMAND}`"),
            }),
        }
    }

    /// Where the speaker encoder goes.
    pub fn speaker_model_path(&self) -> PathBuf {
        self.root
            .join("models")
            .join("speaker")
            .join(SPEAKER_MODEL_FILE)
    }

    /// The speaker encoder (for `--speakers`), if installed.
    pub fn speaker_model(&self) -> Result<PathBuf, ModelError> {
        let path = self.speaker_model_path();
        match path.is_file() {
            true => Ok(path),
            false => Err(ModelError::Missing {
                what: "speaker model (Resemblyzer GE2E)".to_string(),
                path,
                hint: format!("install it with `{SETUP_COMMAND}`"),
            }),
        }
    }

    /// Where the ECAPA-TDNN speaker encoder goes.
    pub fn ecapa_model_path(&self) -> PathBuf {
        self.root
            .join("models")
            .join("ecapa")
            .join(ECAPA_MODEL_FILE)
    }

    /// The ECAPA-TDNN speaker encoder (for `--speakers`), if installed.
    pub fn ecapa_model(&self) -> Result<PathBuf, ModelError> {
        let path = self.ecapa_model_path();
        match path.is_file() {
            true => Ok(path),
            false => Err(ModelError::Missing {
                what: "speaker model (SpeechBrain ECAPA-TDNN)".to_string(),
                path,
                hint: format!("install it with `{SETUP_COMMAND}`"),
            }),
        }
    }

    /// Where the voice/music separation model goes.
    pub fn separation_model_path(&self) -> PathBuf {
        self.root
            .join("models")
            .join("separation")
            .join(SEPARATION_MODEL_FILE)
    }

    /// The voice/music separation model (for `--background separate`), if installed.
    pub fn separation_model(&self) -> Result<PathBuf, ModelError> {
        let path = self.separation_model_path();
        match path.is_file() {
            true => Ok(path),
            false => Err(ModelError::Missing {
                what: "separation model (Spleeter 2-stems)".to_string(),
                path,
                hint: format!("install it with `{SETUP_COMMAND}`"),
            }),
        }
    }

    /// Like [`DataDir::whisper_model`], reading `DUBBER_WHISPER_MODEL`.
    pub fn whisper_model_from_env(&self, cli: Option<&str>) -> Result<PathBuf, ModelError> {
        let env = std::env::var(WHISPER_MODEL_ENV).ok();
        self.whisper_model(cli, env.as_deref())
    }

    /// Finds a Piper voice `.onnx` file (with its `.onnx.json` beside it):
    /// `cli` → `env` → `<data dir>/voices/en_US-joe-medium.onnx`.
    /// Each value may be a file path or the name of a voice in the data dir.
    pub fn piper_voice(&self, cli: Option<&str>, env: Option<&str>) -> Result<PathBuf, ModelError> {
        let chosen = cli.or(env).filter(|s| !s.is_empty());
        let name = chosen.unwrap_or(DEFAULT_PIPER_VOICE);
        let as_path = Path::new(name);
        let file = if chosen.is_some() && as_path.is_file() {
            as_path.to_path_buf()
        } else {
            let stem = name.strip_suffix(".onnx").unwrap_or(name);
            self.voices_dir().join(format!("{stem}.onnx"))
        };
        let config = voice_config_path(&file);
        if file.is_file() && config.is_file() {
            return Ok(file);
        }
        let missing = if file.is_file() { config } else { file };
        Err(ModelError::Missing {
            what: format!("Piper voice '{name}'"),
            path: missing,
            hint: format!(
                "install the default voice with `{SETUP_COMMAND}`, point --voice or \
                 {PIPER_VOICE_ENV} at a Piper .onnx file (its .onnx.json beside it; Hugging Face \
                 rhasspy/piper-voices), or use --tts espeak"
            ),
        })
    }

    /// Like [`DataDir::piper_voice`], reading `DUBBER_PIPER_VOICE`.
    pub fn piper_voice_from_env(&self, cli: Option<&str>) -> Result<PathBuf, ModelError> {
        let env = std::env::var(PIPER_VOICE_ENV).ok();
        self.piper_voice(cli, env.as_deref())
    }

    /// Finds the ONNX Runtime library: `cli` → `env` (`ORT_DYLIB_PATH`) → the data dir.
    pub fn onnxruntime(
        &self,
        cli: Option<&Path>,
        env: Option<&Path>,
    ) -> Result<PathBuf, ModelError> {
        let path = cli
            .or(env)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.onnxruntime_path());
        if path.is_file() {
            return Ok(path);
        }
        Err(ModelError::Missing {
            what: "ONNX Runtime library (>= 1.31)".to_string(),
            path,
            hint: format!(
                "install it with `{SETUP_COMMAND}` (copies libonnxruntime from the PyPI \
                 `onnxruntime` wheel), or set {ORT_DYLIB_ENV} to a libonnxruntime file"
            ),
        })
    }

    /// Like [`DataDir::onnxruntime`], reading `ORT_DYLIB_PATH`.
    pub fn onnxruntime_from_env(&self, cli: Option<&Path>) -> Result<PathBuf, ModelError> {
        let env = std::env::var_os(ORT_DYLIB_ENV).map(PathBuf::from);
        self.onnxruntime(cli, env.as_deref())
    }
}

/// The `.onnx.json` config that belongs to a Piper `.onnx` file.
pub fn voice_config_path(onnx: &Path) -> PathBuf {
    let mut name = onnx.as_os_str().to_os_string();
    name.push(".json");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::touch;

    #[test]
    fn data_dir_prefers_dubber_home_then_xdg_then_home() {
        let d = DataDir::from_vars(Some("/a".into()), Some("/x".into()), Some("/h".into()));
        assert_eq!(d.unwrap().root(), Path::new("/a"));
        if !cfg!(target_os = "macos") {
            let d = DataDir::from_vars(Some("".into()), Some("/x".into()), Some("/h".into()));
            assert_eq!(d.unwrap().root(), Path::new("/x/dubber"));
            let d = DataDir::from_vars(None, None, Some("/h".into()));
            assert_eq!(d.unwrap().root(), Path::new("/h/.local/share/dubber"));
        }
        assert!(matches!(
            DataDir::from_vars(None, None, None),
            Err(ModelError::NoDataDir)
        ));
    }

    #[test]
    fn whisper_model_resolves_cli_then_env_then_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path().join("home"));
        let own = tmp.path().join("own-model");
        for f in WHISPER_FILES {
            touch(&data.whisper_models_dir().join("tiny.en").join(f), 3);
            touch(&data.whisper_models_dir().join("base").join(f), 3);
            touch(&own.join(f), 3);
        }
        let own_str = own.to_str().unwrap();
        assert_eq!(
            data.whisper_model(Some(own_str), Some("base")).unwrap(),
            own
        );
        assert_eq!(
            data.whisper_model(None, Some("base")).unwrap(),
            data.whisper_models_dir().join("base")
        );
        assert_eq!(
            data.whisper_model(None, None).unwrap(),
            data.whisper_models_dir().join("tiny.en")
        );
        // An incomplete folder is reported with its path and how to install.
        std::fs::remove_file(own.join("tokenizer.json")).unwrap();
        let err = data.whisper_model(Some(own_str), None).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("own-model") && msg.contains(SETUP_COMMAND),
            "{msg}"
        );
    }

    #[test]
    fn voice_and_runtime_errors_say_how_to_install() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path());
        let err = data.piper_voice(None, None).unwrap_err().to_string();
        assert!(err.contains("en_US-joe-medium.onnx"), "{err}");
        assert!(
            err.contains(SETUP_COMMAND) && err.contains("--tts espeak"),
            "{err}"
        );
        // The flag it names is the one `synth --help` lists.
        assert!(
            err.contains("point --voice or") && !err.contains("--voice-model"),
            "{err}"
        );
        let err = data.speaker_model().unwrap_err().to_string();
        assert!(
            err.contains("models/speaker/resemblyzer-ge2e.pt") && err.contains(SETUP_COMMAND),
            "{err}"
        );
        touch(&data.speaker_model_path(), 4);
        assert_eq!(data.speaker_model().unwrap(), data.speaker_model_path());
        let err = data.ecapa_model().unwrap_err().to_string();
        assert!(
            err.contains("models/ecapa/ecapa-voxceleb.ckpt") && err.contains(SETUP_COMMAND),
            "{err}"
        );
        touch(&data.ecapa_model_path(), 4);
        assert_eq!(data.ecapa_model().unwrap(), data.ecapa_model_path());
        let err = data.onnxruntime(None, None).unwrap_err().to_string();
        assert!(
            err.contains("libonnxruntime") && err.contains(ORT_DYLIB_ENV),
            "{err}"
        );

        // The .onnx alone is not enough: its config is named as missing.
        touch(&data.voices_dir().join("v.onnx"), 10);
        let err = data.piper_voice(Some("v"), None).unwrap_err().to_string();
        assert!(err.contains("v.onnx.json"), "{err}");
        touch(&data.voices_dir().join("v.onnx.json"), 5);
        assert_eq!(
            data.piper_voice(Some("v.onnx"), None).unwrap(),
            data.voices_dir().join("v.onnx")
        );
    }
}
