//! The prep stage: subtitles in (imported, or later transcribed), normalised and grouped, out as
//! `subs.srt` (for a person to review), `segments.json` and `manifest.json`.

use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::llm::{ChatModel, LineEditor, LlmError, Translation};
use crate::manifest::Manifest;
use crate::pipeline::state::{State, sha256_hex};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::subtitles::{self, Fix, SubtitleError};
use crate::text::{self, GroupOptions};

/// State key of the hash of the `subs.srt` prep last wrote.
const SUBS_HASH: &str = "prep.subs_srt";
/// State key of the hash of prep's inputs (the subtitle file and the options).
const INPUT_HASH: &str = "prep.input";

/// Hash of what prep reads: the subtitle file's bytes and the options that shape its output.
fn input_hash(subtitles_path: &Path, opts: &PrepOptions) -> Result<String, PrepError> {
    let mut bytes = std::fs::read(subtitles_path).map_err(io_err(subtitles_path))?;
    bytes.extend(format!("{:?}|{}", opts.grouping, opts.split_sentences).as_bytes());
    Ok(sha256_hex(&bytes))
}

/// True when the work directory holds prep's output for exactly these inputs, so a resumed run
/// can skip prep (and keep any edits a person made to `subs.srt` since).
pub fn prep_is_current(workdir: &Workdir, subtitles_path: &Path, opts: &PrepOptions) -> bool {
    let state = State::load(&workdir.state_json());
    workdir.subs_srt().exists()
        && workdir.manifest_json().exists()
        && input_hash(subtitles_path, opts).is_ok_and(|h| state.get(INPUT_HASH) == Some(h.as_str()))
}

#[derive(Debug, thiserror::Error)]
pub enum PrepError {
    #[error(transparent)]
    Subtitles(#[from] SubtitleError),
    #[error(transparent)]
    Llm(#[from] LlmError),
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
    /// Split segments that hold several sentences, sharing their time by characters.
    pub split_sentences: bool,
    /// Overwrite `subs.srt` even when a person edited it since prep wrote it.
    pub force: bool,
}

/// What prep produced.
#[derive(Debug, Clone)]
pub struct PrepOutcome {
    pub segments: Vec<Segment>,
    pub manifest: Manifest,
    /// What normalisation changed in the input, for the user to see.
    pub fixes: Vec<Fix>,
}

/// Read, normalise and (when asked) split a subtitle file into segments.
fn import_segments(
    subtitles_path: &Path,
    opts: &PrepOptions,
) -> Result<(Vec<Segment>, Vec<Fix>), PrepError> {
    let cues = subtitles::read_file(subtitles_path)?;
    let (segments, fixes) = subtitles::normalize(cues);
    if segments.is_empty() {
        return Err(PrepError::Empty {
            path: subtitles_path.to_path_buf(),
        });
    }
    let segments = if opts.split_sentences {
        segments.iter().flat_map(text::split_segment).collect()
    } else {
        segments
    };
    Ok((segments, fixes))
}

/// Record prep's input hash, so a resumed run can skip prep.
fn record_input(workdir: &Workdir, input: String) -> Result<(), PrepError> {
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    state.set(INPUT_HASH, input);
    state.save(&state_path).map_err(io_err(&state_path))
}

/// Import a subtitle file (SRT, WebVTT or JSON) into the work directory.
pub fn prep_from_subtitles(
    workdir: &Workdir,
    subtitles_path: &Path,
    opts: &PrepOptions,
) -> Result<PrepOutcome, PrepError> {
    let input = input_hash(subtitles_path, opts)?;
    let (segments, fixes) = import_segments(subtitles_path, opts)?;
    let outcome = write_outputs(workdir, segments, fixes, opts)?;
    write_original(workdir, None)?;
    record_input(workdir, input)?;
    Ok(outcome)
}

/// Prep from a transcript: normalise, split lines holding several sentences (transcribers often
/// return long ones; a sentence per line gives the timeline finer windows), write the outputs.
pub fn prep_from_transcript(
    workdir: &Workdir,
    transcript: Vec<Segment>,
    opts: &PrepOptions,
) -> Result<PrepOutcome, PrepError> {
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
    write_outputs(workdir, segments, fixes, opts)
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

/// [`prep_from_subtitles`] with the lines polished and/or translated by `editor` between
/// normalisation and the outputs. Windows are kept line for line. When translating, the
/// (polished) original lines are written to `subs.orig.srt` and `subs.srt` holds the translation,
/// which is what synth speaks. `model_identity` (e.g. the model name and server) is part of the
/// input hash, so changing the model makes prep run again.
pub async fn prep_with_edits<M: ChatModel>(
    workdir: &Workdir,
    subtitles_path: &Path,
    opts: &PrepOptions,
    editor: &LineEditor<M>,
    edits: &TextEdits,
    model_identity: &str,
) -> Result<PrepOutcome, PrepError> {
    let mut input_bytes = input_hash(subtitles_path, opts)?.into_bytes();
    input_bytes.extend(format!("|{edits:?}|{model_identity}").as_bytes());
    let input = sha256_hex(&input_bytes);
    let (mut segments, fixes) = import_segments(subtitles_path, opts)?;
    if edits.polish {
        segments = editor.polish(&segments).await?;
    }
    let mut original = None;
    if let Some(translation) = &edits.translation {
        let translated = editor.translate(&segments, translation).await?;
        original = Some(std::mem::replace(&mut segments, translated));
    }
    let outcome = write_outputs(workdir, segments, fixes, opts)?;
    write_original(workdir, original.as_deref())?;
    record_input(workdir, input)?;
    Ok(outcome)
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

/// Write `subs.srt`, `segments.json` and `manifest.json` for `segments`. Refuses to overwrite a
/// `subs.srt` that a person edited since prep last wrote it, unless `opts.force`.
pub fn write_outputs(
    workdir: &Workdir,
    segments: Vec<Segment>,
    fixes: Vec<Fix>,
    opts: &PrepOptions,
) -> Result<PrepOutcome, PrepError> {
    workdir.create().map_err(io_err(workdir.root()))?;
    let subs_path = workdir.subs_srt();
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    if !opts.force
        && let Ok(existing) = std::fs::read(&subs_path)
    {
        let ours = state
            .get(SUBS_HASH)
            .is_some_and(|h| h == sha256_hex(&existing));
        if !ours {
            return Err(PrepError::EditedSubtitles { path: subs_path });
        }
    }
    let srt = subtitles::write(&segments, subtitles::Format::Srt);
    fsutil::write_atomic(&subs_path, srt.as_bytes()).map_err(io_err(&subs_path))?;
    let segments_path = workdir.segments_json();
    fsutil::write_json_atomic(&segments_path, &segments).map_err(io_err(&segments_path))?;
    let manifest = Manifest::build(&segments, &opts.grouping);
    let manifest_path = workdir.manifest_json();
    fsutil::write_json_atomic(&manifest_path, &manifest).map_err(io_err(&manifest_path))?;
    state.set(SUBS_HASH, sha256_hex(srt.as_bytes()));
    state.save(&state_path).map_err(io_err(&state_path))?;
    Ok(PrepOutcome {
        segments,
        manifest,
        fixes,
    })
}
