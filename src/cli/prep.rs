//! `dubber prep`: subtitles → subs.srt, segments.json, manifest.json; optionally polished and
//! translated by a chat model (the original lines kept in subs.orig.srt).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use dubber::llm::{Glossary, LineEditor, Translation};
use dubber::pipeline::transcribe::transcribe_video;
use dubber::pipeline::{
    PrepOptions, TextEdits, Workdir, prep_from_subtitles, prep_from_transcript, prep_with_edits,
};

use super::common::{GroupingArgs, LlmArgs, SttArgs};
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
    #[command(flatten)]
    pub words: WordsArgs,
}

/// Polish and translation by a chat model.
#[derive(Debug, Args, Clone)]
pub struct WordsArgs {
    /// Have the chat model fix grammar and fluency for voice-over (line count and timing kept).
    #[arg(long)]
    pub polish: bool,
    /// Translate into this language (a name or code: "German", "pt-BR"); subs.srt gets the
    /// translation, subs.orig.srt keeps the original.
    #[arg(long, value_name = "LANG")]
    pub translate_to: Option<String>,
    /// Language of the subtitles [default: the model detects it].
    #[arg(long, value_name = "LANG", requires = "translate_to")]
    pub source_lang: Option<String>,
    /// Terms the translation renders as given: one `term = rendering` a line, or a JSON object.
    #[arg(long, value_name = "FILE", requires = "translate_to")]
    pub glossary: Option<PathBuf>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

impl WordsArgs {
    /// The edits the flags ask for.
    pub fn edits(&self) -> Result<TextEdits> {
        let translation = match &self.translate_to {
            None => None,
            Some(target) => Some(Translation {
                target_language: target.clone(),
                source_language: self.source_lang.clone(),
                glossary: match &self.glossary {
                    Some(path) => Glossary::load(path)?,
                    None => Glossary::default(),
                },
            }),
        };
        Ok(TextEdits {
            polish: self.polish,
            translation,
        })
    }
}

pub fn run(args: PrepArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let opts = PrepOptions {
        grouping: args.grouping.options()?,
        split_sentences: args.split_sentences,
        force: args.force,
    };
    // The lines to start from: imported subtitles, or the transcript (split into sentences and
    // written out first, so that edits start from what a person would review).
    let (source, mut outcome) = match &args.subtitles {
        Some(subtitles) => (subtitles.clone(), None),
        None => {
            let transcriber = args.stt.transcriber()?;
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let segments = runtime.block_on(transcribe_video(
                &args.video,
                &workdir,
                transcriber.as_ref(),
                &args.stt.options(),
            ))?;
            let outcome = prep_from_transcript(&workdir, segments, &opts)?;
            (workdir.segments_json(), Some(outcome))
        }
    };
    let edits = args.words.edits()?;
    if !edits.is_empty() {
        let (model, cache) = args.words.llm.open(&workdir)?;
        let editor = LineEditor::new(model).with_cache(cache);
        let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        outcome = Some(runtime.block_on(prep_with_edits(
            &workdir,
            &source,
            &opts,
            &editor,
            &edits,
            &args.words.llm.identity(),
        ))?);
    }
    let outcome = match outcome {
        Some(outcome) => outcome,
        None => prep_from_subtitles(&workdir, &source, &opts)?,
    };
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
        if edits.translation.is_some() {
            println!("original lines → {}", workdir.subs_orig_srt().display());
        }
    }
    Ok(())
}
