//! Resemblyzer's GE2E speaker encoder (Apache-2.0): a 3-layer LSTM (40 → 256) over 1.6 s
//! windows of power-mel frames, then `linear` (256 → 256), ReLU and unit length.
//!
//! This reproduces `VoiceEncoder.embed_utterance` of Resemblyzer 0.1.4: the utterance is raised
//! to -30 dBFS, cut into 160-frame windows every 77 frames (`compute_partial_slices` with rate 1.3
//! and min_coverage 0.75, zero-padded up to the last window), each window is embedded, and the
//! utterance's embedding is the unit-length mean of its windows. Resemblyzer's webrtcvad trim is
//! left out: the callers give speech spans already. The windows of all utterances of one call go
//! through the LSTM together in batches, on up to [`MAX_THREADS`] threads (see `lstm`).
//!
//! Checked against an independent forward pass (librosa features, a float64 numpy LSTM over the
//! same weights as `torch.load` reads them) on a 6-window espeak-ng utterance: cosine 0.9999998,
//! largest difference of a component 5.5e-7.
//!
//! **Calibration** ([`SAME_SPEAKER_THRESHOLD`]), on synthetic voices (six lines of 1–3 s per voice
//! at three speeds, cosine of line pairs):
//!
//! | pairs of lines                                   | mean        | min – max   |
//! |--------------------------------------------------|-------------|-------------|
//! | one voice (Piper joe; espeak en-us, +f3, +f4, en-gb+m3) | 0.76–0.79 | 0.57–0.89 |
//! | joe vs a female espeak voice                     | 0.38–0.39   | 0.26–0.50   |
//! | joe vs a male espeak voice                       | 0.49–0.50   | 0.38–0.61   |
//! | espeak male vs female (en-us/en-gb+m3 vs +f3/+f4) | 0.55–0.58  | 0.44–0.72   |
//! | espeak en-us vs en-gb+m3; +f3 vs +f4             | 0.76–0.78   | 0.56–0.95   |
//!
//! One voice averages ≥ 0.76, different voices ≤ 0.58, so the threshold is 0.65. On real speech
//! this scale does not hold (a phone call between two women scored as one voice), which is why
//! ECAPA is the default.

use std::path::Path;

use super::lstm::{LstmLayer, final_hidden};
use super::mel::{N_MELS, PowerMel, normalize_volume};
use super::torch_legacy::{Tensor, load_state_dict};
use super::{Embedding, SpeakerEncoder, SpeakerError, WindowEmbedding};
use crate::models::DataDir;
use crate::stt::mel::HOP;

/// Sample rate of the model.
pub const SAMPLE_RATE: u32 = 16_000;
/// Frames per window (1.6 s).
const WINDOW_FRAMES: usize = 160;
/// Frames between window starts: `round(16000 / 1.3 / 160)` (Resemblyzer's rate 1.3 per second).
const STEP_FRAMES: usize = 77;
/// The last window is kept when at least this share of it is audio.
const MIN_COVERAGE: f64 = 0.75;
/// Hidden and embedding size.
const HIDDEN: usize = 256;
/// Windows per LSTM batch: large enough for the recurrence's GEMMs to run near peak, small
/// enough for the gate buffer (`160 × batch × 1024` floats, 21 MB at 32) to stay modest.
const BATCH: usize = 32;
/// Average-linkage cosine similarity of windows at or above which two groups are one speaker.
pub const SAME_SPEAKER_THRESHOLD: f32 = 0.65;
/// Threads the windows are shared among (the target machine has 2 cores).
pub const MAX_THREADS: usize = 4;

/// The GE2E encoder with its weights loaded.
pub struct Ge2eEncoder {
    layers: Vec<LstmLayer>,
    /// `linear.weight`: 256 × 256, row-major (out × in).
    linear_w: Vec<f32>,
    linear_b: Vec<f32>,
    mel: PowerMel,
    threads: usize,
}

