//! Before any request: which lines of a batch need synthesizing, and the check that can fail
//! them all at once.
//!
//! Contract: blank lines get [`Outcome::Blank`] and no request; a speed outside the engine's
//! [`Limits`](super::request::Limits) stops the run before anything is sent; identical requests
//! (same [`CacheKey`]) become one [`Pending`], synthesized once and reported for every line.
//!
//! Why separate: this is pure bookkeeping over the requests, kept out of the runner's
//! scheduling loop so that loop reads as scheduling.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use super::cache::CacheKey;
use super::engine::Synthesizer;
use super::error::{SynthError, TtsError, excerpt};
use super::report::Outcome;
use super::request::SynthRequest;

/// One distinct request to make (identical requests share it).
pub(crate) struct Pending {
    /// Index of the first request with this key; its `SynthRequest` is the one sent.
    pub first: usize,
    /// Every request with this key.
    pub indices: Vec<usize>,
    pub key: CacheKey,
    /// Attempts made that were not answered with a 429.
    pub attempts: u32,
    /// Attempts answered with a 429.
    pub rate_limited: u32,
}

/// The blank lines (their outcome is set), the speed check, and one [`Pending`] request per
/// distinct cache key.
pub(crate) fn plan<S: Synthesizer>(
    synth: &S,
    requests: &[SynthRequest],
) -> Result<(Vec<Option<Outcome>>, Vec<Pending>), TtsError> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; requests.len()];
    let mut pending: Vec<Pending> = Vec::new();
    let mut pending_of_key: HashMap<CacheKey, usize> = HashMap::new();
    for (index, req) in requests.iter().enumerate() {
        if req.text.trim().is_empty() {
            outcomes[index] = Some(Outcome::Blank);
            continue;
        }
        let limits = synth.limits_for(req);
        if !limits.speed.contains(&req.speed) {
            return Err(TtsError::Fatal {
                index,
                text: excerpt(&req.text),
                source: SynthError::Config(format!(
                    "speed {} is outside what this engine supports ({}–{})",
                    req.speed,
                    limits.speed.start(),
                    limits.speed.end()
                )),
            });
        }
        let key = CacheKey::new(&synth.cache_signature_for(req), req);
        match pending_of_key.get(&key) {
            Some(&j) => pending[j].indices.push(index),
            None => {
                pending_of_key.insert(key.clone(), pending.len());
                pending.push(Pending {
                    first: index,
                    indices: vec![index],
                    key,
                    attempts: 0,
                    rate_limited: 0,
                });
            }
        }
    }
    Ok((outcomes, pending))
}

/// The cache-only error listing every line of the `queue`d requests.
pub(crate) fn missing(
    dir: &Path,
    requests: &[SynthRequest],
    pending: &[Pending],
    queue: &VecDeque<usize>,
) -> TtsError {
    let mut missing: Vec<(usize, String)> = queue
        .iter()
        .flat_map(|&j| {
            pending[j]
                .indices
                .iter()
                .map(|&i| (i, requests[i].text.clone()))
        })
        .collect();
    missing.sort_by_key(|(i, _)| *i);
    TtsError::MissingFromCache {
        dir: dir.to_path_buf(),
        total: requests.len(),
        missing,
    }
}
