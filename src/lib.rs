//! dubber: dub a video into new speech, aligned to the original timing.
//!
//! The modules follow the data as it flows: [`subtitles`] read timed lines into [`Segment`]s,
//! [`text`] groups them into sentences and packs those into [`Chunk`]s (one TTS request each),
//! [`tts`] synthesizes the chunks concurrently through a cache, [`timeline`] fits every clip into
//! its window and renders one exact-length track with [`audio`]'s in-process DSP, [`background`]
//! puts the original audio under it in the source's own channel layout (ducked, or without the
//! original voice, which [`separation`]'s trained model takes out), [`media`] muxes it into the video, and [`pipeline`] runs these stages over a work directory. [`llm`] polishes,
//! translates and shortens lines with a chat model; [`youtube`] and [`cost`] serve publishing and
//! budgeting. [`retry`] holds the backoff and `Retry-After` handling that [`tts`] and [`llm`] share.

pub mod audio;
pub mod background;
pub mod batch;
pub mod cast;
pub mod cost;
pub mod credentials;
pub mod fsutil;
pub mod llm;
pub mod local_tts;
pub mod manifest;
pub mod media;
pub mod models;
pub mod onnx;
pub mod pipeline;
pub mod progress;
pub mod retry;
pub mod segment;
pub mod separation;
pub mod speakers;
pub mod stt;
pub mod studio;
pub mod subtitles;
pub mod text;
pub mod timeline;
pub mod tts;
pub mod youtube;

pub use segment::{Chunk, Segment, Window};
