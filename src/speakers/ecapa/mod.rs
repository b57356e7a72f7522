//! ECAPA-TDNN speaker encoder, as trained by SpeechBrain on VoxCeleb (`spkrec-ecapa-voxceleb`,
//! Apache-2.0): 80 log-mel bands in, a 192-d embedding out, compared by cosine. It separates
//! real voices far better than GE2E (VoxCeleb1 EER 0.8 % against GE2E's several percent), which
//! is what diarization of real speech needs.
//!
//! The features (`fbank`) follow SpeechBrain's `Fbank` + sentence `InputNormalization` in plain
//! Rust; the network is SpeechBrain's `ECAPA_TDNN` (channels `[1024, 1024, 1024, 1024, 3072]`,
//! kernels `[5, 3, 3, 3, 1]`, dilations `[1, 2, 3, 4, 1]`, Res2Net scale 8, SE 128, attention
//! 128, global context), built as an ONNX Runtime graph in memory (`graph`) from the weights
//! (`weights`) read straight from SpeechBrain's own `embedding_model.ckpt` by `torch_zip`:
//! nothing is converted at install time. ONNX Runtime's convolutions made diarization about
//! four times cheaper than the earlier port on `matrixmultiply` (0.053 against 0.23 CPU
//! seconds per second of audio), with the same embeddings (cosine 1.000 against SpeechBrain).
//!
//! An utterance is embedded whole, as SpeechBrain's `encode_batch` does; its windows
//! ([`EcapaEncoder::embed_windows`]) are 1.5 s long, at most [`STEP_SAMPLES`] apart and spread
//! evenly from its start to its end, each featurised and embedded as an utterance of its own
//! (an utterance up to [`WHOLE_SAMPLES`] long is one window, the whole of it). Windows and
//! utterances are shared among up to [`MAX_THREADS`] threads.
//!
//! **Calibration** ([`SAME_SPEAKER_THRESHOLD`], average linkage over windows of at least 1 s):
//! on a real 8 kHz phone call between two women (pyannote.audio's sample), windows of one
//! speaker average 0.44 and 0.56, of the two 0.23; espeak-ng voices of different variants
//! 0.19–0.23 across, 0.63–0.70 within; Piper's joe against espeak-ng about 0.1. The last merge a
//! one-voice recording makes (a stray window aside) is at 0.52–0.58. 0.30 keeps the phone call's
//! two speakers apart and merges each of them (0.25–0.30 both give 2 speakers there; 0.35 gives
//! 3). ECAPA does not hear pitch alone: one espeak-ng voice at `-p 25` and `-p 75` scores 0.58
//! across against 0.68–0.72 within, so no threshold separates those that keeps the phone call.
//!
//! Checked against SpeechBrain 1.x itself (`scripts/dev/ecapa_reference.py`, the vectors in
//! `tests/fixtures/ecapa/`): see `tests/ecapa.rs`.

mod fbank;
mod graph;
mod weights;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ort::session::Session;
use ort::value::Tensor;

pub use fbank::Fbank;
pub use graph::MIN_FRAMES;

use super::torch_zip::load_zip_state_dict;
use super::{Embedding, SpeakerEncoder, SpeakerError, WindowEmbedding};
use crate::models::DataDir;
use weights::{EMBEDDING, Weights};

/// Sample rate of the model.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per window of [`EcapaEncoder::embed_windows`] (1.5 s).
pub const WINDOW_SAMPLES: usize = 24_000;
/// Most samples between window starts (1 s: windows overlap by a third or more).
pub const STEP_SAMPLES: usize = 16_000;
/// Utterances up to this long (3 s) are one window, embedded whole: the whole gives a better
/// embedding than the mean of its windows at half the cost, and a change of voice needs two
/// windows on each side (`diarize`), which a line this short does not have anyway.
pub const WHOLE_SAMPLES: usize = 2 * WINDOW_SAMPLES;
/// Average-linkage cosine similarity of windows at or above which two groups are one speaker
/// (calibration in the module doc).
pub const SAME_SPEAKER_THRESHOLD: f32 = 0.30;
/// Sessions (one thread each) the work is shared among at most (the target machine has 2
/// cores; one session per core measured faster than one session with two threads, whose
/// convolutions of a few hundred frames split poorly).
pub const MAX_THREADS: usize = 4;
/// Pieces of equal length run through the network together, at most this many: one larger
/// product per convolution instead of several small ones.
pub const BATCH: usize = 8;

