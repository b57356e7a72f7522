//! The stages a user runs, over one [`Workdir`]: prep (subtitles → reviewed `subs.srt` and a
//! manifest) first; synth, burn and youtube build on its output.

pub mod prep;
pub mod state;
pub mod synth;
pub mod transcribe;
pub mod workdir;
pub mod youtube;

pub use prep::{
    PrepError, PrepOptions, PrepOutcome, TextEdits, prep_from_subtitles, prep_from_transcript,
    prep_is_current, prep_with_edits,
};
pub use workdir::Workdir;
