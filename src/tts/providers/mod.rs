//! The engines dubber ships, as [`Synthesizer`](super::Synthesizer)s: [`openai`] and
//! [`elevenlabs`] over HTTP, [`local`] voices (Piper, espeak-ng) on blocking threads,
//! [`AnyEngine`], the one chosen at run time, and [`Routed`], a cast's voices behind one engine.
//!
//! Contract: each provider makes one attempt per call, classifies its failures (`http` for the
//! HTTP ones) and returns the audio as the service sent it; the remote ones split a text longer
//! than the service accepts at sentence boundaries and join the audio (`split`).
//!
//! Why separate: providers depend on the engine seam and the request types, and nothing in the
//! runner or the cache depends on them, so adding a provider touches only this directory.

mod any;
pub mod elevenlabs;
mod http;
pub mod local;
pub mod openai;
mod route;
mod split;

pub use any::AnyEngine;
pub use elevenlabs::ElevenLabsTts;
pub use local::{EspeakTts, PiperTts};
pub use openai::OpenAiTts;
pub use route::{Routed, VoiceLoader};
