//! One prepared synth context: what `synth`, `run`, the cost estimate and the studio's
//! [`Session`](super::session::Session) all need before the first request — the policy checked
//! once ([`ValidPolicy`]), the video probed and its scene cuts found ([`VideoTiming::of`]), the
//! reviewed subtitles read, the work directory locked and the clip cache opened — made once per
//! command and handed down, so no stage reads, probes, locks or opens any of it again.
//!
//! Why separate: the synth stage and the studio session used to set themselves up each their own
//! way; the estimate read subs.srt a second time.

use std::path::Path;

use super::timing::VideoTiming;
use super::{SynthOptions, SynthStageError, read_reviewed_subtitles};
use crate::media::Probe;
use crate::pipeline::workdir::{Workdir, WorkdirLock};
use crate::progress::Stage;
use crate::segment::Segment;
use crate::timeline::ValidPolicy;
use crate::tts::{BatchOptions, BatchRunner, Cache};

/// A video and its work directory, ready to synthesize. See the module doc.
pub struct SynthContext {
    pub(super) info: Probe,
    pub(super) video_secs: f64,
    /// The track's length, samples at [`crate::timeline::RATE`].
    pub(super) track: u64,
    pub(super) policy: ValidPolicy,
    pub(super) segments: Vec<Segment>,
    pub(super) cache: Cache,
    pub(super) _lock: WorkdirLock,
}

impl SynthContext {
    /// Check `opts`' policy, probe `video`, read `workdir`'s subs.srt, lock `workdir` and open
    /// its clip cache.
    pub async fn open(
        video: &Path,
        workdir: &Workdir,
        opts: &SynthOptions,
    ) -> Result<Self, SynthStageError> {
        Self::with_subtitles(video, workdir, opts, read_reviewed_subtitles(workdir)).await
    }

    /// [`SynthContext::open`] with subs.srt already read (by a caller that priced its lines
    /// first): a failure to read it is reported where `open` would report it, after the probe.
    pub async fn with_subtitles(
        video: &Path,
        workdir: &Workdir,
        opts: &SynthOptions,
        segments: Result<Vec<Segment>, SynthStageError>,
    ) -> Result<Self, SynthStageError> {
        let policy = ValidPolicy::new(opts.policy.clone()).map_err(SynthStageError::Policy)?;
        let VideoTiming {
            info,
            video_secs,
            track,
            policy,
        } = VideoTiming::of(video, policy).await?;
        let segments = segments?;
        let lock = workdir.lock()?;
        let cache = Cache::open(workdir.tts_cache_dir())?;
        Ok(Self {
            info,
            video_secs,
            track,
            policy,
            segments,
            cache,
            _lock: lock,
        })
    }

    /// The reviewed lines (subs.srt), as read once.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The video's length, seconds.
    pub fn video_secs(&self) -> f64 {
        self.video_secs
    }

    /// The policy the lines are planned with (checked, with the video's scene cuts).
    pub fn policy(&self) -> &ValidPolicy {
        &self.policy
    }

    /// A batch runner over the context's cache, reporting to `progress`.
    pub(super) fn runner(&self, batch: &BatchOptions, progress: Option<Stage>) -> BatchRunner {
        BatchRunner::new(
            self.cache.clone(),
            BatchOptions {
                progress,
                ..batch.clone()
            },
        )
    }
}
