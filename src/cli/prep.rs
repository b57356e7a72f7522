//! `dubber prep`: subtitles or a transcript → subs.srt, segments.json, manifest.json; optionally
//! polished and translated by a chat model (the original lines kept in subs.orig.srt).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use dubber::llm::{LineEditor, OpenAiChat};
use dubber::pipeline::{Editing, PrepOptions, PrepSource, Prepared, prepare};

use super::{config, voices};

use super::flags::{
    GroupingArgs, Provider, SpeakersArgs, SttArgs, TranslateWith, WordsArgs, WorkdirArgs,
};
use super::output::{Event, Output};

#[derive(Debug, Args)]
pub struct PrepArgs {
    /// The video to dub (names the work directory).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    /// Import these subtitles (.srt, .vtt, .sbv, .ass/.ssa, .ttml/.dfxp/.xml, or .json
    /// [{start, end, text}] in seconds) instead of transcribing the video.
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    /// The subtitles' encoding, a WHATWG label (windows-1251, koi8-r, gbk, shift_jis, utf-16le,
    /// ...) [default: from a byte-order mark, else UTF-8 if valid, else detected]
    #[arg(long, value_name = "NAME", value_parser = super::flags::encoding_label)]
    pub subtitles_encoding: Option<String>,
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
    #[command(flatten)]
    pub speakers: SpeakersArgs,
    /// The TTS engine whose voices the lines' speakers are cast with into cast.toml (see
    /// `synth --tts`).
    #[arg(long = "tts", value_parser = super::flags::tts_provider(), default_value = "piper")]
    pub provider: Provider,
    /// A cast file (e.g. one shared by a series): its speakers keep its voices, the others are
    /// cast automatically into the work directory's cast.toml.
    #[arg(long, value_name = "FILE")]
    pub cast: Option<PathBuf>,
}

pub fn run(args: PrepArgs, out: &Output) -> Result<()> {
    let workdir = args.workdir.for_video(&args.video);
    let opts = PrepOptions {
        grouping: config::grouping(&args.grouping)?,
        split_sentences: args.split_sentences,
        force: args.force,
        skip_when_current: false,
        subtitles_encoding: args.subtitles_encoding.clone(),
        casting: Some(voices::casting(
            args.provider,
            None,
            None,
            args.cast.as_deref(),
            args.words
                .translate_to
                .as_deref()
                .or(args.stt.stt_language.as_deref()),
        )),
        video: Some(args.video.clone()),
        speakers: config::speaker_finding(&args.speakers),
    };
    let translate_with = config::translate_with(&args.words, args.subtitles.is_none())?;
    let mut edits = config::text_edits(&args.words)?;
    let mut transcribe = config::transcribe_options(&args.stt);
    if translate_with == Some(TranslateWith::Whisper) {
        // Whisper translates while it transcribes: no chat model, no key, no network.
        edits.translation = None;
        transcribe.task = dubber::stt::Task::Translate;
    }
    let editor = match edits.is_empty() {
        true => None,
        false => {
            let (model, cache) = config::chat(&args.words.llm, &workdir)?;
            Some(LineEditor::new(model).with_cache(cache))
        }
    };
    let identity = config::chat_identity(&args.words.llm);
    let editing = editor.as_ref().map(|editor| Editing {
        editor,
        edits: &edits,
        model_identity: &identity,
    });
    let transcriber = match &args.subtitles {
        Some(_) => None,
        None => Some(config::transcriber(&args.stt)?),
    };
    let (source, from) = match (&args.subtitles, transcriber.as_deref()) {
        (Some(subtitles), _) => (PrepSource::Subtitles(subtitles), subtitles.clone()),
        (None, Some(transcriber)) => (
            PrepSource::Transcript {
                video: &args.video,
                transcriber,
                options: &transcribe,
            },
            workdir.transcript_json(),
        ),
        (None, None) => anyhow::bail!("no subtitles to import and no transcriber"),
    };
    let prepared = super::block_on(prepare::<OpenAiChat>(&workdir, source, &opts, editing))??;
    let Prepared::Written(outcome) = prepared else {
        // Only `run` asks prep to skip work that is current.
        return Ok(());
    };
    for fix in &outcome.fixes {
        tracing::warn!("{}:{fix}", from.display());
    }
    let language_warning = outcome
        .manifest
        .language
        .as_ref()
        .and_then(|l| l.warning.as_deref());
    if let Some(warning) = language_warning {
        out.warn(&args.video.display().to_string(), warning);
    }
    let subs = workdir.subs_srt();
    let original = workdir.subs_orig_srt();
    let original = outcome.translated.then_some(original.as_path());
    let (sentences, chunks) = (
        outcome.manifest.sentence_groups.len(),
        outcome.manifest.chunks.len(),
    );
    let speakers = dubber::pipeline::cast::speakers_of(&outcome.segments);
    out.event(
        Event::PrepDone {
            segments: outcome.segments.len(),
            sentences,
            chunks,
            subs: &subs,
            original,
            transcription: outcome.transcription.as_deref(),
            language_warning,
            speakers: &speakers,
        },
        || {
            println!(
                "{} segments, {sentences} sentences, {chunks} chunks → {}",
                outcome.segments.len(),
                subs.display()
            );
            if let Some(original) = original {
                println!("original lines → {}", original.display());
            }
            if !speakers.is_empty() {
                let cast = workdir.cast_toml();
                match cast.is_file() {
                    true => println!(
                        "speakers: {}; voices: {}",
                        speakers.join(", "),
                        cast.display()
                    ),
                    false => println!("speakers: {}", speakers.join(", ")),
                }
            }
        },
    );
    Ok(())
}