/// The ECAPA-TDNN encoder with its graph built (~83 MB of f32 per session).
pub struct EcapaEncoder {
    sessions: Vec<Mutex<Session>>,
    fbank: Fbank,
    path: PathBuf,
}

impl std::fmt::Debug for EcapaEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcapaEncoder")
            .field("path", &self.path)
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

impl EcapaEncoder {
    /// Loads SpeechBrain's `embedding_model.ckpt` (a torch zip checkpoint) from `path`, with a
    /// session per available core (at most [`MAX_THREADS`]).
    pub fn load(path: &Path) -> Result<Self, SpeakerError> {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(MAX_THREADS);
        Self::load_with_threads(path, threads)
    }

    /// Loads the checkpoint at `path` with `threads` sessions of one thread each (at least one).
    pub fn load_with_threads(path: &Path, threads: usize) -> Result<Self, SpeakerError> {
        let tensors = load_zip_state_dict(path)?;
        let weights = Weights::from_tensors(tensors, path)?;
        let runtime_error = |e: String| SpeakerError::Model {
            path: path.to_path_buf(),
            reason: e,
        };
        let environment = crate::onnx::runtime(None).map_err(runtime_error)?;
        let sessions = (0..threads.max(1))
            .map(|_| {
                let builder = Session::builder(environment)?
                    .with_intra_threads(1)?
                    .with_inter_threads(1)?;
                graph::session(&weights, &builder).map(Mutex::new)
            })
            .collect::<ort::Result<Vec<_>>>()
            .map_err(|e| runtime_error(format!("cannot build the network: {e}")))?;
        Ok(Self {
            sessions,
            fbank: Fbank::new(),
            path: path.to_path_buf(),
        })
    }

    /// Loads the model installed in `data` (`<data dir>/models/ecapa/`); when it is missing,
    /// the error names the setup command.
    pub fn from_data_dir(data: &DataDir) -> Result<Self, SpeakerError> {
        Self::load(&data.ecapa_model()?)
    }

    /// The raw (not unit-length) embedding of one piece of audio, as SpeechBrain's
    /// `encode_batch` returns it.
    pub fn embed_raw(&self, audio: &[f32]) -> Result<Vec<f32>, SpeakerError> {
        let mut raw = self.run(0, &[audio])?;
        Ok(raw.pop().unwrap_or_else(|| vec![0.0; EMBEDDING]))
    }

