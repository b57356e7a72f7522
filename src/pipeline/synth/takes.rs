//! Second takes: a voice whose speed is native (Piper's `length_scale`) speaks a line that needs
//! speeding up a second time, at the speed the plan asked for, instead of having its first take
//! stretched: listeners find that much more natural.
//!
//! A voice's takes vary in length, so a take that still needs stretching is asked for again,
//! faster, up to [`RETAKE_ROUNDS`] times. The cap holds on the combined speed (voice speed times
//! stretch): a take that would still need stretching past it is dropped for the chunk's previous
//! take. And the takes never leave the dub fitting worse than the first takes stretched would
//! ([`super::misfit`]): if they do, every line keeps its first take. Engines without a native
//! speed, and cache-only runs, keep their first takes; in a cast, that is decided per speaker's
//! voice ([`Synthesizer::native_speed_for`]).

use std::path::PathBuf;

use super::fit::Fit;
use super::{SynthStageError, misfit};
use crate::Chunk;
use crate::timeline::ValidPolicy;
use crate::tts::{BatchRunner, SynthRequest, Synthesizer};

/// How many times a line is asked for again, faster.
pub const RETAKE_ROUNDS: usize = 3;

/// Replace the clips of chunks that need speeding up with faster takes where the engine speaks
/// faster natively (see the module doc), in `fit`, whose plan stays the plan of its clips.
/// `requests` are the chunks' first-take requests. Returns each chunk's voice speed (1 = first
/// take).
pub(super) async fn second_takes<S: Synthesizer>(
    engine: &S,
    runner: &BatchRunner,
    requests: &[SynthRequest],
    chunks: &[Chunk],
    fit: &mut Fit,
    track: u64,
    policy: &ValidPolicy,
) -> Result<Vec<f64>, SynthStageError> {
    let mut voice = vec![1.0; chunks.len()];
    // Per request: in a cast, one speaker's voice may speak faster natively and another's not.
    let native: Vec<bool> = requests
        .iter()
        .map(|r| engine.native_speed_for(r))
        .collect();
    if !native.contains(&true) || runner.options().cache_only {
        return Ok(voice);
    }
    // Every take of every chunk, (voice speed, clip), the first take first.
    let mut takes: Vec<Vec<(f64, Option<PathBuf>)>> = fit
        .clips
        .inner
        .paths
        .iter()
        .map(|p| vec![(1.0, p.clone())])
        .collect();
    let first_takes = fit.clone();
    let first_fit = misfit(&fit.plan);
    for _ in 0..RETAKE_ROUNDS {
        let plan = &fit.plan;
        // Speeds in steps of 0.01 (rounded up): a re-run with slightly different timing hits the
        // cache, and a line near the cap still gets a take that fits without stretching past it.
        let wanted: Vec<(usize, f64)> = plan
            .placements
            .iter()
            .filter(|p| p.speed > 1.01 && native[p.index] && !chunks[p.index].is_empty())
            .map(|p| {
                let speed = (voice[p.index] * p.speed * 100.0).ceil() / 100.0;
                (p.index, policy.capped(speed))
            })
            .filter(|&(i, s)| {
                s > voice[i] + 0.005 && engine.limits_for(&requests[i]).speed.contains(&s)
            })
            .collect();
        if wanted.is_empty() {
            break;
        }
        tracing::debug!("second takes (chunk index, voice speed): {wanted:?}");
        let retakes: Vec<SynthRequest> = wanted
            .iter()
            .map(|&(i, speed)| SynthRequest {
                speed,
                ..requests[i].clone()
            })
            .collect();
        let result = runner.run(engine, &retakes).await?;
        let mut changed = false;
        for (&(i, speed), outcome) in wanted.iter().zip(&result.outcomes) {
            if let Some(clip) = outcome.clip() {
                fit.clips.inner.paths[i] = Some(clip.path.clone());
                voice[i] = speed;
                takes[i].push((speed, Some(clip.path.clone())));
                changed = true;
            }
        }
        if changed {
            fit.replan(chunks, track, policy).await?;
        }
    }
    // A take that would need stretching past the cap goes back to the chunk's previous take,
    // which needed less from the voice (the first take never exceeds the cap: the plan caps it).
    loop {
        let plan = &fit.plan;
        let over: Vec<usize> = plan
            .placements
            .iter()
            .filter(|p| policy.exceeds_cap(voice[p.index] * p.speed) && takes[p.index].len() > 1)
            .map(|p| p.index)
            .collect();
        if over.is_empty() {
            let now = misfit(plan);
            if now > first_fit {
                tracing::info!(
                    "second takes fit worse than the first takes stretched ({now:?} > {first_fit:?}): first takes kept"
                );
                *fit = first_takes;
                return Ok(vec![1.0; chunks.len()]);
            }
            return Ok(voice);
        }
        tracing::debug!("takes too long for the speed cap, back to the previous take: {over:?}");
        for i in over {
            takes[i].pop();
            if let Some((speed, path)) = takes[i].last() {
                voice[i] = *speed;
                fit.clips.inner.paths[i] = path.clone();
            }
        }
        fit.replan(chunks, track, policy).await?;
    }
}
