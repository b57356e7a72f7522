//! dubber: dub a video into new speech, aligned to the original timing.

pub mod local_tts;
pub mod models;
pub mod segment;
pub mod stt;
pub mod text;

pub use segment::{Chunk, Segment, Window};
