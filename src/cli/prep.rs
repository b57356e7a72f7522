//! `dubber prep`: subtitles → subs.srt, segments.json, manifest.json.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use dubber::pipeline::transcribe::transcribe_video;
use dubber::pipeline::{PrepOptions, Workdir, prep_from_subtitles, prep_from_transcript};

use super::common::{GroupingArgs, SttArgs};
use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Args)]
pub struct PrepArgs {
    /// The video to dub (names the work directory).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    /// Import these subtitles (.srt, .vtt, or .json [{start, end, text}] in seconds) instead of
    /// transcribing the video.
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    #[command(flatten)]
    pub grouping: GroupingArgs,
    #[command(flatten)]
    pub stt: SttArgs,
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
    let outcome = match &args.subtitles {
        Some(subtitles) => prep_from_subtitles(&workdir, subtitles, &opts)?,
        None => {
            let transcriber = args.stt.transcriber()?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let segments = runtime.block_on(transcribe_video(
                &args.video,
                &workdir,
                transcriber.as_ref(),
                &args.stt.options(),
            ))?;
            prep_from_transcript(&workdir, segments, &opts)?
        }
    };
    let source = args
        .subtitles
        .clone()
        .unwrap_or_else(|| workdir.transcript_json());
    for fix in &outcome.fixes {
        tracing::warn!("{}:{fix}", source.display());
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
