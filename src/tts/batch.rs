//! The batch runner: many requests through one [`Synthesizer`], as fast as the service allows and
//! no faster, with every clip landing in the [`Cache`].
//!
//! How it behaves, and why:
//! - **A sliding window, not fixed batches.** Up to `max_concurrent` requests are in flight; as soon
//!   as one finishes the next starts. (The old tool waited for the slowest of each batch of five.)
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

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use super::cache::{Cache, CacheKey, Clip};
use super::{SynthError, SynthRequest, Synthesizer};
use crate::fsutil::write_atomic;
use crate::progress::Stage;

/// Errors that end a batch (or a single [`speak`]).
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// A request failed in a way retrying cannot fix; the run stopped at once.
    #[error("synthesis stopped at line {} ({text:?}): {source}", .index + 1)]
    Fatal {
        /// 0-based index of the request.
        index: usize,
        /// The start of its text.
        text: String,
        source: SynthError,
    },
    /// Cache-only mode (`--no-tts`) and some lines have no clip yet.
    #[error(
        "--no-tts uses cached clips only, but {} of {total} lines are not in the cache {}: {}. \
         Run without --no-tts to synthesize them.",
        .missing.len(), .dir.display(), list_lines(.missing)
    )]
    MissingFromCache {
        dir: PathBuf,
        total: usize,
        /// (0-based index, text) of every missing line.
        missing: Vec<(usize, String)>,
    },
    /// Some lines still failed after all retries (the others were synthesized and cached).
    #[error("{} lines failed after retries: {}", .0.len(), list_failed(.0))]
    Failed(Vec<FailedLine>),
    /// Reading or writing a cache file failed.
    #[error("cache file {}: {source}", .path.display())]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing an output file failed.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Audio could not be decoded or encoded for `path`.
    #[error("invalid audio for {}: {message}", .path.display())]
    InvalidAudio { path: PathBuf, message: String },
    /// A single request ([`speak`]) failed.
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// The arguments do not fit together.
    #[error("{0}")]
    Usage(String),
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn list_lines(lines: &[(usize, String)]) -> String {
    const SHOWN: usize = 10;
    let mut out: Vec<String> = lines
        .iter()
        .take(SHOWN)
        .map(|(i, t)| format!("line {} {:?}", i + 1, excerpt(t)))
        .collect();
    if lines.len() > SHOWN {
        out.push(format!("and {} more", lines.len() - SHOWN));
    }
    out.join(", ")
}

fn list_failed(lines: &[FailedLine]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "line {} {:?} ({} attempts): {}",
                l.index + 1,
                excerpt(&l.text),
                l.attempts,
                l.error
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

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
        }
    }
}

/// What became of one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Synthesized now or found in the cache.
    Clip(Clip),
    /// The text was blank: nothing to say, no request made (the caller renders silence).
    Blank,
    /// Every attempt failed; the error is the last one.
    Failed { error: SynthError, attempts: u32 },
}

impl Outcome {
    pub fn clip(&self) -> Option<&Clip> {
        match self {
            Outcome::Clip(c) => Some(c),
            _ => None,
        }
    }
}

/// A line that failed after all retries.
#[derive(Debug, Clone)]
pub struct FailedLine {
    /// 0-based index of the request.
    pub index: usize,
    pub text: String,
    pub error: SynthError,
    pub attempts: u32,
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

/// Runs batches of requests through a [`Synthesizer`] into a [`Cache`]. See the module doc.
#[derive(Debug, Clone)]
pub struct BatchRunner {
    cache: Cache,
    options: BatchOptions,
}

/// Additive increase, multiplicative decrease of the number of requests in flight.
struct Aimd {
    limit: f64,
    ceiling: usize,
    /// Bumped on every cut; a 429 from a request sent before the last cut is already accounted for.
    epoch: u64,
}

impl Aimd {
    fn current(&self) -> usize {
        (self.limit.floor() as usize).clamp(1, self.ceiling.max(1))
    }

    fn success(&mut self) {
        self.limit = (self.limit + 1.0 / self.limit.max(1.0)).min(self.ceiling as f64);
    }

