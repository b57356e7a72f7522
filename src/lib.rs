//! dubber: dub a video into new speech, aligned to the original timing.

pub mod cost;
pub mod llm;
pub mod segment;
pub mod text;
pub mod youtube;

pub use segment::{Chunk, Segment, Window};
