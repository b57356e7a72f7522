//! The prep stage: timed lines in (a subtitle file imported, or the video transcribed), normalised,
//! optionally polished and translated by a chat model, grouped, and written out as `subs.srt` (for
//! a person to review), `segments.json` and `manifest.json`.
//!
//! One entry, [`prepare`], serves `dubber prep` and `dubber run` alike. Prep refuses to overwrite a
//! `subs.srt` a person edited since prep wrote it (unless forced), and with
//! [`PrepOptions::skip_when_current`] it does nothing when its inputs are those of the last prep:
//! a resumed `run` keeps a person's edits. When the lines have speakers, prep also casts them
//! ([`crate::pipeline::cast`]): `cast.toml` gets a voice for every speaker it lacks.

use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::llm::{ChatModel, LineEditor, LlmError, Translation};
use crate::manifest::Manifest;
use crate::pipeline::find_speakers::{FindSpeakersError, SpeakerFinding, find_speakers};
use crate::pipeline::state::{Fingerprint, State, Step, sha256_hex};
use crate::pipeline::transcribe::{TranscribeError, transcribe_video};
use crate::pipeline::workdir::{Workdir, WorkdirError};
use crate::segment::Segment;
use crate::stt::{HeardLanguage, SttReport, Task, TranscribeOptions, Transcriber};
use crate::subtitles::{self, Fix, SubtitleError};
use crate::text::{self, GroupOptions};

