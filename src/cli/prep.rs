//! `dubber prep`: subtitles → subs.srt, segments.json, manifest.json; optionally polished and
//! translated by a chat model (the original lines kept in subs.orig.srt).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use dubber::llm::{Glossary, LineEditor, Translation};
use dubber::pipeline::{PrepOptions, TextEdits, Workdir, prep_from_subtitles, prep_with_edits};

use super::common::{GroupingArgs, LlmArgs};
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
    let Some(subtitles) = &args.subtitles else {
        bail!(
            "{}: transcription is not built yet; pass --subtitles FILE (.srt, .vtt or .json)",
            args.video.display()
        );
    };
    let edits = args.words.edits()?;
    let outcome = if edits.is_empty() {
        prep_from_subtitles(&workdir, subtitles, &opts)?
    } else {
        let (model, cache) = args.words.llm.open(&workdir)?;
        let editor = LineEditor::new(model).with_cache(cache);
        let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        runtime.block_on(prep_with_edits(
            &workdir,
            subtitles,
            &opts,
            &editor,
            &edits,
            &args.words.llm.identity(),
        ))?
    };
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
        if edits.translation.is_some() {
            println!("original lines → {}", workdir.subs_orig_srt().display());
        }
    }
    Ok(())
}
