//! What synth needs to know of the video before anything is planned: its probe, its length (the
//! track's, in samples at [`timeline::RATE`]) and the timing policy completed with its scene cuts.
//! Called once per command, by [`super::context::SynthContext::open`].

use std::path::Path;

use super::{SynthStageError, off_runtime};
use crate::media::{self, Probe};
use crate::timeline::{self, Mode, ValidPolicy};

/// How much the picture must change to count as a scene cut (ffmpeg's `scene` score, 0–1).
const SCENE_THRESHOLD: f64 = 0.4;

/// The video's probe, length and the policy its lines are planned with.
pub(super) struct VideoTiming {
    pub info: Probe,
    pub video_secs: f64,
    /// The track's length, samples at [`timeline::RATE`].
    pub track: u64,
    pub policy: ValidPolicy,
}

impl VideoTiming {
    /// Probes `video` (off the async threads) and adds its scene cuts to `policy`.
    pub async fn of(video: &Path, policy: ValidPolicy) -> Result<Self, SynthStageError> {
        let info = {
            let video = video.to_path_buf();
            off_runtime(move || media::probe(&video)).await??
        };
        let video_secs = info.target_duration_secs();
        let track = timeline::track_len(video_secs, timeline::RATE)?;
        let policy = with_scene_cuts(video, &info, policy).await?;
        Ok(Self {
            info,
            video_secs,
            track,
            policy,
        })
    }
}

/// `policy`, with the video's scene cuts in block mode (a new block starts at every cut of the
/// picture) unless the caller gave them.
async fn with_scene_cuts(
    video: &Path,
    info: &Probe,
    policy: ValidPolicy,
) -> Result<ValidPolicy, SynthStageError> {
    if policy.mode == Mode::Block && policy.scene_cuts_ms.is_empty() && info.has_video() {
        let owned = video.to_path_buf();
        let cuts = off_runtime(move || media::scene_cuts(&owned, SCENE_THRESHOLD)).await??;
        tracing::info!("{}: {} scene cuts", video.display(), cuts.len());
        return Ok(policy.with_scene_cuts(cuts));
    }
    Ok(policy)
}
