//! The engines dubber ships, as [`Synthesizer`](super::Synthesizer)s: [`openai`] and
//! [`elevenlabs`] over HTTP, [`local`] voices (Piper, espeak-ng) on blocking threads,
//! [`AnyEngine`], the one chosen at run time, and [`Routed`], a cast's voices behind one engine.
//!
//! Contract: each provider makes one attempt per call, classifies its failures (`http` for the
//! HTTP ones) and returns the audio as the service sent it; the remote ones split a text longer
//! than the service accepts at sentence boundaries and join the audio (`split`).
//!
//! Why separate: providers depend on the engine seam and the request types, and nothing in the
//! runner or the cache depends on them, so adding a provider is its file here plus one entry in [`BUILTIN`].

mod any;
pub mod elevenlabs;
mod http;
pub mod local;
pub mod local_voices;
pub mod openai;
mod route;
mod split;

use crate::tts::provider::Provider;

/// The providers dubber ships, in the order `--help` lists them: the registry's built-in entries
/// ([`crate::tts::registry`] says how to add one).
pub static BUILTIN: &[&Provider] = &[
    &local::PIPER,
    &local::ESPEAK,
    &openai::PROVIDER,
    &elevenlabs::PROVIDER,
];

pub use any::AnyEngine;
pub use elevenlabs::ElevenLabsTts;
pub use local::{EspeakTts, PiperTts};
pub use openai::OpenAiTts;
pub use route::{Routed, VoiceLoader};
