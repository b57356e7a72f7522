//! `dubber prep`: subtitles → subs.srt, segments.json, manifest.json.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use dubber::pipeline::{PrepOptions, Workdir, prep_from_subtitles};
use dubber::text::GroupOptions;

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
    /// A pause at least this long (seconds) ends a sentence and a TTS chunk.
    #[arg(long, value_name = "S", default_value_t = 1.2)]
    pub sentence_join_gap: f64,
    /// Sentences spoken together in one TTS request.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub sentences_per_chunk: u16,
    /// Longest sentence (seconds) before it is cut at a line end.
    #[arg(long, value_name = "S", default_value_t = 12.0)]
    pub max_sentence_secs: f64,
    /// Most subtitle lines in one sentence before it is cut.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub max_segments: usize,
    /// Longest TTS chunk, in seconds.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    pub max_chunk_secs: f64,
    /// Split lines that hold several sentences, sharing their time by characters.
    #[arg(long)]
    pub split_sentences: bool,
    /// Overwrite subs.srt even if you edited it since prep wrote it.
    #[arg(long)]
    pub force: bool,
}

fn secs_arg(name: &str, value: f64) -> Result<u64> {
    match dubber::segment::secs_to_ms(value) {
        Some(ms) => Ok(ms),
        None => bail!("--{name} must be a number of seconds ≥ 0, got {value}"),
    }
}

impl PrepArgs {
    fn grouping(&self) -> Result<GroupOptions> {
        Ok(GroupOptions {
            join_gap_ms: secs_arg("sentence-join-gap", self.sentence_join_gap)?,
            max_sentence_ms: secs_arg("max-sentence-secs", self.max_sentence_secs)?,
            max_sentence_segments: self.max_segments.max(1),
            sentences_per_chunk: usize::from(self.sentences_per_chunk),
            max_chunk_ms: secs_arg("max-chunk-secs", self.max_chunk_secs)?,
            ..GroupOptions::default()
        })
    }
}

pub fn run(args: PrepArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let opts = PrepOptions {
        grouping: args.grouping()?,
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
