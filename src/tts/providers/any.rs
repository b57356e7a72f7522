//! A provider chosen at run time: the CLI picks one engine from flags, and the batch runner, which
//! is generic, gets one concrete type.

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
}

/// Call the same method on whichever engine it is.
macro_rules! each {
    ($self:expr, $e:ident => $body:expr) => {
        match $self {
            AnyEngine::Piper($e) => $body,
            AnyEngine::Espeak($e) => $body,
            AnyEngine::OpenAi($e) => $body,
            AnyEngine::ElevenLabs($e) => $body,
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
}
