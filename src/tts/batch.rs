//! The batch runner: many requests through one [`Synthesizer`], as fast as the service allows and
//! no faster, with every clip landing in the [`Cache`].
//!
//! How it behaves, and why:
//! - **A sliding window, not fixed batches.** Up to `max_concurrent` requests are in flight; as soon
//!   as one finishes the next starts, so one slow request never holds back the ones after it.
//! - **An adaptive limit (AIMD).** A 429 halves the window (once per round of requests, not once per
//!   429) and each success grows it by `1/window`, about one slot per round, back up to
//!   `max_concurrent` — or to the limit the service reports ([`Synthesizer::concurrency_hint`]).
//!   So a service admitting fewer than asked still drains the queue without a failure.
//! - **Retries** with exponential backoff and full jitter for 429, 5xx, timeouts, broken
//!   connections and bodies that are not valid audio; a `Retry-After` / `retry-after-ms` wait is
//!   never cut short. Rate limiting has its own, larger budget: being told to wait is not failing.
//! - **Fatal errors stop the run at once** (bad key, unknown voice or model, bad parameter): every
//!   other request would fail the same way. The error names the setting to fix.
//! - **A line that finally fails does not stop the others**: they finish and are cached, and the
//!   report lists the failed lines; whether to stop or render silence is the caller's decision.
//! - **Results come back in input order**, one [`Outcome`] per request; identical requests are
//!   synthesized once.
//! - **Ctrl-C / crash safety** comes from the cache: clips are stored as they finish, atomically, so
//!   dropping the run's future (or killing the process) loses only the requests in flight, and the
//!   next run asks for exactly what is missing.
//!
//! Why separate: this is the one place that schedules requests. What to request (`plan`), the
//! results (`report`), the adaptive limit (`aimd`), backoff ([`crate::retry`]), the cache and
//! progress ([`Stage`]) come from their own modules; the single-call helpers (`speak`,
//! `synthesize_batch`) sit on top of the runner.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::aimd::Aimd;
use super::cache::{Cache, CacheKey, CachedClip};
use super::engine::Synthesizer;
use super::error::{SynthError, TtsError, excerpt};
use super::plan::{Pending, missing, plan};
use super::report::{BatchReport, Outcome, finish};
use super::request::SynthRequest;
use crate::progress::Stage;
use crate::retry::Backoff;

/// How a [`BatchRunner`] runs.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Requests in flight at most (the adaptive limit never goes above it). At least 1.
    pub max_concurrent: usize,
    /// Longest wait for one request, response body included.
    pub timeout: Duration,
    /// Attempts per line for failures other than rate limiting (the first one included).
    pub max_attempts: u32,
    /// How many 429 answers one line may get before it counts as failed.
    pub max_rate_limited: u32,
    /// First backoff ceiling; it doubles with each failure of a line, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Use cached clips only; fail listing the lines that have none (`--no-tts`).
    pub cache_only: bool,
    /// Counts finished lines: the cache hits at once when the run starts, then each line as it
    /// is synthesized or finally fails (a retry is not counted twice). The caller creates the
    /// stage with its total and finishes it. `None` (the default) shows nothing.
    pub progress: Option<Stage>,
    /// The longest a server may make a line wait (`Retry-After`), at most
    /// [`crate::retry::MAX_SERVER_WAIT`] whatever is set here.
    pub max_server_wait: Duration,
    /// A limit shared with other runs (the videos of `dubber run --jobs`): every attempt holds a
    /// permit while it is in flight. The wait for a permit is not part of `timeout`, so a line
    /// queued behind other videos never times out against a healthy service.
    pub shared_limit: Option<Arc<Semaphore>>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            max_concurrent: 5,
            timeout: Duration::from_secs(120),
            max_attempts: 4,
            max_rate_limited: 40,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            cache_only: false,
            progress: None,
            max_server_wait: crate::retry::MAX_SERVER_WAIT,
            shared_limit: None,
        }
    }
}

/// Runs batches of requests through a [`Synthesizer`] into a [`Cache`]. See the module doc.
#[derive(Debug, Clone)]
pub struct BatchRunner {
    cache: Cache,
    options: BatchOptions,
}

enum AttemptFailure {
    Synth(SynthError),
    Store(TtsError),
}

/// A finished attempt, with what the adaptive limit needs to know about when it was sent.
struct Done {
    pending: usize,
    epoch: u64,
    in_flight_when_sent: usize,
    result: Result<CachedClip, AttemptFailure>,
}

type AttemptFuture<'a> = Pin<Box<dyn Future<Output = Done> + Send + 'a>>;

