//! Piper voices (VITS models in ONNX) run through ONNX Runtime, fully offline.
//!
//! A voice is an `.onnx` model plus its `.onnx.json` config (sample rate, espeak voice, phoneme
//! ids, default noise and length scales). Text goes through [`super::phonemes`], each sentence is
//! one model call, sentences are joined with a short silence as Piper does. ONNX Runtime is loaded
//! dynamically (`libonnxruntime` ≥ 1.31 from `ORT_DYLIB_PATH` or the data dir), so the binary
//! carries no native runtime and builds offline.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ort::session::{RunOptions, Session};
use ort::value::Tensor;
use serde::Deserialize;

use super::LocalTtsError;
use super::phonemes::phonemize_sentences;
use crate::models::voice_config_path;

/// Speeds a Piper voice speaks well at (through `length_scale`); beyond them words blur or drag.
pub const SPEED_RANGE: RangeInclusive<f64> = 0.5..=2.0;

/// Silence Piper puts between sentences.
const SENTENCE_SILENCE_SECS: f32 = 0.2;

/// The parts of a Piper `.onnx.json` the voice needs.
#[derive(Debug, Clone, Deserialize)]
pub struct PiperConfig {
    /// Output audio.
    pub audio: PiperAudio,
    /// espeak-ng voice used for phonemes.
    pub espeak: PiperEspeak,
    /// Default synthesis scales.
    pub inference: PiperInference,
    /// Phoneme (one Unicode scalar as text) → model ids.
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    /// Speakers in the model (multi-speaker models take a speaker id).
    #[serde(default = "one")]
    pub num_speakers: u32,
}

fn one() -> u32 {
    1
}

/// `audio` section.
#[derive(Debug, Clone, Deserialize)]
pub struct PiperAudio {
    /// Output sample rate in Hz.
    pub sample_rate: u32,
}

/// `espeak` section.
#[derive(Debug, Clone, Deserialize)]
pub struct PiperEspeak {
    /// espeak-ng voice name, e.g. `en-us`.
    pub voice: String,
}

/// `inference` section.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
pub struct PiperInference {
    /// Variation of the voice (0 = deterministic).
    #[serde(default = "default_noise_scale")]
    pub noise_scale: f32,
    /// Duration multiplier: above 1 is slower, below 1 faster.
    #[serde(default = "default_length_scale")]
    pub length_scale: f32,
    /// Variation of phoneme durations (0 = deterministic).
    #[serde(default = "default_noise_w")]
    pub noise_w: f32,
}

fn default_noise_scale() -> f32 {
    0.667
}
fn default_length_scale() -> f32 {
    1.0
}
fn default_noise_w() -> f32 {
    0.8
}

/// Loads ONNX Runtime from `library` (once per process; later calls reuse the first).
pub fn init_onnxruntime(library: &Path) -> Result<(), LocalTtsError> {
    crate::onnx::init(library).map_err(LocalTtsError::Runtime)
}

/// A Piper voice loaded once; `speak` may be called from many threads (calls are serialised,
/// each one already uses several cores).
pub struct PiperVoice {
    session: Mutex<Session>,
    config: PiperConfig,
    path: PathBuf,
    /// Extra inputs the model takes (`sid` for multi-speaker models).
    has_speaker_input: bool,
    /// Identifies the model file for cache keys.
    signature: String,
}

impl std::fmt::Debug for PiperVoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiperVoice")
            .field("path", &self.path)
            .field("sample_rate", &self.config.audio.sample_rate)
            .finish_non_exhaustive()
    }
}

/// What identifies a voice's audio for the clip cache: the SHA-256 of the model and of its config
/// (a retrained voice of the same name and size is another voice), and how takes are made
/// ([`DURATION_NOISE`]). The model is hashed in blocks, once per load.
fn voice_signature(onnx: &Path, config: &[u8]) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut model = Sha256::new();
    std::io::copy(&mut std::fs::File::open(onnx)?, &mut model)?;
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    Ok(format!(
        "piper:{}:{}:w{DURATION_NOISE}",
        hex(&model.finalize()),
        hex(&Sha256::digest(config))
    ))
}

/// The duration noise (`noise_w`) of every take [`PiperVoice::speak`] makes. Piper's noise is
/// drawn inside the model, and ONNX Runtime offers no seed for it, so with the voice's own
/// `noise_w` the same line comes out 7.0 s in one take and 7.7 s in the next: timing could not
/// be planned or reproduced. Without duration noise a line's length is a function of its text
/// and speed; the timbre noise (`noise_scale`) stays, so the voice keeps its life.
pub const DURATION_NOISE: f32 = 0.0;

/// Stops a synthesis nobody waits for any more (its request timed out, or the run was
/// dropped): the sentence being inferred is terminated inside ONNX Runtime, and no further
/// sentence starts. Without it a timed-out line keeps a core busy, and the voice's session locked,
/// until its last sentence is done.
#[derive(Clone)]
pub struct Stop {
    stopped: Arc<AtomicBool>,
    run: Arc<RunOptions>,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop")
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}

