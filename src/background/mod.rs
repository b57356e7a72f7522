//! The original audio under the new voice, in the source's own channel layout.
//!
//! The dub is one mono voice; the source may be mono, stereo or a film's 5.1. Folding the source to
//! mono would flatten every music bed and every surround mix, so the background keeps its
//! channels and the dub is placed where dialogue lives: the centre channel of 5.1/7.1, the middle
//! of a stereo image. Three ways to treat the original ([`Mode`]):
//!
//! - `duck` and `mix`: the original stays, lowered under every line or at a constant level.
//! - `separate`: the original *voice* goes and music and effects stay, by what the layout allows
//!   ([`Method`]): a 5.1/7.1 source's centre channel is replaced by the dub ([`CentreChannel`]);
//!   a stereo source loses its centred component in the original lines' windows ([`StereoMask`]);
//!   a mono source cannot be separated by layout and is ducked instead, with a warning. The
//!   trained model ([`crate::separation`], Spleeter) comes in through the [`Separator`] trait and
//!   works on every layout: it is the default where it is installed.
//!
//! Either way the dub is loudness-matched to the original dialogue (EBU R128 over the lines'
//! windows), the background keeps its level, and everything streams in blocks (`render`), so
//! memory does not grow with the film's length. The mix runs at [`MIX_RATE`].

mod gate;
mod layout;
mod loudness;
mod render;
mod stereo;
mod upsample;
mod wavio;

pub use gate::Gate;
pub use layout::{Layout, Shape};
pub use loudness::{Loudness, measure_windows};
pub use render::{MixJob, render};
pub use stereo::StereoMask;
pub use upsample::Upsample2;
pub use wavio::{PcmReader, PcmWriter};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The mix's sample rate. 48 kHz is what video audio almost always is (AAC and Opus in MP4, MKV,
/// WebM), so most sources are taken at their own rate and music keeps its top octave (the
/// timeline's 24 kHz would cut it at 12 kHz); a 44.1 kHz source is converted once, by ffmpeg on
/// extraction. One fixed rate keeps the STFT and ramps the same for every source, and it is
/// exactly twice the timeline's rate, so the dub is raised by an exact 2× interpolator.
pub const MIX_RATE: u32 = 48_000;
const _: () = assert!(MIX_RATE == 2 * crate::timeline::RATE);

/// What to do with the original audio (the `--background` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Duck,
    Mix,
    None,
    Separate,
}

/// How the original audio was actually treated; recorded in `report.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Lowered under every line.
    Duck,
    /// Kept at a constant level.
    Mix,
    /// Not used (`--background none`, or a video without audio).
    None,
    /// `separate` on 5.1/7.1: the centre channel replaced by the dub, the others kept.
    CentreChannel,
    /// `separate` on stereo: the centred component removed in the lines' windows.
    StereoMask,
    /// `separate` where the layout separates nothing (mono): ducked instead.
    DuckFallback,
    /// `separate` by the trained model ([`crate::separation`]): the voice taken out of the voice
    /// channels (mono, stereo, or the centre of 5.1/7.1) in the lines' windows, music kept.
    Model,
}

/// Takes the original voice out of a stream of background frames.
///
/// Frames are interleaved, in the background's channel layout, and what comes out is the same
/// layout without the voice. A separator may hold frames back (an STFT needs a whole frame) but
/// gives back exactly as many as it took once [`Separator::finish`] is called. A model-based
/// separator ([`crate::separation::ModelSeparator`]) implements this and is handed to [`render`] like the layout-based ones.
pub trait Separator: Send {
    /// What the report calls this method.
    fn method(&self) -> Method;
    /// Takes `frames` and appends the frames that are ready to `out`.
    fn push(&mut self, frames: &[f32], out: &mut Vec<f32>);
    /// Appends every frame still held.
    fn finish(&mut self, out: &mut Vec<f32>);
}

/// The separator for layouts with a dialogue channel: that channel is silenced, the dub goes in
/// its place, and every other channel passes untouched.
pub struct CentreChannel {
    pub channels: usize,
    pub centre: usize,
}

impl Separator for CentreChannel {
    fn method(&self) -> Method {
        Method::CentreChannel
    }
    fn push(&mut self, frames: &[f32], out: &mut Vec<f32>) {
        let start = out.len();
        out.extend_from_slice(frames);
        for frame in out[start..].chunks_exact_mut(self.channels) {
            frame[self.centre] = 0.0;
        }
    }
    fn finish(&mut self, _out: &mut Vec<f32>) {}
}

/// How the background was treated, for `report.json` (`"background"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundReport {
    /// What was asked (`--background`).
    pub mode: Mode,
    /// What was done.
    pub method: Method,
    /// Why the method is not the one asked for (`separate` on a mono source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Channels of the track muxed (the source's).
    pub channels: u16,
    /// ffmpeg's name of their layout.
    pub layout: String,
    /// Sample rate of the track muxed.
    pub rate: u32,
    /// Loudness of the original dialogue over the lines' windows (LUFS), when measurable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialogue_lufs: Option<f64>,
    /// Loudness of the dub where it speaks (LUFS), before its gain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dub_lufs: Option<f64>,
    /// Gain given to the dub to sit where the dialogue sat (dB).
    pub dub_gain_db: f64,
}

/// What can go wrong while mixing the background.
#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    #[error("{}: {reason}", path.display())]
    Wav { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: the dub must be mono at {expected} Hz, found {channels} channel(s) at {rate} Hz", path.display())]
    DubFormat {
        path: PathBuf,
        expected: u32,
        channels: u16,
        rate: u32,
    },
    #[error("{}: the background must be at {expected} Hz, found {rate} Hz", path.display())]
    BackgroundRate {
        path: PathBuf,
        expected: u32,
        rate: u32,
    },
    #[error("loudness measurement failed: {0}")]
    Loudness(String),
}
