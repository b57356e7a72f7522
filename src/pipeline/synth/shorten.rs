//! Shortening (`synth --shorten`): lines the plan could not fit under the speed cap are rewritten
//! shorter by a chat model, to the characters the voice says in their time at the cap (the
//! voice's pace measured on its own clip), then synthesized again by the caller.
//!
//! A line the model cannot shorten is kept as it is, with a warning; the report keeps the first
//! text of every rewritten line.

use super::{SynthStageError, did_not_fit};
use crate::Chunk;
use crate::llm::{ChatModel, LineEditor, char_budget};
use crate::timeline::{self, Plan, ValidPolicy};

/// Rounds of shortening at most: lines still too long after two rewrites are left as they are.
pub const SHORTEN_ROUNDS: usize = 2;

/// One round: rewrite the text of every chunk that did not fit in `plan` (the plan of the
/// chunks' current clips). Returns how many chunks changed; `originals` gets the first text of
/// each.
pub(super) async fn shorten_round<M: ChatModel>(
    editor: &LineEditor<M>,
    chunks: &mut [Chunk],
    plan: &Plan,
    policy: &ValidPolicy,
    originals: &mut [Option<String>],
) -> Result<usize, SynthStageError> {
    let mut todo: Vec<(usize, String, usize)> = Vec::new();
    for p in plan.placements.iter().filter(|p| did_not_fit(p)) {
        let chunk = &chunks[p.index];
        let chars = chunk.text.chars().count();
        let secs = p.natural as f64 / f64::from(timeline::RATE);
        if chars == 0 || secs <= 0.0 {
            continue;
        }
        let available = chunk.end_ms().saturating_sub(chunk.start_ms());
        let budget = char_budget(available, chars as f64 / secs, policy.max_speed);
        if budget < chars {
            todo.push((p.index, chunk.text.clone(), budget));
        }
    }
    let asks: Vec<(String, usize)> = todo.iter().map(|(_, t, b)| (t.clone(), *b)).collect();
    let replies = editor.shorten_all(&asks).await;
    let mut changed = 0;
    for ((index, before, _), reply) in todo.into_iter().zip(replies) {
        match reply {
            Ok(after) if !after.trim().is_empty() && after != before => {
                originals[index].get_or_insert(before);
                chunks[index].text = after;
                changed += 1;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("line {:?} kept as it is: {e}", before),
        }
    }
    Ok(changed)
}
