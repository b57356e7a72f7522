//! The engine seam: the [`Synthesizer`] trait every engine implements, and [`SharedLimit`], a
//! wrapper that makes several runs share one provider's request limit.
//!
//! Contract: an engine makes one attempt per call and classifies its failure; everything about
//! doing that many times (retries, timeouts, concurrency, caching) is the runner's. A wrapper
//! forwards every method of the trait; the probe engine in this module's tests answers every
//! method differently from the trait's defaults, so a wrapper that forgets one fails its test.
//!
//! Why separate: providers implement the trait and the runner consumes it, and neither should
//! have to import the other. [`SharedLimit`] lives here because it is a pure wrapper over the
//! trait.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::error::SynthError;
use super::request::{Limits, SynthAudio, SynthRequest};

/// A text-to-speech engine: one request in, encoded audio out.
///
/// Implementations do one attempt and classify failures precisely ([`SynthError`]); retries,
/// timeouts, concurrency and caching are the [`BatchRunner`](super::BatchRunner)'s job, so they
/// are written once.
///
/// **Local CPU-bound engines** (Piper, espeak-ng) implement `synthesize` by moving owned copies of
/// what they need into [`tokio::task::spawn_blocking`] and awaiting it, so inference never blocks
/// the async runtime:
///
/// ```ignore
/// fn synthesize(&self, req: &SynthRequest) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send {
///     let engine = Arc::clone(&self.engine); // Arc<...> so the closure is 'static
///     let req = req.clone();
///     async move {
///         tokio::task::spawn_blocking(move || engine.speak(&req))
///             .await
///             .map_err(|e| SynthError::Engine(format!("synthesis thread failed: {e}")))?
///     }
/// }
/// ```
///
/// With such engines pick `max_concurrent` near the number of cores.
pub trait Synthesizer: Send + Sync {
    /// Synthesize one request (one attempt).
    fn synthesize(
        &self,
        req: &SynthRequest,
    ) -> impl Future<Output = Result<SynthAudio, SynthError>> + Send;

    /// Identifies the engine beyond the request fields, for cache keys: provider name and base URL
    /// for a service, engine and model file (path and size or hash) for a local voice. Two engines
    /// that could return different audio for the same request must return different signatures.
    fn cache_signature(&self) -> String;

    /// What this engine accepts.
    fn limits(&self) -> Limits;

    /// How many requests the service says this account may have in flight, once it has told us
    /// (ElevenLabs reports it in response headers). The batch runner never exceeds it.
    fn concurrency_hint(&self) -> Option<usize> {
        None
    }

    /// True when asking for `speed` makes the voice itself speak faster (a local voice's
    /// `length_scale`), rather than a service's post-processing; the synth stage then asks for a
    /// second take at the speed a line needs instead of stretching the first one.
    fn native_speed(&self) -> bool {
        false
    }

    /// [`Synthesizer::cache_signature`] of the engine that speaks `req`: an engine routing
    /// requests to several voices (a cast) answers for the voice `req` names. The batch runner
    /// keys every clip with it.
    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        let _ = req;
        self.cache_signature()
    }

    /// [`Synthesizer::limits`] of the engine that speaks `req`.
    fn limits_for(&self, req: &SynthRequest) -> Limits {
        let _ = req;
        self.limits()
    }

    /// [`Synthesizer::native_speed`] of the engine that speaks `req`.
    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        let _ = req;
        self.native_speed()
    }

    /// Make ready whatever `requests` need before any is planned (a routing engine loads the
    /// voices they name). The batch runner calls it first; a failure stops the run.
    fn prepare(
        &self,
        requests: &[SynthRequest],
    ) -> impl Future<Output = Result<(), SynthError>> + Send {
        let _ = requests;
        async { Ok(()) }
    }
}

/// `inner`, with every request holding a permit of `permits`: one provider limit shared by several
/// users of one engine, so they never have more than the limit in flight together. For batch runs
/// prefer [`BatchOptions::shared_limit`](crate::tts::BatchOptions::shared_limit) (what `dubber run
/// --jobs` uses): there the wait for a permit is not counted against the per-request timeout,
/// while through this wrapper it is, since the wait happens inside `synthesize`.
#[derive(Debug)]
pub struct SharedLimit<'a, S> {
    inner: &'a S,
    permits: Arc<Semaphore>,
}

