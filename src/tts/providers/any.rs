//! A provider chosen at run time: the CLI picks one engine from flags (through the registry), and
//! the batch runner, which is generic, gets one concrete type.
//!
//! Contract: [`AnyEngine`] forwards every [`Synthesizer`] method to the engine it holds. In the
//! crate's own tests it holds the probe engine, whose answers all differ from the trait's
//! defaults, so a method this wrapper forgets to forward fails a test.
//!
//! Why a trait object: the registry's providers are values, some added at run time
//! ([`crate::tts::registry::register`]), so no enum can list them; the cost is one boxed future
//! per request, next to a network call or a model's inference.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::tts::engine::Synthesizer;
use crate::tts::error::SynthError;
use crate::tts::request::{Limits, SynthAudio, SynthRequest};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Synthesizer`] with its futures boxed, so engines of any type fit behind one pointer.
trait DynSynthesizer: Send + Sync + std::fmt::Debug {
    fn synthesize<'a>(&'a self, req: &'a SynthRequest)
    -> Boxed<'a, Result<SynthAudio, SynthError>>;
    fn cache_signature(&self) -> String;
    fn limits(&self) -> Limits;
    fn concurrency_hint(&self) -> Option<usize>;
    fn native_speed(&self) -> bool;
    fn cache_signature_for(&self, req: &SynthRequest) -> String;
    fn limits_for(&self, req: &SynthRequest) -> Limits;
    fn native_speed_for(&self, req: &SynthRequest) -> bool;
    fn prepare<'a>(&'a self, requests: &'a [SynthRequest]) -> Boxed<'a, Result<(), SynthError>>;
}

impl<S: Synthesizer + std::fmt::Debug> DynSynthesizer for S {
    fn synthesize<'a>(
        &'a self,
        req: &'a SynthRequest,
    ) -> Boxed<'a, Result<SynthAudio, SynthError>> {
        Box::pin(Synthesizer::synthesize(self, req))
    }
    fn cache_signature(&self) -> String {
        Synthesizer::cache_signature(self)
    }
    fn limits(&self) -> Limits {
        Synthesizer::limits(self)
    }
    fn concurrency_hint(&self) -> Option<usize> {
        Synthesizer::concurrency_hint(self)
    }
    fn native_speed(&self) -> bool {
        Synthesizer::native_speed(self)
    }
    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        Synthesizer::cache_signature_for(self, req)
    }
    fn limits_for(&self, req: &SynthRequest) -> Limits {
        Synthesizer::limits_for(self, req)
    }
    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        Synthesizer::native_speed_for(self, req)
    }
    fn prepare<'a>(&'a self, requests: &'a [SynthRequest]) -> Boxed<'a, Result<(), SynthError>> {
        Box::pin(Synthesizer::prepare(self, requests))
    }
}

/// One engine of any provider.
#[derive(Debug, Clone)]
pub struct AnyEngine(Arc<dyn DynSynthesizer>);

impl AnyEngine {
    /// `engine`, behind the one type the runner and the router take.
    pub fn new<S: Synthesizer + std::fmt::Debug + 'static>(engine: S) -> Self {
        Self(Arc::new(engine))
    }
}

impl Synthesizer for AnyEngine {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        self.0.synthesize(req).await
    }

    fn cache_signature(&self) -> String {
        self.0.cache_signature()
    }

    fn limits(&self) -> Limits {
        self.0.limits()
    }

    fn concurrency_hint(&self) -> Option<usize> {
        self.0.concurrency_hint()
    }

    fn native_speed(&self) -> bool {
        self.0.native_speed()
    }

    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        self.0.cache_signature_for(req)
    }

    fn limits_for(&self, req: &SynthRequest) -> Limits {
        self.0.limits_for(req)
    }

    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        self.0.native_speed_for(req)
    }

    async fn prepare(&self, requests: &[SynthRequest]) -> Result<(), SynthError> {
        self.0.prepare(requests).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::engine::probe::{ProbeEngine, assert_forwards};

    #[tokio::test]
    async fn any_engine_forwards_every_method() {
        assert_forwards(&AnyEngine::new(ProbeEngine)).await;
    }
}