#[derive(Debug, thiserror::Error)]
pub enum PrepError {
    #[error(transparent)]
    Subtitles(#[from] SubtitleError),
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
    #[error(transparent)]
    Workdir(#[from] WorkdirError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Cast(#[from] crate::cast::CastError),
    #[error(transparent)]
    Speakers(#[from] FindSpeakersError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no cue with text to speak", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{}: edited since prep wrote it; pass --force to overwrite your edits, or run synth to use them",
        path.display()
    )]
    EditedSubtitles { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PrepError + '_ {
    move |source| PrepError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Settings of the prep stage.
#[derive(Debug, Clone, Default)]
pub struct PrepOptions {
    pub grouping: GroupOptions,
    /// Split imported segments that hold several sentences, sharing their time by characters
    /// (transcripts are always split).
    pub split_sentences: bool,
    /// Overwrite `subs.srt` even when a person edited it since prep wrote it.
    pub force: bool,
    /// Do nothing when the inputs are those of the last prep and its outputs exist (`run`).
    pub skip_when_current: bool,
    /// The imported subtitles' encoding (a WHATWG label); `None` detects it.
    pub subtitles_encoding: Option<String>,
    /// Cast the lines' speakers into `cast.toml` (`None`: leave casting to synth).
    pub casting: Option<crate::pipeline::cast::Casting>,
    /// The video, whose speech tells the speakers' registers when casting, and who speaks when
    /// the lines do not say (its speech track is extracted when prep did not transcribe).
    pub video: Option<PathBuf>,
    /// Find who speaks each line from the audio when the lines do not say
    /// ([`crate::pipeline::find_speakers`]).
    pub speakers: SpeakerFinding,
}

/// Where prep's lines come from.
pub enum PrepSource<'a> {
    /// A subtitle file (SRT, WebVTT or JSON) to import.
    Subtitles(&'a Path),
    /// The video's speech, transcribed (the transcript is cached in the work directory).
    Transcript {
        video: &'a Path,
        transcriber: &'a dyn Transcriber,
        options: &'a TranscribeOptions,
    },
}

/// What a chat model does to the lines between import and `subs.srt`.
#[derive(Debug, Clone, Default)]
pub struct TextEdits {
    /// Grammar and fluency for voice-over (before translation, in the original language).
    pub polish: bool,
    /// Translate into this language; the original lines go to `subs.orig.srt`.
    pub translation: Option<Translation>,
}

impl TextEdits {
    /// True when no edit is asked for (no model needed).
    pub fn is_empty(&self) -> bool {
        !self.polish && self.translation.is_none()
    }
}

/// The edits and the model that makes them. `model_identity` (model and server) is part of
/// prep's input fingerprint, so changing the model makes prep run again.
pub struct Editing<'a, M> {
    pub editor: &'a LineEditor<M>,
    pub edits: &'a TextEdits,
    pub model_identity: &'a str,
}

/// What prep did.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// The outputs were written.
    Written(PrepOutcome),
    /// The inputs are those of the last prep: nothing was done (`skip_when_current`).
    UpToDate,
}

/// What prep wrote.
#[derive(Debug, Clone)]
pub struct PrepOutcome {
    pub segments: Vec<Segment>,
    pub manifest: Manifest,
    /// What normalisation changed in the input, for the user to see.
    pub fixes: Vec<Fix>,
    /// True when `subs.orig.srt` holds the original lines (prep translated).
    pub translated: bool,
    /// What the transcriber did (language heard, what it dropped), when prep transcribed; the
    /// language, with its warning when the detection was unsure, is also `manifest.language`.
    pub transcription: Option<Box<SttReport>>,
}

/// Run prep over `workdir`: read the lines from `source`, edit them with `editing` when given,
/// and write the outputs (see the module doc for when it writes nothing).
pub async fn prepare<M: ChatModel>(
    workdir: &Workdir,
    source: PrepSource<'_>,
    opts: &PrepOptions,
    editing: Option<Editing<'_, M>>,
) -> Result<Prepared, PrepError> {
    let _lock = workdir.lock()?;
    let (lines, fingerprint) = read_lines(workdir, source, opts).await?;
    let mut fingerprint = fingerprint
        .value(&opts.grouping)
        .value(&opts.split_sentences)
        .text(&format!("speakers {:?}", opts.speakers));
    if let Some(e) = editing.as_ref().filter(|e| !e.edits.is_empty()) {
        fingerprint = fingerprint
            .value(&e.edits.polish)
            .value(&e.edits.translation)
            .text(e.model_identity);
    }
    let input = fingerprint.finish();
    if opts.skip_when_current && !opts.force && is_current(workdir, &input) {
        return Ok(Prepared::UpToDate);
    }
    let Lines {
        segments,
        fixes,
        mut original,
        transcription,
    } = lines;
    // Who speaks, from the original speech and lines (before a chat model rewrites them).
    let mut segments =
        find_speakers(workdir, opts.video.as_deref(), segments, &opts.speakers).await?;
    if let Some(Editing { editor, edits, .. }) = editing {
        if edits.polish {
            segments = editor.polish(&segments).await?;
        }
        if let Some(translation) = &edits.translation {
            let translated = editor.translate(&segments, translation).await?;
            original = Some(std::mem::replace(&mut segments, translated));
        }
    }
    let language = transcription.as_deref().and_then(SttReport::heard_language);
    let mut outcome = write_outputs(workdir, segments, fixes, language, opts)?;
    if let Some(casting) = &opts.casting {
        let (workdir, casting, video, segments) = (
            workdir.clone(),
            casting.clone(),
            opts.video.clone(),
            outcome.segments.clone(),
        );
        tokio::task::spawn_blocking(move || {
            crate::pipeline::cast::cast_speakers(&workdir, video.as_deref(), &casting, &segments)
        })
        .await
        .map_err(|e| PrepError::Io {
            path: PathBuf::from("cast.toml"),
            source: std::io::Error::other(e.to_string()),
        })??;
    }
    outcome.translated = original.is_some();
    outcome.transcription = transcription;
    write_original(workdir, original.as_deref())?;
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    state.set(Step::PrepInput, input);
    state.save(&state_path).map_err(io_err(&state_path))?;
    Ok(Prepared::Written(outcome))
}

/// True when the work directory holds prep's output for exactly the inputs `input`.
fn is_current(workdir: &Workdir, input: &str) -> bool {
    workdir.subs_srt().exists()
        && workdir.manifest_json().exists()
        && State::load(&workdir.state_json()).is(Step::PrepInput, input)
}

/// Normalised lines, and what normalising changed.
struct Lines {
    segments: Vec<Segment>,
    fixes: Vec<Fix>,
    /// The lines in the spoken language, when the transcriber translated them.
    original: Option<Vec<Segment>>,
    /// The transcriber's report, when the lines were transcribed.
    transcription: Option<Box<SttReport>>,
}

/// The lines of `source`, normalised, and a fingerprint of what they were read from.
async fn read_lines(
    workdir: &Workdir,
    source: PrepSource<'_>,
    opts: &PrepOptions,
) -> Result<(Lines, Fingerprint), PrepError> {
    match source {
        PrepSource::Subtitles(path) => {
            let bytes = std::fs::read(path).map_err(io_err(path))?;
            let lines = import_subtitles(path, opts)?;
            let mut fingerprint = Fingerprint::new().text("subtitles").bytes(&bytes);
            if let Some(encoding) = &opts.subtitles_encoding {
                fingerprint = fingerprint.text(encoding);
            }
            Ok((lines, fingerprint))
        }
        PrepSource::Transcript {
            video,
            transcriber,
            options,
        } => {
            let transcript = transcribe_video(video, workdir, transcriber, options).await?;
            let mut fingerprint = Fingerprint::new()
                .text("transcript")
                .value(&transcript.segments);
            let spoken_english = transcript.report.language.as_deref() == Some("en");
            let mut lines = from_transcript(transcript.segments);
            lines.transcription = Some(Box::new(transcript.report));
            // Translated by the transcriber: the spoken-language lines (a second, transcribing
            // pass) go to `subs.orig.srt`, as for a chat model's translation.
            if options.task == Task::Translate && !spoken_english {
                let as_spoken = TranscribeOptions {
                    task: Task::Transcribe,
                    ..options.clone()
                };
                let original = transcribe_video(video, workdir, transcriber, &as_spoken).await?;
                fingerprint = fingerprint.value(&original.segments);
                lines.original = Some(from_transcript(original.segments).segments);
            }
            Ok((lines, fingerprint))
        }
    }
}

/// Read, normalise and (when asked) split a subtitle file into segments.
fn import_subtitles(path: &Path, opts: &PrepOptions) -> Result<Lines, PrepError> {
    let read = subtitles::ReadOptions {
        encoding: opts.subtitles_encoding.clone(),
    };
    let file = subtitles::read_file_with(path, &read)?;
    let (segments, fixes) = subtitles::normalize(file.cues);
    let fixes = file.notes.into_iter().chain(fixes).collect();
    if segments.is_empty() {
        return Err(PrepError::Empty {
            path: path.to_path_buf(),
        });
    }
    let segments = match opts.split_sentences {
        true => segments.iter().flat_map(text::split_segment).collect(),
        false => segments,
    };
    Ok(Lines {
        segments,
        fixes,
        original: None,
        transcription: None,
    })
}

/// A transcript, normalised, with lines holding several sentences split (transcribers often
/// return long ones; a sentence per line gives the timeline finer windows) and wrapped for display.
fn from_transcript(transcript: Vec<Segment>) -> Lines {
    let cues = transcript
        .into_iter()
        .enumerate()
        .map(|(i, segment)| subtitles::Cue {
            line: i + 1,
            segment,
        })
        .collect();
    let (segments, fixes) = subtitles::normalize(cues);
    let segments = segments
        .iter()
        .flat_map(text::split_segment)
        .map(|mut s| {
            // Wrapped for display (42 characters, two lines); the spoken text is the same.
            s.text = text::wrap_line(&s.text, 42, 2).join("\n");
            s
        })
        .collect();
    Lines {
        segments,
        fixes,
        original: None,
        transcription: None,
    }
}

/// Write `subs.orig.srt` for a translated run, or remove a stale one (from an earlier translated
/// run) that no longer matches `subs.srt`.
fn write_original(workdir: &Workdir, original: Option<&[Segment]>) -> Result<(), PrepError> {
    let path = workdir.subs_orig_srt();
    match original {
        Some(segments) => {
            let srt = subtitles::write(segments, subtitles::Format::Srt);
            fsutil::write_atomic(&path, srt.as_bytes()).map_err(io_err(&path))
        }
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&path)(e)),
            _ => Ok(()),
        },
    }
}

