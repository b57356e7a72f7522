//! Speech synthesis: one trait for every engine, remote providers behind it, and the machinery
//! written once on top of it — a concurrent batch runner with retries and an adaptive limit, and a
//! content-addressed cache of clips.
//!
//! Contract: a provider only turns one [`SynthRequest`] into one [`SynthAudio`] (one attempt, a
//! classified [`SynthError`]); everything about doing that many times, fast and safely —
//! concurrency, retries, timeouts, caching — lives in [`BatchRunner`] and [`Cache`], generic over
//! [`Synthesizer`]. The provider is chosen once, at the CLI edge, from the [`registry`]: each
//! provider is one [`Provider`] value whose constructor returns an [`AnyEngine`].
//!
//! Parts, each depending only on those listed before it:
//! - `request`: [`SynthRequest`], [`SynthAudio`], [`AudioFormat`], [`Limits`].
//! - `error`: [`SynthError`], [`TtsError`], [`FailedLine`].
//! - `engine`: the [`Synthesizer`] trait and [`SharedLimit`].
//! - [`cache`]: [`Cache`], clips named by the SHA-256 of everything that changes the audio.
//! - `aimd`, `report`, `plan`: the adaptive limit, what a batch returns, what it must request.
//! - [`batch`]: [`BatchRunner`] and [`BatchOptions`].
//! - `compat`: [`speak`] and [`synthesize_batch`], single calls in the shape of the Python API.
//! - `providers`: [`openai`] (OpenAI-compatible `POST {base}/audio/speech`, local servers too),
//!   [`elevenlabs`] (`POST {base}/v1/text-to-speech/{voice_id}`), [`local`] (Piper and
//!   espeak-ng), [`AnyEngine`], and [`Routed`] (a cast's voices, routed per request).
//! - [`provider`], [`registry`]: what a provider is, and the list of them.

mod aimd;
pub mod batch;
pub mod cache;
mod compat;
mod engine;
mod error;
mod plan;
pub mod provider;
mod providers;
pub mod registry;
mod report;
mod request;

pub use batch::{BatchOptions, BatchRunner};
pub use cache::{Cache, CacheKey, CachedClip};
pub use compat::{speak, synthesize_batch};
pub use engine::{SharedLimit, Synthesizer};
pub use error::{FailedLine, SynthError, TtsError};
pub use provider::{EngineKind, EngineSpec, MeasureError, PoolQuery, Provider, VoicePool};
pub use providers::{
    AnyEngine, ElevenLabsTts, EspeakTts, OpenAiTts, PiperTts, Routed, VoiceLoader,
};
pub use providers::{BUILTIN, elevenlabs, local, local_voices, openai};
pub use report::{BatchReport, Outcome};
pub use request::{AudioFormat, Limits, SynthAudio, SynthRequest};

/// The former name of [`CachedClip`].
#[deprecated(note = "renamed to `CachedClip`; `dubber::audio::Clip` is samples in memory")]
pub type Clip = CachedClip;
