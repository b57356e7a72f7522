//! dubber: dub a video into new speech, aligned to the original timing.

pub mod segment;
pub mod text;

pub use segment::{Chunk, Segment, Window};