impl std::fmt::Debug for Ge2eEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ge2eEncoder")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl Ge2eEncoder {
    /// Loads Resemblyzer's `pretrained.pt` (the legacy `torch.save` format) from `path`.
    pub fn load(path: &Path) -> Result<Self, SpeakerError> {
        let mut tensors = load_state_dict(path, "model_state")?;
        let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>, SpeakerError> {
            match tensors.remove(name) {
                Some(Tensor { shape: s, data }) if s == shape => Ok(data),
                Some(t) => Err(SpeakerError::Model {
                    path: path.to_path_buf(),
                    reason: format!("tensor {name} is {:?}, expected {shape:?}", t.shape),
                }),
                None => Err(SpeakerError::Model {
                    path: path.to_path_buf(),
                    reason: format!("tensor {name} is missing"),
                }),
            }
        };
        let mut layers = Vec::new();
        for l in 0..3 {
            let input = if l == 0 { N_MELS } else { HIDDEN };
            let w_ih = take(&format!("lstm.weight_ih_l{l}"), &[4 * HIDDEN, input])?;
            let w_hh = take(&format!("lstm.weight_hh_l{l}"), &[4 * HIDDEN, HIDDEN])?;
            let b_ih = take(&format!("lstm.bias_ih_l{l}"), &[4 * HIDDEN])?;
            let b_hh = take(&format!("lstm.bias_hh_l{l}"), &[4 * HIDDEN])?;
            let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
            layers.push(LstmLayer {
                input,
                hidden: HIDDEN,
                w_ih,
                w_hh,
                bias,
            });
        }
        let linear_w = take("linear.weight", &[HIDDEN, HIDDEN])?;
        let linear_b = take("linear.bias", &[HIDDEN])?;
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(MAX_THREADS);
        Ok(Self {
            layers,
            linear_w,
            linear_b,
            mel: PowerMel::new(),
            threads,
        })
    }

    /// Loads the model installed in `data` (`<data dir>/models/speaker/`); when it is missing,
    /// the error names the setup command.
    pub fn from_data_dir(data: &DataDir) -> Result<Self, SpeakerError> {
        Self::load(&data.speaker_model()?)
    }

    /// Uses at most `threads` threads (at least one).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Embeds windows of 160 mel frames each (`windows[i]` is frame-major, 160 × 40).
    fn embed_mels(&self, windows: &[Vec<f32>]) -> Vec<Embedding> {
        let per_thread = windows.len().div_ceil(self.threads.max(1)).max(1);
        std::thread::scope(|scope| {
            let jobs: Vec<_> = windows
                .chunks(per_thread)
                .map(|part| scope.spawn(move || self.embed_part(part)))
                .collect();
            jobs.into_iter()
                .flat_map(|job| match job.join() {
                    Ok(v) => v,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    }

    /// One thread's share, in batches of [`BATCH`].
    fn embed_part(&self, windows: &[Vec<f32>]) -> Vec<Embedding> {
        let mut out = Vec::with_capacity(windows.len());
        let mut input = Vec::new();
        for batch in windows.chunks(BATCH) {
            let b = batch.len();
            input.clear();
            input.resize(WINDOW_FRAMES * b * N_MELS, 0.0);
            for (i, w) in batch.iter().enumerate() {
                for t in 0..WINDOW_FRAMES {
                    let row = (t * b + i) * N_MELS;
                    input[row..row + N_MELS].copy_from_slice(&w[t * N_MELS..(t + 1) * N_MELS]);
                }
            }
            let hidden = final_hidden(&self.layers, &input, WINDOW_FRAMES, b);
            for h in hidden.chunks_exact(HIDDEN) {
                let raw = self
                    .linear_w
                    .chunks_exact(HIDDEN)
                    .zip(&self.linear_b)
                    .map(|(row, bias)| {
                        let v = bias + row.iter().zip(h).map(|(w, x)| w * x).sum::<f32>();
                        v.max(0.0)
                    })
                    .collect();
                out.push(Embedding::normalized(raw));
            }
        }
        out
    }
}

/// Resemblyzer's `compute_partial_slices(n_samples, rate=1.3, min_coverage=0.75)`: the first
/// mel frame of each window.
pub fn window_starts(n_samples: usize) -> Vec<usize> {
    let n_frames = (n_samples + 1).div_ceil(HOP);
    let steps = (n_frames + STEP_FRAMES + 1)
        .saturating_sub(WINDOW_FRAMES)
        .max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(STEP_FRAMES).collect();
    if let [.., last] = starts[..] {
        let span = (WINDOW_FRAMES * HOP) as f64;
        let coverage = (n_samples as f64 - (last * HOP) as f64) / span;
        if coverage < MIN_COVERAGE && starts.len() > 1 {
            starts.pop();
        }
    }
    starts
}

impl SpeakerEncoder for Ge2eEncoder {
    fn name(&self) -> &str {
        "resemblyzer-ge2e"
    }

    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn same_speaker_threshold(&self) -> f32 {
        SAME_SPEAKER_THRESHOLD
    }

    fn embed(&self, utterances: &[&[f32]]) -> Result<Vec<Embedding>, SpeakerError> {
        let windows = self.embed_windows(utterances)?;
        Ok(windows
            .iter()
            .map(|ws| {
                Embedding::mean(ws.iter().map(|w| (&w.embedding, 1.0)))
                    .unwrap_or_else(|| Embedding(vec![0.0; HIDDEN]))
            })
            .collect())
    }

    fn embed_windows(
        &self,
        utterances: &[&[f32]],
    ) -> Result<Vec<Vec<WindowEmbedding>>, SpeakerError> {
        let mut mels = Vec::new();
        let mut spans = Vec::with_capacity(utterances.len());
        for utterance in utterances {
            let starts = window_starts(utterance.len());
            let last_end = starts.last().map_or(0, |s| (s + WINDOW_FRAMES) * HOP);
            let mut audio = utterance.to_vec();
            normalize_volume(&mut audio);
            if last_end >= audio.len() {
                audio.resize(last_end, 0.0);
            }
            let mel = self.mel.compute(&audio);
            let mut span = Vec::with_capacity(starts.len());
            for &s in &starts {
                mels.push(mel[s * N_MELS..(s + WINDOW_FRAMES) * N_MELS].to_vec());
                span.push((s * HOP, (s + WINDOW_FRAMES) * HOP));
            }
            spans.push(span);
        }
        Ok(WindowEmbedding::regroup(spans, self.embed_mels(&mels)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_follow_resemblyzer() {
        // Values from Resemblyzer's compute_partial_slices(n, 1.3, 0.75).
        assert_eq!(window_starts(0), vec![0]);
        assert_eq!(window_starts(8_000), vec![0]);
        assert_eq!(window_starts(25_600), vec![0]);
        assert_eq!(window_starts(30_000), vec![0]);
        assert_eq!(window_starts(37_000), vec![0, 77]);
        assert_eq!(window_starts(48_000), vec![0, 77, 154]);
        assert_eq!(
            window_starts(160_000),
            (0..=847).step_by(77).collect::<Vec<_>>()
        );
    }
}
