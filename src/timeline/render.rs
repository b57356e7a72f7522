//! Rendering a plan: each clip stretched as planned, faded at its edges, written at its exact
//! sample position into a WAV exactly as long as the video.
//!
//! The track is written front to back: the silence before a clip, then the clip, then the next.
//! Only one clip is in memory at a time and clips are asked for when needed ([`ClipSource`]), so
//! memory stays flat however long the video is. Clips that play at their natural speed are copied, never run through the stretcher.

use super::TimelineError;
use super::plan::{Placement, Plan};
use crate::audio::{self, AudioError, Clip};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Samples written per block of silence.
const BLOCK: usize = 8192;

/// Where the renderer gets each chunk's clip, resampled to the plan's rate. Implemented for
/// clips in memory (`[Clip]`) and files on disk ([`ClipFiles`]); implement it to produce clips
/// lazily from anywhere else.
pub trait ClipSource {
    /// Length in samples at `rate` of chunk `index`'s clip; `None` if it has none.
    fn natural_len(&mut self, index: usize, rate: u32) -> Result<Option<u64>, AudioError>;
    /// Chunk `index`'s clip at `rate`; `None` if it has none.
    fn load(&mut self, index: usize, rate: u32) -> Result<Option<Clip>, AudioError>;
    /// A key that changes whenever chunk `index`'s clip does (a file's path, size and
    /// modification time), so that what is derived from it can be remembered; `None` when
    /// unknown.
    fn content_key(&self, _index: usize) -> Option<String> {
        None
    }
}

impl ClipSource for [Clip] {
    fn natural_len(&mut self, index: usize, rate: u32) -> Result<Option<u64>, AudioError> {
        Ok(self.get(index).map(|c| c.len_at_rate(rate)))
    }

    fn load(&mut self, index: usize, rate: u32) -> Result<Option<Clip>, AudioError> {
        self.get(index)
            .map(|c| audio::resample(c, rate))
            .transpose()
    }
}

impl<S: ClipSource + ?Sized> ClipSource for &mut S {
    fn natural_len(&mut self, index: usize, rate: u32) -> Result<Option<u64>, AudioError> {
        (**self).natural_len(index, rate)
    }

    fn load(&mut self, index: usize, rate: u32) -> Result<Option<Clip>, AudioError> {
        (**self).load(index, rate)
    }

    fn content_key(&self, index: usize) -> Option<String> {
        (**self).content_key(index)
    }
}

/// Another source's clips without their leading and trailing silence (see
/// [`audio::trim_silence`]), so that the voice, not the engine's padding, starts on the window.
#[derive(Debug, Clone)]
pub struct TrimSilence<S> {
    pub inner: S,
    /// Level below which a sample is silence, dBFS.
    pub threshold_db: f32,
    /// Silence kept before the first and after the last sound.
    pub keep_ms: u32,
}

impl<S> TrimSilence<S> {
    /// Trims below -50 dBFS, keeping 20 ms on each side.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            threshold_db: -50.0,
            keep_ms: 20,
        }
    }
}

/// Trimmed lengths already measured, by clip content and trim settings. Measuring decodes,
/// resamples and trims the whole clip; planning asks for every length several times (second
/// takes plan twice, then the render), and the studio re-plans after every edit.
fn trimmed_lengths() -> &'static Mutex<HashMap<String, u64>> {
    static LENGTHS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    LENGTHS.get_or_init(Default::default)
}

impl<S: ClipSource> ClipSource for TrimSilence<S> {
    fn natural_len(&mut self, index: usize, rate: u32) -> Result<Option<u64>, AudioError> {
        let key = self
            .inner
            .content_key(index)
            .map(|k| format!("{k}|{rate}|{}|{}", self.threshold_db, self.keep_ms));
        let known = |key: &String| trimmed_lengths().lock().ok()?.get(key).copied();
        if let Some(len) = key.as_ref().and_then(known) {
            return Ok(Some(len));
        }
        let len = self.load(index, rate)?.map(|c| c.len() as u64);
        if let (Some(key), Some(len), Ok(mut lengths)) = (key, len, trimmed_lengths().lock()) {
            lengths.insert(key, len);
        }
        Ok(len)
    }

