//! Pure text operations on subtitles: markup removal, sentence splitting, grouping segments into
//! sentences, packing sentences into TTS chunks, and wrapping lines for display.

mod group;
mod sentences;
mod wrap;

pub use crate::segment::markup::{fold_whitespace, plain_text};
pub use crate::segment::turns::spoken_text;
pub use group::{
    GroupOptions, chunk_per_segment, chunks_for, ends_with_continuation, group_sentences,
    pack_chunks,
};
pub use sentences::{ends_sentence, share_window, split_segment, split_sentences};
pub use wrap::wrap_line;
