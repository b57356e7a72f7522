//! A provider chosen at run time: the CLI picks one engine from flags, and the batch runner, which
//! is generic, gets one concrete type.
//!
//! Contract: [`AnyEngine`] forwards every [`Synthesizer`] method to the engine it holds. In the
//! crate's own tests it can also hold the probe engine, whose answers all differ from the
//! trait's defaults, so a method this wrapper forgets to forward fails a test.
//!
//! Why separate from the trait: it names every provider, so it lives with them; the engine seam
//! imports no provider.

use super::{ElevenLabsTts, EspeakTts, OpenAiTts, PiperTts};
use crate::tts::engine::Synthesizer;
use crate::tts::error::SynthError;
use crate::tts::request::{Limits, SynthAudio, SynthRequest};

/// One of the engines dubber ships.
#[derive(Debug)]
pub enum AnyEngine {
    Piper(PiperTts),
    Espeak(EspeakTts),
    OpenAi(OpenAiTts),
    ElevenLabs(ElevenLabsTts),
    /// Only in the crate's unit tests: the probe engine.
    #[cfg(test)]
    Probe(crate::tts::engine::probe::ProbeEngine),
}

/// Call the same method on whichever engine it is.
macro_rules! each {
    ($self:expr, $e:ident => $body:expr) => {
        match $self {
            AnyEngine::Piper($e) => $body,
            AnyEngine::Espeak($e) => $body,
            AnyEngine::OpenAi($e) => $body,
            AnyEngine::ElevenLabs($e) => $body,
            #[cfg(test)]
            AnyEngine::Probe($e) => $body,
        }
    };
}

impl Synthesizer for AnyEngine {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        each!(self, e => e.synthesize(req).await)
    }

    fn cache_signature(&self) -> String {
        each!(self, e => e.cache_signature())
    }

    fn limits(&self) -> Limits {
        each!(self, e => e.limits())
    }

    fn concurrency_hint(&self) -> Option<usize> {
        each!(self, e => e.concurrency_hint())
    }

    fn native_speed(&self) -> bool {
        each!(self, e => e.native_speed())
    }

    fn cache_signature_for(&self, req: &SynthRequest) -> String {
        each!(self, e => e.cache_signature_for(req))
    }

    fn limits_for(&self, req: &SynthRequest) -> Limits {
        each!(self, e => e.limits_for(req))
    }

    fn native_speed_for(&self, req: &SynthRequest) -> bool {
        each!(self, e => e.native_speed_for(req))
    }

    async fn prepare(&self, requests: &[SynthRequest]) -> Result<(), SynthError> {
        each!(self, e => e.prepare(requests).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tts::engine::probe::{ProbeEngine, assert_forwards};

    #[tokio::test]
    async fn any_engine_forwards_every_method() {
        assert_forwards(&AnyEngine::Probe(ProbeEngine)).await;
    }
}