    fn content_key(&self, index: usize) -> Option<String> {
        self.inner.content_key(index)
    }

    fn load(&mut self, index: usize, rate: u32) -> Result<Option<Clip>, AudioError> {
        let clip = self.inner.load(index, rate)?;
        Ok(clip.map(|c| audio::trim_silence(&c, self.threshold_db, self.keep_ms)))
    }
}

/// Clips in audio files (any format [`audio::decode`] reads), one optional path per chunk. A
/// file is decoded once to learn its length and again when it is placed, to keep memory flat.
#[derive(Debug, Clone, Default)]
pub struct ClipFiles {
    /// The clip file of each chunk, by index; `None` for chunks without a clip (silence).
    pub paths: Vec<Option<PathBuf>>,
}

impl ClipSource for ClipFiles {
    fn content_key(&self, index: usize) -> Option<String> {
        let path = self.paths.get(index)?.as_ref()?;
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(format!(
            "{}|{}|{}.{}",
            path.display(),
            meta.len(),
            modified.as_secs(),
            modified.subsec_nanos()
        ))
    }

    fn natural_len(&mut self, index: usize, rate: u32) -> Result<Option<u64>, AudioError> {
        match self.paths.get(index) {
            Some(Some(path)) => Ok(Some(audio::read_wav(path)?.len_at_rate(rate))),
            _ => Ok(None),
        }
    }

    fn load(&mut self, index: usize, rate: u32) -> Result<Option<Clip>, AudioError> {
        match self.paths.get(index) {
            Some(Some(path)) => Ok(Some(audio::resample(&audio::read_wav(path)?, rate)?)),
            _ => Ok(None),
        }
    }
}

/// What rendering did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RenderStats {
    /// Samples in the track (its exact length).
    pub samples: u64,
    /// Clips written to the track.
    pub clips_placed: usize,
    /// Clips that went through the stretcher (speed ≠ 1).
    pub clips_stretched: usize,
}