impl<'a, S> SharedLimit<'a, S> {
    pub fn new(inner: &'a S, permits: Arc<Semaphore>) -> Self {
        Self { inner, permits }
    }
}

impl<S: Synthesizer> Synthesizer for SharedLimit<'_, S> {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SynthError::Config("the shared request limit was closed".into()))?;
        self.inner.synthesize(req).await
    }

    fn cache_signature(&self) -> String {
        self.inner.cache_signature()
    }

    fn limits(&self) -> Limits {
        self.inner.limits()
    }

    fn concurrency_hint(&self) -> Option<usize> {
        self.inner.concurrency_hint()
    }

    fn native_speed(&self) -> bool {
        self.inner.native_speed()
    }

    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        self.inner.cache_signature_for(req)
    }

    fn limits_for(&self, req: &SynthRequest) -> Limits {
        self.inner.limits_for(req)
    }

    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        self.inner.native_speed_for(req)
    }

    async fn prepare(&self, requests: &[SynthRequest]) -> Result<(), SynthError> {
        self.inner.prepare(requests).await
    }
}

#[cfg(test)]
pub(crate) mod probe {
    use super::*;

    /// An engine whose every answer differs from the trait's defaults, so a wrapper that forgets
    /// to forward a method shows up as a wrong answer. A method added to [`Synthesizer`] gets a
    /// non-default answer here, and an assertion in [`assert_forwards`].
    #[derive(Debug)]
    pub struct ProbeEngine;

    impl Synthesizer for ProbeEngine {
        async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
            Err(SynthError::Engine(format!("probe: {}", req.text)))
        }
        fn cache_signature(&self) -> String {
            "probe-signature".into()
        }
        fn limits(&self) -> Limits {
            Limits {
                max_input_chars: 7,
                speed: 0.5..=3.0,
            }
        }
        fn concurrency_hint(&self) -> Option<usize> {
            Some(3)
        }
        fn native_speed(&self) -> bool {
            true
        }
        fn cache_signature_for(&self, req: &SynthRequest) -> String {
            format!("probe-signature-for-{}", req.voice)
        }
        fn limits_for(&self, req: &SynthRequest) -> Limits {
            Limits {
                max_input_chars: req.voice.len(),
                speed: 0.25..=4.0,
            }
        }
        fn native_speed_for(&self, req: &SynthRequest) -> bool {
            req.voice == "native"
        }
        async fn prepare(&self, requests: &[SynthRequest]) -> Result<(), SynthError> {
            Err(SynthError::Config(format!(
                "probe prepares {}",
                requests.len()
            )))
        }
    }

    /// Every method of `wrapper` (wrapping a [`ProbeEngine`]) answers what the probe answers.
    pub(crate) async fn assert_forwards(wrapper: &impl Synthesizer) {
        let probe = ProbeEngine;
        assert_eq!(wrapper.cache_signature(), probe.cache_signature());
        assert_eq!(wrapper.limits(), probe.limits());
        assert_eq!(wrapper.concurrency_hint(), Some(3));
        assert!(wrapper.native_speed());
        let err = wrapper
            .synthesize(&SynthRequest::new("hi", "v", "m"))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "probe: hi");
        let req = SynthRequest::new("hi", "v", "m");
        assert_eq!(wrapper.cache_signature_for(&req), "probe-signature-for-v");
        assert_eq!(wrapper.limits_for(&req), probe.limits_for(&req));
        assert!(!wrapper.native_speed_for(&req));
        let err = wrapper.prepare(&[req]).await.unwrap_err();
        assert_eq!(err.to_string(), "probe prepares 1");
    }
}

#[cfg(test)]
mod tests {
    use super::probe::{ProbeEngine, assert_forwards};
    use super::*;

    #[tokio::test]
    async fn shared_limit_forwards_every_method() {
        let probe = ProbeEngine;
        assert_forwards(&SharedLimit::new(&probe, Arc::new(Semaphore::new(1)))).await;
    }
}
