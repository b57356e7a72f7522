//! dubber: dub a video into new speech, aligned to the original timing.

pub mod audio;
pub mod segment;
pub mod text;
pub mod timeline;

pub use segment::{Chunk, Segment, Window};