impl Stop {
    /// Needs ONNX Runtime loaded (any loaded voice has done that).
    pub fn new() -> Result<Self, LocalTtsError> {
        let run = RunOptions::new().map_err(|e| LocalTtsError::Runtime(e.to_string()))?;
        Ok(Self {
            stopped: Arc::new(AtomicBool::new(false)),
            run: Arc::new(run),
        })
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = self.run.terminate();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

impl PiperVoice {
    /// Loads a voice (`.onnx` with its `.onnx.json` beside it). ONNX Runtime is found through
    /// `ORT_DYLIB_PATH` or the data dir unless [`init_onnxruntime`] was called first.
    pub fn load(onnx: &Path) -> Result<Self, LocalTtsError> {
        Self::load_with_threads(onnx, 0)
    }

    /// Like [`PiperVoice::load`] with a number of inference threads (0 = cores, at most 4).
    pub fn load_with_threads(onnx: &Path, threads: usize) -> Result<Self, LocalTtsError> {
        let config_path = voice_config_path(onnx);
        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| LocalTtsError::Voice {
                path: config_path.clone(),
                message: e.to_string(),
            })?;
        let config: PiperConfig =
            serde_json::from_str(&config_text).map_err(|e| LocalTtsError::Voice {
                path: config_path.clone(),
                message: format!("invalid voice config: {e}"),
            })?;
        for symbol in ["^", "_", "$"] {
            if !config.phoneme_id_map.contains_key(symbol) {
                return Err(LocalTtsError::Voice {
                    path: config_path,
                    message: format!("phoneme_id_map lacks '{symbol}'"),
                });
            }
        }
        let environment = crate::onnx::runtime(None).map_err(LocalTtsError::Runtime)?;
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            n => n,
        };
        let voice_error = |message: String| LocalTtsError::Voice {
            path: onnx.to_path_buf(),
            message,
        };
        let session = Session::builder(environment)
            .map_err(|e| voice_error(e.to_string()))?
            .with_intra_threads(threads)
            .map_err(|e| voice_error(e.to_string()))?
            .commit_from_file(onnx)
            .map_err(|e| voice_error(e.to_string()))?;
        let has_speaker_input = session.inputs().iter().any(|i| i.name() == "sid");
        let signature =
            voice_signature(onnx, config_text.as_bytes()).map_err(|e| LocalTtsError::Voice {
                path: onnx.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(Self {
            session: Mutex::new(session),
            config,
            path: onnx.to_path_buf(),
            has_speaker_input,
            signature,
        })
    }

    /// The voice at `onnx`, loaded on first use and shared afterwards (loading takes 0.3–0.7 s;
    /// a dub asks for the same voice hundreds of times).
    pub fn load_shared(onnx: &Path) -> Result<Arc<Self>, LocalTtsError> {
        static VOICES: OnceLock<Mutex<HashMap<PathBuf, Arc<PiperVoice>>>> = OnceLock::new();
        let voices = VOICES.get_or_init(Default::default);
        let key = onnx.canonicalize().unwrap_or_else(|_| onnx.to_path_buf());
        // Held while loading, so two threads asking at once load the voice once.
        let mut loaded = voices
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(voice) = loaded.get(&key) {
            return Ok(Arc::clone(voice));
        }
        let voice = Arc::new(Self::load(onnx)?);
        loaded.insert(key, Arc::clone(&voice));
        Ok(voice)
    }

    /// Identifies the model for cache keys: `piper:<file name>:<size in bytes>`.
    pub fn cache_signature(&self) -> &str {
        &self.signature
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The voice's config (sample rate, espeak voice, default scales).
    pub fn config(&self) -> &PiperConfig {
        &self.config
    }

    /// Output sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.config.audio.sample_rate
    }

    /// Speaks `text` with the voice's default scales but no duration noise ([`DURATION_NOISE`]:
    /// the same text and speed always take the same time); `speed` above 1 speaks faster by
    /// shortening phoneme durations (`length_scale / speed`), which sounds better than stretching
    /// audio. Returns mono samples in −1..1 and the sample rate.
    pub fn speak(&self, text: &str, speed: f32) -> Result<(Vec<f32>, u32), LocalTtsError> {
        self.speak_until(text, speed, None)
    }

    /// [`PiperVoice::speak`], ending early with [`LocalTtsError::Stopped`] once `stop` is stopped.
    pub fn speak_until(
        &self,
        text: &str,
        speed: f32,
        stop: Option<&Stop>,
    ) -> Result<(Vec<f32>, u32), LocalTtsError> {
        let mut scales = self.config.inference;
        scales.noise_w = DURATION_NOISE;
        if speed.is_finite() && speed > 0.0 {
            scales.length_scale /= speed;
        }
        self.speak_scaled(text, scales, stop)
    }

    /// Speaks `text` with explicit scales (noise scales at 0 make the output deterministic).
    pub fn speak_with(
        &self,
        text: &str,
        scales: PiperInference,
    ) -> Result<(Vec<f32>, u32), LocalTtsError> {
        self.speak_scaled(text, scales, None)
    }

    fn speak_scaled(
        &self,
        text: &str,
        scales: PiperInference,
        stop: Option<&Stop>,
    ) -> Result<(Vec<f32>, u32), LocalTtsError> {
        let rate = self.sample_rate();
        let sentences = phonemize_sentences(text, &self.config.espeak.voice)?;
        // The pause between sentences follows the tempo, so a faster take is faster throughout.
        let tempo = scales.length_scale / self.config.inference.length_scale.max(f32::EPSILON);
        let gap = (SENTENCE_SILENCE_SECS * tempo.clamp(0.25, 4.0) * rate as f32) as usize;
        let mut audio = Vec::new();
        for (index, phonemes) in sentences.iter().enumerate() {
            let ids = self.phoneme_ids(phonemes);
            if ids.len() <= 3 {
                continue; // Nothing speakable (only symbols the voice lacks).
            }
            if stop.is_some_and(Stop::is_stopped) {
                return Err(LocalTtsError::Stopped);
            }
            let samples = self
                .infer(&ids, scales, stop.map(|s| &*s.run))
                .map_err(|message| match stop.is_some_and(Stop::is_stopped) {
                    true => LocalTtsError::Stopped,
                    false => LocalTtsError::Inference {
                        path: self.path.clone(),
                        sentence: index,
                        message,
                    },
                })?;
            if !audio.is_empty() {
                audio.resize(audio.len() + gap, 0.0);
            }
            audio.extend(samples);
        }
        Ok((audio, rate))
    }

    /// Piper's ids: `^`, `_`, then each phoneme followed by `_`, then `$`. Phonemes the voice
    /// does not know are skipped.
    pub fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        let map = &self.config.phoneme_id_map;
        let id = |s: &str| map.get(s).map(Vec::as_slice).unwrap_or(&[]);
        let pad = id("_");
        let mut ids = Vec::with_capacity(phonemes.len() * 2 + 3);
        ids.extend_from_slice(id("^"));
        ids.extend_from_slice(pad);
        let mut buf = [0u8; 4];
        for c in phonemes.chars() {
            if let Some(phoneme) = map.get(&*c.encode_utf8(&mut buf)) {
                ids.extend_from_slice(phoneme);
                ids.extend_from_slice(pad);
            }
        }
        ids.extend_from_slice(id("$"));
        ids
    }

    fn infer(
        &self,
        ids: &[i64],
        scales: PiperInference,
        run: Option<&RunOptions>,
    ) -> Result<Vec<f32>, String> {
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids.to_vec())).map_err(|e| e.to_string())?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(|e| e.to_string())?;
        let scales = Tensor::from_array((
            [3usize],
            vec![scales.noise_scale, scales.length_scale, scales.noise_w],
        ))
        .map_err(|e| e.to_string())?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| "voice session poisoned by an earlier panic".to_string())?;
        let outputs = match (self.has_speaker_input, run) {
            (true, run) => {
                let sid = Tensor::from_array(([1usize], vec![0i64])).map_err(|e| e.to_string())?;
                let inputs = ort::inputs![
                    "input" => input,
                    "input_lengths" => lengths,
                    "scales" => scales,
                    "sid" => sid,
                ];
                match run {
                    Some(run) => session.run_with_options(inputs, run),
                    None => session.run(inputs),
                }
            }
            (false, run) => {
                let inputs = ort::inputs![
                    "input" => input,
                    "input_lengths" => lengths,
                    "scales" => scales,
                ];
                match run {
                    Some(run) => session.run_with_options(inputs, run),
                    None => session.run(inputs),
                }
            }
        }
        .map_err(|e| e.to_string())?;
        let (_, samples) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| e.to_string())?;
        Ok(samples.iter().map(|s| s.clamp(-1.0, 1.0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_follows_the_content_of_model_and_config() {
        let dir = tempfile::tempdir().unwrap();
        let onnx = dir.path().join("v.onnx");
        std::fs::write(&onnx, b"model one").unwrap();
        let first = voice_signature(&onnx, b"{\"a\": 1}").unwrap();
        assert_eq!(first, voice_signature(&onnx, b"{\"a\": 1}").unwrap());
        // Same name, same size, other content: another voice.
        std::fs::write(&onnx, b"model two").unwrap();
        let retrained = voice_signature(&onnx, b"{\"a\": 1}").unwrap();
        assert_ne!(first, retrained);
        assert_ne!(retrained, voice_signature(&onnx, b"{\"a\": 2}").unwrap());
    }
}
