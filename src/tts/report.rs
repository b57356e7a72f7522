//! What a batch run returns: one [`Outcome`] per request, in input order, and a [`BatchReport`]
//! of what the run cost.
//!
//! Contract: every request has exactly one outcome (a clip, blank, or failed with its last
//! error); `BatchReport::failed` lists the failed lines in input order.
//!
//! Why separate: these are the runner's public results, read by the pipeline and by library
//! callers; keeping them apart keeps the runner module to the scheduling itself.

use std::time::Duration;

use super::cache::CachedClip;
use super::error::{FailedLine, SynthError};
use super::request::SynthRequest;

/// What became of one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Synthesized now or found in the cache.
    Clip(CachedClip),
    /// The text was blank: nothing to say, no request made (the caller renders silence).
    Blank,
    /// Every attempt failed; the error is the last one.
    Failed { error: SynthError, attempts: u32 },
}

impl Outcome {
    pub fn clip(&self) -> Option<&CachedClip> {
        match self {
            Outcome::Clip(c) => Some(c),
            _ => None,
        }
    }
}

/// The result of a run: one outcome per request, in input order, and what it took.
#[derive(Debug, Clone)]
pub struct BatchReport {
    pub outcomes: Vec<Outcome>,
    /// Attempts made to the engine (each retry counts).
    pub requests: usize,
    /// Requests answered from the cache.
    pub cache_hits: usize,
    /// Attempts answered with a 429.
    pub rate_limited: usize,
    /// The adaptive limit at the end of the run.
    pub final_limit: usize,
    pub elapsed: Duration,
    /// The lines that failed after all retries, in input order (their outcomes are `Failed`).
    pub failed: Vec<FailedLine>,
}

/// The outcomes in input order (a line never settled counts as blank) and the failed lines.
pub(crate) fn finish(
    requests: &[SynthRequest],
    outcomes: Vec<Option<Outcome>>,
) -> (Vec<Outcome>, Vec<FailedLine>) {
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Blank))
        .collect();
    let failed = outcomes
        .iter()
        .enumerate()
        .filter_map(|(index, o)| match o {
            Outcome::Failed { error, attempts } => Some(FailedLine {
                index,
                text: requests[index].text.clone(),
                error: error.clone(),
                attempts: *attempts,
            }),
            _ => None,
        })
        .collect();
    (outcomes, failed)
}
