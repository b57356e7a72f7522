//! In-process DSP on mono `f32` sample buffers: decode, resample, stretch, level, mix, write.
//!
//! Every step works on plain sample buffers in the process, with no external tool per clip, so a
//! clip costs what its samples cost, and the track is written by streaming (see
//! [`crate::timeline::render`]). Everything is mono: speech is mono, and one channel halves the
//! work of every later step. (The original audio under the dub keeps its channels: that is
//! [`crate::background`]'s.) The one exception is the crate-internal `Pcm` (`pcm.rs`): the strict
//! check of what a speech engine sent, which keeps its 16-bit samples exactly as they came so a
//! cached clip is the clip that was sent.

mod decode;
mod level;
mod mix;
mod pcm;
pub mod pitch;
mod resample;
mod stretch;
pub(crate) mod wav;
mod wsola;

pub use decode::{decode, decode_pcm16};
pub use level::{apply_gain_db, fade_edges, loudness_lufs, normalize_loudness, trim_silence};
pub use mix::{Ducking, duck_mix, duck_mix_files, duck_mix_into};
pub(crate) use pcm::Pcm;
pub use resample::resample;
pub use stretch::{StretchQuality, stretch_to_len, stretch_to_len_with};
pub use wav::{pcm16_bytes, read_wav, wav_bytes, write_wav};

use std::path::PathBuf;

/// A mono clip: `samples` at `rate` samples per second.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Clip {
    /// Samples per second.
    pub rate: u32,
    /// Mono samples, full scale ±1.
    pub samples: Vec<f32>,
}

impl Clip {
    /// A clip of `samples` at `rate` Hz.
    pub fn new(rate: u32, samples: Vec<f32>) -> Self {
        Self { rate, samples }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when the clip has no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Length in seconds (0 for a clip without a rate).
    pub fn duration_secs(&self) -> f64 {
        if self.rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.rate)
    }

    /// Number of samples this clip has once resampled to `rate` (what [`resample()`] returns).
    pub fn len_at_rate(&self, rate: u32) -> u64 {
        resample::resampled_len(self.samples.len(), self.rate, rate)
    }
}

/// What can go wrong in the audio module. Decoding errors say what the bytes looked like, since
/// the usual cause is a TTS service answering with an error page instead of audio.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot decode audio ({what}): {reason}")]
    Decode { what: String, reason: String },
    #[error("audio ({what}) decoded to no samples")]
    NoSamples { what: String },
    #[error("raw 16-bit PCM must have an even number of bytes, got {len}")]
    OddPcmLength { len: usize },
    #[error("invalid sample rate {rate}")]
    InvalidRate { rate: u32 },
    #[error("resampling {from} Hz to {to} Hz failed: {reason}")]
    Resample { from: u32, to: u32, reason: String },
    #[error("WAV file {path}: {source}")]
    Wav {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
    #[error("loudness measurement failed: {reason}")]
    Loudness { reason: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
