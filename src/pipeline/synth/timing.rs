//! What synth needs to know of the video before anything is planned: its probe, its length (the
//! track's, in samples at [`timeline::RATE`]) and the timing policy completed with its scene cuts.
//! Shared by [`super::synth_with_shortening`] and the studio's [`super::session`].

use std::path::Path;

use super::{SynthStageError, off_runtime};
use crate::media::{self, Probe};
use crate::timeline::{self, Mode, Policy};

/// How much the picture must change to count as a scene cut (ffmpeg's `scene` score, 0–1).
const SCENE_THRESHOLD: f64 = 0.4;

/// The video's probe, length and the policy its lines are planned with.
pub(super) struct VideoTiming {
    pub info: Probe,
    pub video_secs: f64,
    /// The track's length, samples at [`timeline::RATE`].
    pub track: u64,
    pub policy: Policy,
}

impl VideoTiming {
    /// Checks `policy`, probes `video` (off the async threads) and adds its scene cuts.
    pub async fn of(video: &Path, policy: &Policy) -> Result<Self, SynthStageError> {
        policy.validate().map_err(SynthStageError::Policy)?;
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
    policy: &Policy,
) -> Result<Policy, SynthStageError> {
    let mut policy = policy.clone();
    if policy.mode == Mode::Block && policy.scene_cuts_ms.is_empty() && info.has_video() {
        let owned = video.to_path_buf();
        policy.scene_cuts_ms =
            off_runtime(move || media::scene_cuts(&owned, SCENE_THRESHOLD)).await??;
        tracing::info!(
            "{}: {} scene cuts",
            video.display(),
            policy.scene_cuts_ms.len()
        );
    }
    Ok(policy)
}
