//! The timeline: fit every utterance into its window ([`plan`]), render one track exactly as long
//! as the video ([`render`]), and report every decision ([`report`]).
//!
//! Plan, then render: the plan is a pure function of numbers (windows, clip lengths, video length,
//! [`Policy`]) that tests can drive without audio; rendering applies it to audio; the report is the
//! plan written out. [`build_track`] does all three.
//!
//! The track is built at [`RATE`] = 24 kHz: TTS engines deliver speech at 22.05 or 24 kHz (OpenAI
//! and most local voices at 24 kHz, so they need no resampling at all), speech carries nothing
//! above 12 kHz, and half the samples of 48 kHz halve the cost of stretching and writing. The
//! muxer converts to the video's audio rate once, at the end.

mod blocks;
mod plan;
mod policy;
mod render;
mod report;

pub use plan::{Placement, Plan, PlanError, Warning, plan, plan_valid};
pub use policy::{FitMode, Mode, Policy, ValidPolicy};
pub use render::{ClipFiles, ClipSource, RenderStats, TrimSilence, render};
pub use report::{ChunkReport, Report, SpeakerLine, Summary, report};

use crate::audio::AudioError;
use crate::segment::Chunk;
use std::path::{Path, PathBuf};

/// Sample rate of the track and of every position in a plan made by [`build_track`].
pub const RATE: u32 = 24_000;

/// What can go wrong building a track.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("invalid video duration {0} s")]
    InvalidDuration(f64),
    #[error("clip of chunk {id} (index {index}): {source}")]
    Clip {
        id: usize,
        index: usize,
        #[source]
        source: AudioError,
    },
    #[error("chunk {id} (index {index}) has text but no clip")]
    MissingClip { id: usize, index: usize },
    #[error(
        "clip of chunk {id} changed length between planning ({planned} samples) and rendering ({actual})"
    )]
    ClipLengthChanged {
        id: usize,
        planned: u64,
        actual: u64,
    },
    #[error(
        "chunk {id} planned at sample {start}, before the previous clip ends at {previous_end}"
    )]
    Overlap {
        id: usize,
        start: u64,
        previous_end: u64,
    },
    #[error("stretching the clip of chunk {id} failed")]
    StretchFailed { id: usize },
    #[error("a track of {samples} samples is too long for a WAV file")]
    TrackTooLong { samples: u64 },
    #[error("writing {path}: {source}")]
    Wav {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing report {path}: {reason}")]
    Report { path: PathBuf, reason: String },
}

/// `ms` milliseconds as a whole number of samples at `rate`, rounded to the nearest: every
/// position the plan, the synth stage and ducking compute goes through here, so they agree to the
/// sample.
pub fn ms_to_samples(ms: u64, rate: u32) -> u64 {
    let samples = (u128::from(ms) * u128::from(rate) + 500) / 1000;
    u64::try_from(samples).unwrap_or(u64::MAX)
}

/// The natural length (samples at `rate`) of every chunk's clip, in chunk order: `Some(0)` for a
/// chunk with nothing to say, `None` for a chunk with text whose clip is missing (a line whose
/// synthesis failed). What the plan is made from, by the render and the synth stage alike.
pub fn clip_lengths<S: ClipSource + ?Sized>(
    chunks: &[Chunk],
    clips: &mut S,
    rate: u32,
) -> Result<Vec<Option<u64>>, TimelineError> {
    chunks
        .iter()
        .enumerate()
        .map(|(index, chunk)| match chunk.is_empty() {
            true => Ok(Some(0)),
            false => clips
                .natural_len(index, rate)
                .map_err(|source| TimelineError::Clip {
                    id: chunk.id,
                    index,
                    source,
                }),
        })
        .collect()
}

/// The track length for a video of `video_secs` seconds: `round(video_secs × rate)` samples.
pub fn track_len(video_secs: f64, rate: u32) -> Result<u64, TimelineError> {
    if !(0.0..=1.0e7).contains(&video_secs) {
        return Err(TimelineError::InvalidDuration(video_secs));
    }
    Ok((video_secs * f64::from(rate)).round() as u64)
}

/// Plans, renders and reports a dubbed track: chunks and their clips in, a WAV at `out` exactly
/// `round(video_secs × 24000)` samples long and the [`Report`] out.
///
/// `clips` gives each chunk's clip by index (a `[Clip]` slice, [`ClipFiles`], or your own
/// [`ClipSource`]); chunks without text are silence and need no clip.
///
/// ```
/// use dubber::audio::Clip;
/// use dubber::timeline::{build_track, Policy};
/// use dubber::{Chunk, Window};
///
/// let chunk = |id, text: &str, start, end| Chunk {
///     id,
///     text: text.into(),
///     windows: vec![Window::new(start, end)],
///     segments: vec![id],
/// };
/// let chunks = vec![chunk(0, "Hello there.", 500, 1500), chunk(1, "", 2000, 2500), chunk(2, "Bye.", 3000, 3400)];
/// // One second of tone at 24 kHz for the first line, 0.6 s (longer than its window) for the last.
/// let tone = |secs: f64| {
///     let n = (secs * 24000.0) as usize;
///     Clip::new(24000, (0..n).map(|i| (i as f32 * 0.05).sin() * 0.3).collect())
/// };
/// let mut clips = vec![tone(1.0), Clip::default(), tone(0.6)];
/// let out = std::env::temp_dir().join("dubber-doc-track.wav");
/// let report = build_track(&chunks, &mut clips[..], 4.0, &Policy::default(), &out)?;
/// assert_eq!(report.chunks[2].start, 3.0); // starts on its window, using the pause after it
/// assert_eq!(report.chunks[2].speed, 1.0);
/// assert_eq!(hound::WavReader::open(&out)?.duration(), 96_000); // exactly 4 s
/// println!("{}", report.human_summary());
/// # std::fs::remove_file(&out).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn build_track<S: ClipSource + ?Sized>(
    chunks: &[Chunk],
    clips: &mut S,
    video_secs: f64,
    policy: &Policy,
    out: &Path,
) -> Result<Report, TimelineError> {
    build_track_with_plan(chunks, clips, video_secs, policy, out).map(|(report, _)| report)
}

/// [`build_track`], also returning the [`Plan`] (for ducking a background under its speech).
pub fn build_track_with_plan<S: ClipSource + ?Sized>(
    chunks: &[Chunk],
    clips: &mut S,
    video_secs: f64,
    policy: &Policy,
    out: &Path,
) -> Result<(Report, Plan), TimelineError> {
    let track = track_len(video_secs, RATE)?;
    let natural = clip_lengths(chunks, clips, RATE)?
        .into_iter()
        .enumerate()
        .map(|(index, len)| {
            len.ok_or(TimelineError::MissingClip {
                id: chunks[index].id,
                index,
            })
        })
        .collect::<Result<Vec<u64>, _>>()?;
    let plan = plan(chunks, &natural, track, RATE, policy)?;
    render(&plan, clips, out, policy.fade_ms)?;
    Ok((report(&plan, chunks, policy), plan))
}