/// Writes the track for `plan` to `out` (mono 16-bit WAV at the plan's rate, exactly
/// `plan.track_len` samples), fading each clip's edges over `fade_ms`. The track is written under
/// a temporary name and renamed when complete: `out` is never seen half written, and an earlier
/// track stays whole until the new one replaces it.
pub fn render<S: ClipSource + ?Sized>(
    plan: &Plan,
    clips: &mut S,
    out: &Path,
    fade_ms: u32,
) -> Result<RenderStats, TimelineError> {
    let tmp = crate::fsutil::TempFile::beside(out);
    let stats = render_to(plan, clips, tmp.path(), fade_ms)?;
    tmp.persist(out).map_err(|source| TimelineError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(stats)
}

fn render_to<S: ClipSource + ?Sized>(
    plan: &Plan,
    clips: &mut S,
    out: &Path,
    fade_ms: u32,
) -> Result<RenderStats, TimelineError> {
    let wav_err = |source| TimelineError::Wav {
        path: out.to_path_buf(),
        source,
    };
    // A WAV's data size is a u32 of bytes.
    if plan.track_len.saturating_mul(2) > u64::from(u32::MAX) - 64 {
        return Err(TimelineError::TrackTooLong {
            samples: plan.track_len,
        });
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: plan.rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let file = File::create(out).map_err(|source| TimelineError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut writer =
        hound::WavWriter::new(BufWriter::with_capacity(1 << 16, file), spec).map_err(wav_err)?;
    let fade_len = (u64::from(fade_ms) * u64::from(plan.rate) / 1000) as usize;

    let mut order: Vec<_> = plan
        .placements
        .iter()
        .filter(|p| p.end() > p.start)
        .collect();
    order.sort_by_key(|p| p.start);
    let mut stats = RenderStats {
        samples: plan.track_len,
        ..Default::default()
    };
    let mut cursor = 0u64;
    // Stretching is the only costly step: clips are loaded in order on this thread, stretched on
    // up to `workers` scoped threads, and written in order, so at most `workers + 1` clips are in
    // memory at once.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    std::thread::scope(|scope| -> Result<(), TimelineError> {
        let mut pending: VecDeque<(&Placement, Stretch<'_>)> = VecDeque::new();
        for p in order {
            let clip_err = |source| TimelineError::Clip {
                id: p.id,
                index: p.index,
                source,
            };
            let clip = clips.load(p.index, plan.rate).map_err(clip_err)?.ok_or(
                TimelineError::MissingClip {
                    id: p.id,
                    index: p.index,
                },
            )?;
            if clip.len() as u64 != p.natural {
                return Err(TimelineError::ClipLengthChanged {
                    id: p.id,
                    planned: p.natural,
                    actual: clip.len() as u64,
                });
            }
            let job = if p.played == p.natural {
                Stretch::Ready(clip.samples)
            } else {
                stats.clips_stretched += 1;
                let (rate, len) = (plan.rate, p.played as usize);
                Stretch::Running(
                    scope.spawn(move || audio::stretch_to_len(&clip.samples, rate, len)),
                )
            };
            pending.push_back((p, job));
            while pending.len() > workers {
                if let Some((p, job)) = pending.pop_front() {
                    cursor = place(&mut writer, cursor, p, job, fade_len, out)?;
                    stats.clips_placed += 1;
                }
            }
        }
        while let Some((p, job)) = pending.pop_front() {
            cursor = place(&mut writer, cursor, p, job, fade_len, out)?;
            stats.clips_placed += 1;
        }
        Ok(())
    })?;
    write_silence(&mut writer, plan.track_len.saturating_sub(cursor)).map_err(wav_err)?;
    writer.finalize().map_err(wav_err)?;
    Ok(stats)
}

type Writer = hound::WavWriter<BufWriter<File>>;

/// A clip's samples as they will be played: as they are, or being stretched on a worker.
enum Stretch<'scope> {
    Ready(Vec<f32>),
    Running(std::thread::ScopedJoinHandle<'scope, Vec<f32>>),
}

/// Writes the silence up to `p.start`, then the clip (faded); returns the new write position.
fn place(
    writer: &mut Writer,
    cursor: u64,
    p: &Placement,
    job: Stretch<'_>,
    fade_len: usize,
    out: &Path,
) -> Result<u64, TimelineError> {
    let wav_err = |source| TimelineError::Wav {
        path: out.to_path_buf(),
        source,
    };
    let mut samples = match job {
        Stretch::Ready(samples) => samples,
        Stretch::Running(handle) => handle
            .join()
            .map_err(|_| TimelineError::StretchFailed { id: p.id })?,
    };
    if p.start < cursor {
        return Err(TimelineError::Overlap {
            id: p.id,
            start: p.start,
            previous_end: cursor,
        });
    }
    audio::fade_edges(&mut samples, fade_len);
    write_silence(writer, p.start - cursor).map_err(wav_err)?;
    let visible = ((p.end() - p.start) as usize).min(samples.len());
    write_samples(writer, &samples[..visible]).map_err(wav_err)?;
    Ok(p.end())
}

fn write_samples(writer: &mut Writer, samples: &[f32]) -> Result<(), hound::Error> {
    for block in samples.chunks(BLOCK) {
        let mut w16 = writer.get_i16_writer(block.len() as u32);
        for &s in block {
            w16.write_sample(audio::wav::to_i16(s));
        }
        w16.flush()?;
    }
    Ok(())
}

fn write_silence(writer: &mut Writer, mut n: u64) -> Result<(), hound::Error> {
    while n > 0 {
        let len = n.min(BLOCK as u64) as u32;
        let mut w16 = writer.get_i16_writer(len);
        for _ in 0..len {
            w16.write_sample(0i16);
        }
        w16.flush()?;
        n -= u64::from(len);
    }
    Ok(())
}
