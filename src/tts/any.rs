//! A provider chosen at run time: the CLI picks one engine from flags, and the batch runner, which
//! is generic, gets one concrete type.

use super::{ElevenLabsTts, Limits, OpenAiTts, SynthAudio, SynthError, SynthRequest, Synthesizer};

/// One of the engines dubber ships.
#[derive(Debug)]
pub enum AnyEngine {
    OpenAi(OpenAiTts),
    ElevenLabs(ElevenLabsTts),
}

impl Synthesizer for AnyEngine {
    async fn synthesize(&self, req: &SynthRequest) -> Result<SynthAudio, SynthError> {
        match self {
            AnyEngine::OpenAi(e) => e.synthesize(req).await,
            AnyEngine::ElevenLabs(e) => e.synthesize(req).await,
        }
    }

    fn cache_signature(&self) -> String {
        match self {
            AnyEngine::OpenAi(e) => e.cache_signature(),
            AnyEngine::ElevenLabs(e) => e.cache_signature(),
        }
    }

    fn limits(&self) -> Limits {
        match self {
            AnyEngine::OpenAi(e) => e.limits(),
            AnyEngine::ElevenLabs(e) => e.limits(),
        }
    }

    fn concurrency_hint(&self) -> Option<usize> {
        match self {
            AnyEngine::OpenAi(e) => e.concurrency_hint(),
            AnyEngine::ElevenLabs(e) => e.concurrency_hint(),
        }
    }
}
