//! The stages a user runs, over one [`Workdir`]: [`prep`] (subtitles or a transcript → the
//! reviewed `subs.srt` and a manifest), [`synth`] (subs.srt → a dubbed video), [`burn`]
//! (subtitles into a video) and [`youtube`] (upload assets); [`run`] chains them for one video or
//! many. The binary calls one function here per subcommand.
//!
//! Every path a stage writes comes from [`Workdir`]; what a stage read is fingerprinted in
//! [`state`], so work whose inputs did not change is skipped and a person's edits are kept.

pub mod burn;
pub mod cast;
pub mod find_speakers;
pub mod prep;
pub mod run;
pub mod state;
pub mod synth;
pub mod transcribe;
pub mod workdir;
pub mod youtube;

pub use burn::Burn;
pub use cast::{Casting, SpeakerVoices};
pub use find_speakers::SpeakerFinding;
pub use prep::{
    Editing, PrepError, PrepOptions, PrepOutcome, PrepSource, Prepared, TextEdits, prepare,
};
pub use run::{DubJob, DubOptions, DubResult, Dubbed, RunInputs, dub_all, dub_one, plan_jobs};
pub use workdir::{Workdir, output_beside};