    fn rate_limited(&mut self, sent_in_epoch: u64, in_flight_when_sent: usize) {
        if sent_in_epoch == self.epoch {
            let base = self.limit.min(in_flight_when_sent.max(1) as f64);
            self.limit = (base / 2.0).max(1.0);
            self.epoch += 1;
        }
    }

    fn set_ceiling(&mut self, ceiling: usize) {
        self.ceiling = ceiling.max(1);
        self.limit = self.limit.min(self.ceiling as f64);
    }
}

/// One distinct request to make (identical requests share it).
struct Job {
    /// Index of the first request with this key; its `SynthRequest` is the one sent.
    first: usize,
    indices: Vec<usize>,
    key: CacheKey,
    attempts: u32,
    rate_limited: u32,
}

enum AttemptError {
    Synth(SynthError),
    Store(TtsError),
}

struct Done {
    job: usize,
    epoch: u64,
    in_flight_when_sent: usize,
    result: Result<Clip, AttemptError>,
}

type AttemptFuture<'a> = Pin<Box<dyn Future<Output = Done> + Send + 'a>>;

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
        let limits = synth.limits();
        let signature = synth.cache_signature();

        let mut outcomes: Vec<Option<Outcome>> = vec![None; requests.len()];
        let mut jobs: Vec<Job> = Vec::new();
        let mut job_of_key: HashMap<CacheKey, usize> = HashMap::new();
        for (index, req) in requests.iter().enumerate() {
            if req.text.trim().is_empty() {
                outcomes[index] = Some(Outcome::Blank);
                continue;
            }
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
            let key = CacheKey::new(&signature, req);
            match job_of_key.get(&key) {
                Some(&j) => jobs[j].indices.push(index),
                None => {
                    job_of_key.insert(key.clone(), jobs.len());
                    jobs.push(Job {
                        first: index,
                        indices: vec![index],
                        key,
                        attempts: 0,
                        rate_limited: 0,
                    });
                }
            }
        }

        // Look everything up first (validating each file) on a blocking thread.
        let cache = self.cache.clone();
        let keys: Vec<CacheKey> = jobs.iter().map(|j| j.key.clone()).collect();
        let found = tokio::task::spawn_blocking(move || {
            keys.iter().map(|k| cache.get(k)).collect::<Vec<_>>()
        })
        .await
        .map_err(|e| TtsError::Usage(format!("cache lookup thread failed: {e}")))?;
        let mut queue: VecDeque<usize> = VecDeque::new();
        let mut cache_hits = 0;
        for (j, hit) in found.into_iter().enumerate() {
            match hit? {
                Some(clip) => {
                    for &i in &jobs[j].indices {
                        outcomes[i] = Some(Outcome::Clip(clip.clone()));
                        cache_hits += 1;
                    }
                }
                None => queue.push_back(j),
            }
        }
        if opts.cache_only && !queue.is_empty() {
            let mut missing: Vec<(usize, String)> = queue
                .iter()
                .flat_map(|&j| {
                    jobs[j]
                        .indices
                        .iter()
                        .map(|&i| (i, requests[i].text.clone()))
                })
                .collect();
            missing.sort_by_key(|(i, _)| *i);
            return Err(TtsError::MissingFromCache {
                dir: self.cache.dir().to_path_buf(),
                total: requests.len(),
                missing,
            });
        }

        let progress = |n: usize| {
            if let Some(stage) = &opts.progress {
                stage.inc(n as u64);
            }
        };
        progress(cache_hits);

