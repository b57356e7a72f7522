//! The fit carried through the stage: each chunk's clip and the plan made of them, as one value.
//! It is planned once from the first takes; second takes ([`super::takes`]) update its clips and
//! re-plan only after a change; rendering consumes its plan instead of planning again. A clip's
//! length is measured once per clip content ([`crate::timeline::TrimSilence`] remembers lengths by
//! the file's content key), so a re-plan decodes only the clips that changed.
//!
//! Why a value: the plan used to be made from scratch by each step that needed it (the first-take
//! check, each round of second takes, the cap check, and again by the render).

use super::{Clips, SynthStageError, off_runtime};
use crate::Chunk;
use crate::timeline::{self, Plan, TimelineError, ValidPolicy};

/// Plan `chunks` with the clips as they are now; a missing clip (a failed line) is silence. The
/// clips are decoded to learn the lengths not yet known: CPU work, done off the async threads.
pub(super) async fn plan_clips(
    chunks: &[Chunk],
    clips: &Clips,
    track: u64,
    policy: &ValidPolicy,
) -> Result<Plan, SynthStageError> {
    let (chunks, mut clips, policy) = (chunks.to_vec(), clips.clone(), policy.clone());
    off_runtime(move || {
        let natural: Vec<u64> = timeline::clip_lengths(&chunks, &mut clips, timeline::RATE)?
            .into_iter()
            .map(|len| len.unwrap_or(0))
            .collect();
        Ok(
            timeline::plan_valid(&chunks, &natural, track, timeline::RATE, &policy)
                .map_err(TimelineError::from)?,
        )
    })
    .await?
}

/// Each chunk's clip and the plan of them. See the module doc.
#[derive(Debug, Clone)]
pub(super) struct Fit {
    pub clips: Clips,
    pub plan: Plan,
}

impl Fit {
    /// The plan of `chunks` spoken by `clips`.
    pub async fn of(
        chunks: &[Chunk],
        clips: Clips,
        track: u64,
        policy: &ValidPolicy,
    ) -> Result<Self, SynthStageError> {
        let plan = plan_clips(chunks, &clips, track, policy).await?;
        Ok(Self { clips, plan })
    }

    /// Plan again after the clips changed.
    pub async fn replan(
        &mut self,
        chunks: &[Chunk],
        track: u64,
        policy: &ValidPolicy,
    ) -> Result<(), SynthStageError> {
        self.plan = plan_clips(chunks, &self.clips, track, policy).await?;
        Ok(())
    }

    /// Render the plan to `out` (`dub.wav`) and write it out as the report.
    pub async fn render(
        self,
        chunks: &[Chunk],
        policy: &ValidPolicy,
        out: std::path::PathBuf,
    ) -> Result<(timeline::Report, Plan), SynthStageError> {
        let (chunks, policy) = (chunks.to_vec(), policy.clone());
        let Fit { mut clips, plan } = self;
        off_runtime(move || {
            timeline::render(&plan, &mut clips, &out, policy.fade_ms)?;
            Ok((timeline::report(&plan, &chunks, &policy), plan))
        })
        .await?
    }
}
