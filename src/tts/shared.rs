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
}