        let max_concurrent = opts.max_concurrent.max(1);
        let mut aimd = Aimd {
            limit: max_concurrent as f64,
            ceiling: max_concurrent,
            epoch: 0,
        };
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
                jobs[j].attempts += 1;
                attempts_made += 1;
                let req = &requests[jobs[j].first];
                in_flight.push(Box::pin(attempt(
                    synth,
                    req,
                    jobs[j].key.clone(),
                    self.cache.clone(),
                    opts.timeout,
                    j,
                    aimd.epoch,
                    in_flight.len() + 1,
                )));
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
            let job = &mut jobs[done.job];
            match done.result {
                Ok(clip) => {
                    aimd.success();
                    for &i in &job.indices {
                        outcomes[i] = Some(Outcome::Clip(clip.clone()));
                    }
                    progress(job.indices.len());
                }
                Err(AttemptError::Store(e)) => return Err(e),
                Err(AttemptError::Synth(error)) if error.is_fatal() => {
                    return Err(TtsError::Fatal {
                        index: job.first,
                        text: excerpt(&requests[job.first].text),
                        source: error,
                    });
                }
                Err(AttemptError::Synth(error)) => {
                    let is_429 = matches!(error, SynthError::RateLimited { .. });
                    if is_429 {
                        rate_limited += 1;
                        aimd.rate_limited(done.epoch, done.in_flight_when_sent);
                        // Being told to wait is not a failure: it has its own budget.
                        job.rate_limited += 1;
                        job.attempts -= 1;
                    }
                    let exhausted = if is_429 {
                        job.rate_limited >= opts.max_rate_limited
                    } else {
                        !error.is_retryable() || job.attempts >= opts.max_attempts
                    };
                    if exhausted {
                        tracing::warn!(line = job.first + 1, %error, "line failed after retries");
                        let attempts = job.attempts + job.rate_limited;
                        for &i in &job.indices {
                            outcomes[i] = Some(Outcome::Failed {
                                error: error.clone(),
                                attempts,
                            });
                        }
                        progress(job.indices.len());
                    } else {
                        let failures = if is_429 {
                            job.rate_limited
                        } else {
                            job.attempts
                        };
                        let wait = crate::retry::Backoff {
                            base: opts.backoff_base,
                            max: opts.backoff_max,
                        }
                        .wait(failures, error.retry_after());
                        tracing::debug!(line = job.first + 1, %error, ?wait, "retrying");
                        waiting.push((Instant::now() + wait, done.job));
                    }
                }
            }
        }

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
        Ok(BatchReport {
            failed,
            outcomes,
            requests: attempts_made,
            cache_hits,
            rate_limited,
            final_limit: aimd.current(),
            elapsed: started.elapsed(),
        })
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn attempt<S: Synthesizer>(
    synth: &S,
    req: &SynthRequest,
    key: CacheKey,
    cache: Cache,
    timeout: Duration,
    job: usize,
    epoch: u64,
    in_flight_when_sent: usize,
) -> Done {
    let result = async {
        let audio = tokio::time::timeout(timeout, synth.synthesize(req))
            .await
            .map_err(|_| AttemptError::Synth(SynthError::Timeout(timeout)))?
            .map_err(AttemptError::Synth)?;
        // Decoding and the file write are CPU and disk work: off the async threads.
        tokio::task::spawn_blocking(move || {
            let pcm = audio
                .decode()
                .map_err(|message| AttemptError::Synth(SynthError::InvalidAudio { message }))?;
            cache.put_pcm(&key, &pcm).map_err(AttemptError::Store)
        })
        .await
        .map_err(|e| {
            AttemptError::Store(TtsError::Usage(format!("cache write thread failed: {e}")))
        })?
    }
    .await;
    Done {
        job,
        epoch,
        in_flight_when_sent,
        result,
    }
}

/// Synthesize one request to `out_path` as a 16-bit WAV (one attempt, no cache), like the
/// reference's `tts_speak_openai_async`. The file is written atomically.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use dubber::tts::{OpenAiTts, SynthRequest, speak};
/// let tts = OpenAiTts::from_env(None)?;
/// let req = SynthRequest::new("Hello, world!", "onyx", "gpt-4o-mini-tts");
/// let clip = speak(&tts, &req, "output.wav".as_ref()).await?;
/// println!("{:.2} s", clip.duration.as_secs_f64());
/// # Ok(()) }
/// ```
pub async fn speak<S: Synthesizer>(
    synth: &S,
    req: &SynthRequest,
    out_path: &Path,
) -> Result<Clip, TtsError> {
    if req.text.trim().is_empty() {
        return Err(TtsError::Usage(
            "nothing to say: the text is blank".to_string(),
        ));
    }
    let audio = synth.synthesize(req).await?;
    let pcm = audio
        .decode()
        .map_err(|message| TtsError::Synth(SynthError::InvalidAudio { message }))?;
    let wav = pcm.to_wav().map_err(|message| TtsError::InvalidAudio {
        path: out_path.to_path_buf(),
        message,
    })?;
    write_atomic(out_path, &wav).map_err(|source| TtsError::Write {
        path: out_path.to_path_buf(),
        source,
    })?;
    Ok(Clip {
        path: out_path.to_path_buf(),
        duration: pcm.duration(),
        sample_rate: pcm.sample_rate,
        from_cache: false,
    })
}

