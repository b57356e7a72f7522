//! The espeak-ng voice: robotic but always available, in about a hundred languages.
//!
//! The fallback when no Piper voice is installed (`--tts espeak`). The `espeak-ng` program is run
//! (not linked: libespeak-ng is GPL-3.0) and writes a WAV file that is read back.

use std::process::Command;
use std::sync::OnceLock;

use super::LocalTtsError;

/// espeak-ng's default speaking rate in words per minute.
const DEFAULT_WPM: f32 = 175.0;
/// Speeds (relative to 175 words per minute) espeak-ng accepts.
pub const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.5..=2.5;
/// espeak-ng's accepted rate range.
const WPM_RANGE: (f32, f32) = (80.0, 450.0);

/// An espeak-ng voice such as `en-us`, `fr`, `de` (see `espeak-ng --voices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspeakVoice {
    voice: String,
}

impl EspeakVoice {
    /// A voice by espeak-ng name; checked on first use (espeak-ng reports unknown voices).
    pub fn new(voice: impl Into<String>) -> Self {
        Self {
            voice: voice.into(),
        }
    }

    /// The espeak-ng voice name.
    pub fn voice(&self) -> &str {
        &self.voice
    }

    /// Identifies the engine for cache keys: `espeak-ng:<version>:<voice>`.
    pub fn cache_signature(&self) -> String {
        let version = Command::new("espeak-ng")
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "unknown".to_string());
        format!("espeak-ng:{version}:{}", self.voice)
    }

    /// Checks that espeak-ng knows the voice (it silently falls back to another one otherwise).
    /// A `+variant` suffix (`en-us+f3`) is allowed.
    pub fn check(&self) -> Result<(), LocalTtsError> {
        let base = self.voice.split('+').next().unwrap_or("").to_lowercase();
        let known = known_voices()?;
        if known.contains(&base) {
            Ok(())
        } else {
            Err(LocalTtsError::Espeak(format!(
                "espeak-ng has no voice '{}' (see `espeak-ng --voices`)",
                self.voice
            )))
        }
    }

    /// Speaks `text`; `speed` 1.0 is espeak-ng's 175 words per minute. Returns mono samples in
    /// −1..1 and the sample rate (22050 Hz).
    pub fn speak(&self, text: &str, speed: f32) -> Result<(Vec<f32>, u32), LocalTtsError> {
        self.check()?;
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let wpm = (DEFAULT_WPM * speed)
            .clamp(WPM_RANGE.0, WPM_RANGE.1)
            .round() as u32;
        let dir = tempfile::tempdir()
            .map_err(|e| LocalTtsError::Espeak(format!("cannot create a temp dir: {e}")))?;
        let wav = dir.path().join("speech.wav");
        let output = Command::new("espeak-ng")
            .args(["-b", "1", "-v", &self.voice, "-s", &wpm.to_string(), "-w"])
            .arg(&wav)
            .arg("--")
            .arg(text)
            .output()
            .map_err(|e| LocalTtsError::espeak_spawn(&e))?;
        if !output.status.success() {
            return Err(LocalTtsError::Espeak(format!(
                "espeak-ng -v {} failed ({}): {}",
                self.voice,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let reader = hound::WavReader::open(&wav)
            .map_err(|e| LocalTtsError::Espeak(format!("reading espeak-ng output: {e}")))?;
        let spec = reader.spec();
        let samples: Result<Vec<f32>, _> = reader
            .into_samples::<i16>()
            .map(|s| s.map(|v| f32::from(v) / 32768.0))
            .collect();
        let samples =
            samples.map_err(|e| LocalTtsError::Espeak(format!("reading espeak-ng output: {e}")))?;
        Ok((samples, spec.sample_rate))
    }
}

/// Language codes, voice names and voice files espeak-ng lists, lower-cased (read once).
fn known_voices() -> Result<&'static [String], LocalTtsError> {
    static VOICES: OnceLock<Result<Vec<String>, String>> = OnceLock::new();
    let result = VOICES.get_or_init(|| {
        let output = Command::new("espeak-ng")
            .arg("--voices")
            .output()
            .map_err(|e| LocalTtsError::espeak_spawn(&e).to_string())?;
        let listing = String::from_utf8_lossy(&output.stdout);
        let mut names = Vec::new();
        // Columns: Pty Language Age/Gender VoiceName File Other-languages.
        for line in listing.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [_, language, _, name, file, ..] = fields.as_slice() {
                names.push(language.to_lowercase());
                names.push(name.to_lowercase());
                names.push(file.to_lowercase());
                if let Some(base) = file.rsplit('/').next() {
                    names.push(base.to_lowercase());
                }
            }
        }
        Ok(names)
    });
    result
        .as_deref()
        .map_err(|message| LocalTtsError::Espeak(message.clone()))
}
