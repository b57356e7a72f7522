//! dubber: dub a video into new speech, aligned to the original timing.

pub mod segment;
pub mod text;
pub mod tts;

pub use segment::{Chunk, Segment, Window};