/// Synthesize `texts` with the settings of `template` (its text is ignored), at most
/// `max_concurrent` in flight, through `cache`, and copy each clip to the matching output path —
/// the counterpart of the reference's `process_tts_batch_async`. Returns the output paths.
///
/// Lines that fail after retries do not stop the others; the error lists them once every other
/// line is written. A blank text is a usage error (there is nothing to write for it); use
/// [`BatchRunner`] directly for per-line outcomes, blank lines and progress control.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use dubber::tts::{Cache, OpenAiTts, SynthRequest, synthesize_batch};
/// let tts = OpenAiTts::from_env(None)?;
/// let template = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
/// let texts = ["Hello", "World", "Async TTS"];
/// let outputs = ["hello.wav", "world.wav", "async.wav"];
/// let cache = Cache::open(".dubber-cache")?;
/// synthesize_batch(&tts, &cache, &template, &texts, &outputs, 3).await?;
/// # Ok(()) }
/// ```
pub async fn synthesize_batch<S, T, P>(
    synth: &S,
    cache: &Cache,
    template: &SynthRequest,
    texts: &[T],
    output_paths: &[P],
    max_concurrent: usize,
) -> Result<Vec<PathBuf>, TtsError>
where
    S: Synthesizer,
    T: AsRef<str>,
    P: AsRef<Path>,
{
    if texts.len() != output_paths.len() {
        return Err(TtsError::Usage(format!(
            "{} texts but {} output paths",
            texts.len(),
            output_paths.len()
        )));
    }
    if let Some(i) = texts.iter().position(|t| t.as_ref().trim().is_empty()) {
        return Err(TtsError::Usage(format!("text {} is blank", i + 1)));
    }
    let requests: Vec<SynthRequest> = texts
        .iter()
        .map(|t| template.with_text(t.as_ref()))
        .collect();
    let runner = BatchRunner::new(
        cache.clone(),
        BatchOptions {
            max_concurrent,
            ..BatchOptions::default()
        },
    );
    let report = runner.run(synth, &requests).await?;
    let mut written = Vec::with_capacity(texts.len());
    for (outcome, out) in report.outcomes.iter().zip(output_paths) {
        if let Outcome::Clip(clip) = outcome {
            let out = out.as_ref();
            let bytes = std::fs::read(&clip.path).map_err(|source| TtsError::Cache {
                path: clip.path.clone(),
                source,
            })?;
            write_atomic(out, &bytes).map_err(|source| TtsError::Write {
                path: out.to_path_buf(),
                source,
            })?;
            written.push(out.to_path_buf());
        }
    }
    if report.failed.is_empty() {
        Ok(written)
    } else {
        Err(TtsError::Failed(report.failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimd_cuts_once_per_round_and_grows_back_slowly() {
        let mut a = Aimd {
            limit: 10.0,
            ceiling: 10,
            epoch: 0,
        };
        // Seven 429s from the same round: one cut.
        for _ in 0..7 {
            a.rate_limited(0, 10);
        }
        assert_eq!(a.current(), 5);
        // A 429 from a request sent after the cut cuts again.
        a.rate_limited(1, 5);
        assert_eq!(a.current(), 2);
        // Growth is about one slot per window of successes.
        let mut successes = 0;
        while a.current() < 10 {
            a.success();
            successes += 1;
        }
        assert!((30..=60).contains(&successes), "{successes}");
        a.set_ceiling(3);
        assert_eq!(a.current(), 3);
        for _ in 0..100 {
            a.rate_limited(a.epoch, 1);
        }
        assert_eq!(a.current(), 1);
    }
}