    /// The raw embeddings of `pieces`, all of one length, through session `session`.
    fn run(&self, session: usize, pieces: &[&[f32]]) -> Result<Vec<Vec<f32>>, SpeakerError> {
        let Some(first) = pieces.first() else {
            return Ok(Vec::new());
        };
        let frames = Fbank::frames_for(first.len());
        let mut feats = Vec::with_capacity(pieces.len() * fbank::N_MELS * frames);
        for piece in pieces {
            debug_assert_eq!(piece.len(), first.len());
            feats.extend(self.fbank.compute(piece));
        }
        let error = |e: ort::Error| SpeakerError::Model {
            path: self.path.clone(),
            reason: format!("the network failed: {e}"),
        };
        let input =
            Tensor::from_array(([pieces.len(), fbank::N_MELS, frames], feats)).map_err(error)?;
        let mut session = self.sessions[session]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let outputs = session
            .run(ort::inputs![graph::INPUT => input])
            .map_err(error)?;
        let (_, values) = outputs[graph::OUTPUT]
            .try_extract_tensor::<f32>()
            .map_err(error)?;
        Ok(values
            .chunks_exact(EMBEDDING)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// Embeds every piece of audio, the sessions sharing the work, in order.
    fn embed_pieces(&self, pieces: &[&[f32]]) -> Result<Vec<Embedding>, SpeakerError> {
        // Too short for the network's padding: repeated until long enough (a piece of a few
        // tens of milliseconds says little about a voice either way).
        let min_samples = (MIN_FRAMES - 1) * fbank::HOP;
        let tiled: Vec<Option<Vec<f32>>> = pieces
            .iter()
            .map(|p| {
                (!p.is_empty() && p.len() < min_samples)
                    .then(|| p.iter().copied().cycle().take(min_samples).collect())
            })
            .collect();
        let pieces: Vec<&[f32]> = pieces
            .iter()
            .zip(&tiled)
            .map(|(p, t)| t.as_deref().unwrap_or(p))
            .collect();
        // Batches of equal length, longest first, handed out one at a time, so the sessions
        // finish together.
        let mut order: Vec<usize> = (0..pieces.len())
            .filter(|&i| !pieces[i].is_empty())
            .collect();
        order.sort_by_key(|&i| std::cmp::Reverse(pieces[i].len()));
        let batches: Vec<&[usize]> = order
            .chunk_by(|&a, &b| pieces[a].len() == pieces[b].len())
            .flat_map(|same| same.chunks(BATCH))
            .collect();
        let next = AtomicUsize::new(0);
        let workers = self.sessions.len().min(batches.len()).max(1);
        let mut out: Vec<Embedding> = vec![Embedding(vec![0.0; EMBEDDING]); pieces.len()];
        std::thread::scope(|scope| {
            let jobs: Vec<_> = (0..workers)
                .map(|session| {
                    let (next, batches, pieces) = (&next, &batches, &pieces);
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            let Some(batch) = batches.get(k) else { break };
                            let audio: Vec<&[f32]> = batch.iter().map(|&i| pieces[i]).collect();
                            let raw = self.run(session, &audio)?;
                            done.extend(batch.iter().copied().zip(raw));
                        }
                        Ok::<_, SpeakerError>(done)
                    })
                })
                .collect();
            for job in jobs {
                match job.join() {
                    Ok(done) => {
                        for (i, raw) in done? {
                            out[i] = Embedding::normalized(raw);
                        }
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Ok::<_, SpeakerError>(())
        })?;
        Ok(out)
    }
}

/// The windows `(start, end)` of an utterance of `n` samples: the whole of it when it is no
/// longer than [`WHOLE_SAMPLES`], else as few windows of [`WINDOW_SAMPLES`] as start at most
/// [`STEP_SAMPLES`] apart, spread evenly from the start to the end of the utterance.
pub fn windows(n: usize) -> Vec<(usize, usize)> {
    if n <= WHOLE_SAMPLES {
        return vec![(0, n)];
    }
    let span = n - WINDOW_SAMPLES;
    let gaps = span.div_ceil(STEP_SAMPLES);
    (0..=gaps)
        .map(|i| {
            let start = (i * span + gaps / 2) / gaps;
            (start, start + WINDOW_SAMPLES)
        })
        .collect()
}

impl SpeakerEncoder for EcapaEncoder {
    fn name(&self) -> &str {
        "ecapa-voxceleb"
    }

    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn same_speaker_threshold(&self) -> f32 {
        SAME_SPEAKER_THRESHOLD
    }

    fn embed(&self, utterances: &[&[f32]]) -> Result<Vec<Embedding>, SpeakerError> {
        self.embed_pieces(utterances)
    }

    fn embed_windows(
        &self,
        utterances: &[&[f32]],
    ) -> Result<Vec<Vec<WindowEmbedding>>, SpeakerError> {
        let spans: Vec<Vec<(usize, usize)>> = utterances.iter().map(|u| windows(u.len())).collect();
        let pieces: Vec<&[f32]> = utterances
            .iter()
            .zip(&spans)
            .flat_map(|(u, ws)| ws.iter().map(move |&(s, e)| &u[s..e]))
            .collect();
        Ok(WindowEmbedding::regroup(spans, self.embed_pieces(&pieces)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_utterance_and_end_with_it() {
        assert_eq!(windows(0), vec![(0, 0)]);
        assert_eq!(windows(48_000), vec![(0, 48_000)]);
        assert_eq!(
            windows(50_000),
            vec![(0, 24_000), (13_000, 37_000), (26_000, 50_000)]
        );
        assert_eq!(
            windows(72_000),
            vec![
                (0, 24_000),
                (16_000, 40_000),
                (32_000, 56_000),
                (48_000, 72_000)
            ]
        );
        let w = windows(100_000);
        assert_eq!(w.first(), Some(&(0, 24_000)));
        assert_eq!(w.last(), Some(&(76_000, 100_000)));
        assert!(w.windows(2).all(|p| p[1].0 - p[0].0 <= STEP_SAMPLES));
    }
}
