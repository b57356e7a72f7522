//! Pure text operations on subtitles: markup removal, sentence splitting, grouping segments into
//! sentences, packing sentences into TTS chunks, and wrapping lines for display.

mod markup;

pub use markup::{fold_whitespace, spoken_text};