/// Write `subs.srt`, `segments.json` and `manifest.json` (with the `language` the speech was
/// heard in, when prep transcribed) for `segments`. Refuses to overwrite a `subs.srt` that a
/// person edited since prep last wrote it, unless `opts.force`.
fn write_outputs(
    workdir: &Workdir,
    segments: Vec<Segment>,
    fixes: Vec<Fix>,
    language: Option<HeardLanguage>,
    opts: &PrepOptions,
) -> Result<PrepOutcome, PrepError> {
    workdir.create().map_err(io_err(workdir.root()))?;
    let subs_path = workdir.subs_srt();
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    if !opts.force
        && let Ok(existing) = std::fs::read(&subs_path)
        && !state.is(Step::PrepSubtitles, &sha256_hex(&existing))
    {
        return Err(PrepError::EditedSubtitles { path: subs_path });
    }
    let srt = subtitles::write(&segments, subtitles::Format::Srt);
    fsutil::write_atomic(&subs_path, srt.as_bytes()).map_err(io_err(&subs_path))?;
    let segments_path = workdir.segments_json();
    fsutil::write_json_atomic(&segments_path, &segments).map_err(io_err(&segments_path))?;
    let manifest = Manifest {
        language: language.map(Box::new),
        ..Manifest::build(&segments, &opts.grouping)
    };
    let manifest_path = workdir.manifest_json();
    fsutil::write_json_atomic(&manifest_path, &manifest).map_err(io_err(&manifest_path))?;
    state.set(Step::PrepSubtitles, sha256_hex(srt.as_bytes()));
    state.save(&state_path).map_err(io_err(&state_path))?;
    Ok(PrepOutcome {
        segments,
        manifest,
        fixes,
        translated: false,
        transcription: None,
    })
}