/// What to do with a line after a failed attempt.
enum Next {
    RetryAfter(Duration),
    GiveUp,
}

impl BatchRunner {
    pub fn new(cache: Cache, options: BatchOptions) -> Self {
        Self { cache, options }
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn options(&self) -> &BatchOptions {
        &self.options
    }

    /// Synthesize every request (or find it in the cache). Returns one [`Outcome`] per request in
    /// input order, or the error that stopped the run (a fatal provider error, a missing clip in
    /// cache-only mode, a cache write failure).
    pub async fn run<S: Synthesizer>(
        &self,
        synth: &S,
        requests: &[SynthRequest],
    ) -> Result<BatchReport, TtsError> {
        let started = Instant::now();
        let opts = &self.options;
        synth
            .prepare(requests)
            .await
            .map_err(|source| TtsError::Fatal {
                index: 0,
                text: requests
                    .first()
                    .map(|r| excerpt(&r.text))
                    .unwrap_or_default(),
                source,
            })?;
        let (mut outcomes, mut pending) = plan(synth, requests)?;
        let (mut queue, cache_hits) = self.look_up(&pending, &mut outcomes).await?;
        if opts.cache_only && !queue.is_empty() {
            return Err(missing(self.cache.dir(), requests, &pending, &queue));
        }
        let progress = |n: usize| {
            if let Some(stage) = &opts.progress {
                stage.inc(n as u64);
            }
        };
        progress(cache_hits);

        let max_concurrent = opts.max_concurrent.max(1);
        let mut aimd = Aimd::new(max_concurrent);
        let mut in_flight: FuturesUnordered<AttemptFuture<'_>> = FuturesUnordered::new();
        // Retries not yet due, and retries due (these go before fresh lines).
        let mut waiting: Vec<(Instant, usize)> = Vec::new();
        let mut due: VecDeque<usize> = VecDeque::new();
        let mut attempts_made = 0usize;
        let mut rate_limited = 0usize;

        loop {
            let now = Instant::now();
            waiting.retain(|&(at, j)| {
                if at <= now {
                    due.push_back(j);
                    false
                } else {
                    true
                }
            });
            if let Some(hint) = synth.concurrency_hint() {
                aimd.set_ceiling(hint.min(max_concurrent));
            }
            while in_flight.len() < aimd.current() {
                let Some(j) = due.pop_front().or_else(|| queue.pop_front()) else {
                    break;
                };
                pending[j].attempts += 1;
                attempts_made += 1;
                let sent = (j, aimd.epoch(), in_flight.len() + 1);
                let key = pending[j].key.clone();
                let req = &requests[pending[j].first];
                in_flight.push(Box::pin(self.attempt(synth, req, key, sent)));
            }
            if in_flight.is_empty() && due.is_empty() && queue.is_empty() && waiting.is_empty() {
                break;
            }
            let next_wake = waiting.iter().map(|&(at, _)| at).min();
            let done = tokio::select! {
                Some(done) = in_flight.next(), if !in_flight.is_empty() => done,
                () = sleep_until_opt(next_wake), if next_wake.is_some() => continue,
                else => continue,
            };
            let line = &mut pending[done.pending];
            let error = match done.result {
                Ok(clip) => {
                    aimd.success();
                    for &i in &line.indices {
                        outcomes[i] = Some(Outcome::Clip(clip.clone()));
                    }
                    progress(line.indices.len());
                    continue;
                }
                Err(AttemptFailure::Store(e)) => return Err(e),
                Err(AttemptFailure::Synth(error)) if error.is_fatal() => {
                    return Err(TtsError::Fatal {
                        index: line.first,
                        text: excerpt(&requests[line.first].text),
                        source: error,
                    });
                }
                Err(AttemptFailure::Synth(error)) => error,
            };
            if let SynthError::RateLimited { provider, .. } = &error {
                rate_limited += 1;
                aimd.rate_limited(done.epoch, done.in_flight_when_sent);
                // A long stretch of 429s must not look like a hang.
                if let Some(stage) = &opts.progress {
                    let at_once = aimd.current();
                    stage.note(&format!(
                        "{provider} is rate limiting: {at_once} request{} at once",
                        if at_once == 1 { "" } else { "s" }
                    ));
                }
            }
            match self.next_step(line, &error) {
                Next::RetryAfter(wait) => {
                    tracing::debug!(line = line.first + 1, %error, ?wait, "retrying");
                    waiting.push((Instant::now() + wait, done.pending));
                }
                Next::GiveUp => {
                    if let SynthError::RateLimited { provider, .. } = error {
                        return Err(TtsError::RateLimitedOut {
                            provider,
                            index: line.first,
                            tries: line.rate_limited,
                            admitted: aimd.current(),
                            max_concurrent,
                        });
                    }
                    tracing::warn!(line = line.first + 1, %error, "line failed after retries");
                    let attempts = line.attempts + line.rate_limited;
                    for &i in &line.indices {
                        outcomes[i] = Some(Outcome::Failed {
                            error: error.clone(),
                            attempts,
                        });
                    }
                    progress(line.indices.len());
                }
            }
        }

        let (outcomes, failed) = finish(requests, outcomes);
        Ok(BatchReport {
            outcomes,
            failed,
            requests: attempts_made,
            cache_hits,
            rate_limited,
            final_limit: aimd.current(),
            elapsed: started.elapsed(),
        })
    }

    /// Look every pending request up in the cache (validating each file) on a blocking thread.
    /// Fills the outcomes of the hits; returns those still to synthesize and the number of lines
    /// found.
    async fn look_up(
        &self,
        pending: &[Pending],
        outcomes: &mut [Option<Outcome>],
    ) -> Result<(VecDeque<usize>, usize), TtsError> {
        let cache = self.cache.clone();
        let keys: Vec<CacheKey> = pending.iter().map(|j| j.key.clone()).collect();
        let found = tokio::task::spawn_blocking(move || {
            keys.iter().map(|k| cache.get(k)).collect::<Vec<_>>()
        })
        .await
        .map_err(|e| TtsError::Usage(format!("cache lookup thread failed: {e}")))?;
        let mut queue = VecDeque::new();
        let mut hits = 0;
        for (j, hit) in found.into_iter().enumerate() {
            match hit? {
                Some(clip) => {
                    for &i in &pending[j].indices {
                        outcomes[i] = Some(Outcome::Clip(clip.clone()));
                        hits += 1;
                    }
                }
                None => queue.push_back(j),
            }
        }
        Ok((queue, hits))
    }

    /// Count a non-fatal failure against the line's budgets: retry after a backoff, or give up.
    /// Being told to wait (429) is not failing: it has its own, larger budget.
    fn next_step(&self, line: &mut Pending, error: &SynthError) -> Next {
        let opts = &self.options;
        let is_429 = matches!(error, SynthError::RateLimited { .. });
        if is_429 {
            line.rate_limited += 1;
            line.attempts -= 1;
        }
        let exhausted = if is_429 {
            line.rate_limited >= opts.max_rate_limited
        } else {
            !error.is_retryable() || line.attempts >= opts.max_attempts
        };
        if exhausted {
            return Next::GiveUp;
        }
        let failures = if is_429 {
            line.rate_limited
        } else {
            line.attempts
        };
        let backoff = Backoff {
            base: opts.backoff_base,
            max: opts.backoff_max,
        };
        let asked = error.retry_after().map(|w| w.min(opts.max_server_wait));
        Next::RetryAfter(backoff.wait(failures, asked))
    }

    /// One attempt at `req`, stored in the cache when it succeeds. `sent` is (index in `pending`,
    /// epoch, requests in flight with this one).
    async fn attempt<S: Synthesizer>(
        &self,
        synth: &S,
        req: &SynthRequest,
        key: CacheKey,
        (pending, epoch, in_flight_when_sent): (usize, u64, usize),
    ) -> Done {
        let timeout = self.options.timeout;
        let cache = self.cache.clone();
        let result = async {
            // Waiting for a shared permit is queueing, not the request: outside the timeout.
            let permit = match &self.options.shared_limit {
                Some(limit) => Some(Arc::clone(limit).acquire_owned().await.map_err(|_| {
                    AttemptFailure::Synth(SynthError::Config(
                        "the shared request limit was closed".into(),
                    ))
                })?),
                None => None,
            };
            let audio = tokio::time::timeout(timeout, synth.synthesize(req))
                .await
                .map_err(|_| AttemptFailure::Synth(SynthError::Timeout(timeout)))?
                .map_err(AttemptFailure::Synth)?;
            drop(permit);
            // Decoding and the file write are CPU and disk work: off the async threads.
            tokio::task::spawn_blocking(move || {
                let pcm = audio.decode().map_err(|message| {
                    AttemptFailure::Synth(SynthError::InvalidAudio { message })
                })?;
                cache.put_pcm(&key, &pcm).map_err(AttemptFailure::Store)
            })
            .await
            .map_err(|e| {
                AttemptFailure::Store(TtsError::Usage(format!("cache write thread failed: {e}")))
            })?
        }
        .await;
        Done {
            pending,
            epoch,
            in_flight_when_sent,
            result,
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}
