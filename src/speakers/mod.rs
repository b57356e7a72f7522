//! Who speaks each line: offline speaker diarization of timed lines (issue #12).
//!
//! Dubbing a conversation with one voice loses who says what; giving each speaker a voice needs
//! to know the speakers first. The input is what `dubber prep` already has, the speech as a
//! 16 kHz mono WAV and the timed lines ([`crate::Segment`]); the output is the same lines with
//! [`crate::Segment::speaker`] set to `SPEAKER_1`, `SPEAKER_2`, … (a line two speakers share is
//! split in two) and how much each speaker says.
//!
//! The parts, each with one job:
//!
//! - [`SpeakerEncoder`]: audio → fixed-size voice embeddings (a trait, so a stronger model, e.g.
//!   an ONNX speaker model, can replace the one here);
//! - [`Ge2eEncoder`] (`ge2e`, `lstm`, `mel`): Resemblyzer's GE2E encoder (Apache-2.0, 17 MB, a
//!   3-layer LSTM over 40 power-mel bins) in pure Rust, read from its PyTorch file by
//!   `torch_legacy` (with its `pickle` machine);
//! - `cluster`: groups embeddings into speakers (agglomerative, average linkage, stopped by the
//!   encoder's calibrated threshold);
//! - [`diarize()`] (`diarize`, `wavspan`, `split`): reads each line's audio from the WAV (seeking,
//!   never the whole file), embeds it, splits lines where the voice changes, clusters, names.

mod cluster;
mod diarize;
pub mod ecapa;
mod ge2e;
mod lstm;
pub mod mel;
mod pickle;
mod split;
mod torch_legacy;
mod torch_zip;
mod wavspan;

use std::path::PathBuf;

pub use cluster::MIN_SPEAKER_WEIGHT;
pub use diarize::{Diarization, DiarizeOptions, SpeakerCount, SpeakerStats, diarize};
pub use ecapa::EcapaEncoder;
pub use ge2e::Ge2eEncoder;
pub use torch_legacy::{Tensor, load_state_dict};
pub use torch_zip::load_zip_state_dict;

/// A voice embedding: unit length, compared by cosine similarity (a dot product).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// `v` scaled to unit length (left as is when all zero).
    pub fn normalized(mut v: Vec<f32>) -> Self {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        Self(v)
    }

    /// Cosine similarity with `other` (both unit length): 1 for the same direction.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    /// The unit-length weighted mean of `items` (`None` when empty or all weights are zero).
    pub fn mean<'a>(items: impl IntoIterator<Item = (&'a Embedding, f32)>) -> Option<Embedding> {
        let mut sum: Vec<f32> = Vec::new();
        let mut total = 0.0;
        for (e, w) in items {
            if sum.is_empty() {
                sum = vec![0.0; e.0.len()];
            }
            sum.iter_mut().zip(&e.0).for_each(|(s, x)| *s += w * x);
            total += w;
        }
        (total > 0.0).then(|| Embedding::normalized(sum))
    }
}

/// The embedding of one window of an utterance, with where the window lies in it.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowEmbedding {
    /// First sample of the window in the utterance.
    pub start: usize,
    /// One past its last sample (may run past the utterance's end: the model zero-pads).
    pub end: usize,
    /// The window's voice.
    pub embedding: Embedding,
}

impl WindowEmbedding {
    /// The windows of each utterance from their spans (`(start, end)` per window, utterance by
    /// utterance) and the embeddings of all windows in the same order, flat: how an encoder that
    /// embeds every window of a call in one batch hands them back.
    pub fn regroup(
        spans: Vec<Vec<(usize, usize)>>,
        embeddings: Vec<Embedding>,
    ) -> Vec<Vec<WindowEmbedding>> {
        let mut embeddings = embeddings.into_iter();
        spans
            .into_iter()
            .map(|windows| {
                windows
                    .into_iter()
                    .zip(embeddings.by_ref())
                    .map(|((start, end), embedding)| WindowEmbedding {
                        start,
                        end,
                        embedding,
                    })
                    .collect()
            })
            .collect()
    }
}

/// Turns speech into voice embeddings; one implementation per model.
pub trait SpeakerEncoder: Send + Sync {
    /// Short name of the model, for reports.
    fn name(&self) -> &str;
    /// Sample rate the utterances must have (mono).
    fn sample_rate(&self) -> u32;
    /// Average cosine similarity of two groups of this model's window embeddings at or above
    /// which they are one speaker: a property of the model's score scale, calibrated once per
    /// model (see each model's module).
    fn same_speaker_threshold(&self) -> f32;
    /// One embedding per utterance.
    fn embed(&self, utterances: &[&[f32]]) -> Result<Vec<Embedding>, SpeakerError>;
    /// The embeddings of overlapping windows along each utterance (in order), from which a
    /// change of voice inside an utterance can be found. By default, one window per utterance
    /// (a model that cannot do better finds no change inside a line).
    fn embed_windows(
        &self,
        utterances: &[&[f32]],
    ) -> Result<Vec<Vec<WindowEmbedding>>, SpeakerError> {
        let whole = self.embed(utterances)?;
        Ok(whole
            .into_iter()
            .zip(utterances)
            .map(|(embedding, u)| {
                vec![WindowEmbedding {
                    start: 0,
                    end: u.len(),
                    embedding,
                }]
            })
            .collect())
    }
}

/// Errors of speaker diarization.
#[derive(Debug, thiserror::Error)]
pub enum SpeakerError {
    /// The model is not installed (the message names the setup command).
    #[error(transparent)]
    Missing(#[from] crate::models::ModelError),
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The model file is not what the encoder expects.
    #[error("speaker model {}: {reason}", path.display())]
    Model {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The speech WAV could not be read.
    #[error("speech audio {}: {source}", path.display())]
    Wav {
        /// The WAV file.
        path: PathBuf,
        /// The cause.
        source: hound::Error,
    },
    /// The speech WAV is not 16 kHz mono.
    #[error("speech audio {}: {found}, expected {expected} Hz mono", path.display())]
    WavFormat {
        /// The WAV file.
        path: PathBuf,
        /// What it is.
        found: String,
        /// The rate the encoder needs.
        expected: u32,
    },
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_unit_length_and_averaged_by_weight() {
        let a = Embedding::normalized(vec![3.0, 4.0]);
        assert_eq!(a.0, vec![0.6, 0.8]);
        assert!((a.cosine(&a) - 1.0).abs() < 1e-6);
        let x = Embedding::normalized(vec![1.0, 0.0]);
        let y = Embedding::normalized(vec![0.0, 1.0]);
        let m = Embedding::mean([(&x, 3.0), (&y, 1.0)]).unwrap();
        assert!((m.0[0] / m.0[1] - 3.0).abs() < 1e-5, "{m:?}");
        assert!(Embedding::mean([(&x, 0.0)]).is_none());
        assert_eq!(Embedding::normalized(vec![0.0, 0.0]).0, vec![0.0, 0.0]);
    }
}
