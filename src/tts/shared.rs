//! One provider limit shared by several batch runs (`dubber run --jobs N`): a wrapper that holds a
//! permit of a common semaphore for every request, so that the videos processed at once never have
//! more than the limit in flight together, however each run's own window moves.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{Limits, SynthAudio, SynthError, SynthRequest, Synthesizer};

/// `inner`, with every request holding a permit of `permits`.
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine whose every answer differs from the trait's defaults, so a wrapper that forgets
    /// to forward a method shows up as a wrong answer. A method added to [`Synthesizer`] gets a
    /// non-default answer here, and an assertion below.
    struct Probe;

    impl Synthesizer for Probe {
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
    }

    #[tokio::test]
    async fn shared_limit_forwards_every_method() {
        let probe = Probe;
        let shared = SharedLimit::new(&probe, Arc::new(Semaphore::new(1)));
        assert_eq!(shared.cache_signature(), probe.cache_signature());
        assert_eq!(shared.limits(), probe.limits());
        assert_eq!(shared.concurrency_hint(), Some(3));
        assert!(shared.native_speed());
        let err = shared
            .synthesize(&SynthRequest::new("hi", "v", "m"))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "probe: hi");
    }
}
