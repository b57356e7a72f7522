//! `dubber prep`: subtitles → subs.srt, segments.json, manifest.json.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use dubber::pipeline::{PrepOptions, Workdir, prep_from_subtitles};

use super::common::GroupingArgs;
use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Args)]
pub struct PrepArgs {
    /// The video to dub (names the work directory).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    /// Import these subtitles (.srt, .vtt, or .json [{start, end, text}] in seconds).
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    #[command(flatten)]
    pub grouping: GroupingArgs,
    /// Split lines that hold several sentences, sharing their time by characters.
    #[arg(long)]
    pub split_sentences: bool,
    /// Overwrite subs.srt even if you edited it since prep wrote it.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: PrepArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let opts = PrepOptions {
        grouping: args.grouping.options()?,
        split_sentences: args.split_sentences,
        force: args.force,
    };
    let Some(subtitles) = &args.subtitles else {
        bail!(
            "{}: transcription is not built yet; pass --subtitles FILE (.srt, .vtt or .json)",
            args.video.display()
        );
    };
    let outcome = prep_from_subtitles(&workdir, subtitles, &opts)?;
    for fix in &outcome.fixes {
        tracing::warn!("{}:{fix}", subtitles.display());
    }
    if !global.quiet {
        println!(
            "{} segments, {} sentences, {} chunks → {}",
            outcome.segments.len(),
            outcome.manifest.sentence_groups.len(),
            outcome.manifest.chunks.len(),
            workdir.subs_srt().display()
        );
    }
    Ok(())
}
