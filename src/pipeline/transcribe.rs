//! Transcription for prep: the video's speech track (16 kHz mono, extracted by ffmpeg) through a
//! [`Transcriber`], cached in the work directory so that a resumed run does not transcribe again.

use std::path::{Path, PathBuf};

use crate::audio::{self, AudioError};
use crate::media::{self, MediaError};
use crate::pipeline::state::{Fingerprint, State, Step};
use crate::pipeline::workdir::Workdir;
use crate::stt::{SttError, SttReport, Task, TranscribeOptions, Transcriber, Transcript};
use crate::subtitles::{self, Format};

#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{}: {source}", video.display())]
    Stt { video: PathBuf, source: SttError },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no speech found; pass --subtitles FILE instead", video.display())]
    NoSpeech { video: PathBuf },
    #[error("the audio thread stopped: {0}")]
    Worker(String),
}

/// What identifies a transcription: the video file (path, size, modification time), the engine
/// and the options.
fn input_key(
    video: &Path,
    engine: &str,
    options: &TranscribeOptions,
) -> Result<String, TranscribeError> {
    let meta = std::fs::metadata(video).map_err(|source| TranscribeError::Io {
        path: video.to_path_buf(),
        source,
    })?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    Ok(Fingerprint::new()
        .text(&video.to_string_lossy())
        .value(&meta.len())
        .value(&modified.map(|d| (d.as_secs(), d.subsec_nanos())))
        .text(engine)
        .value(options)
        .finish())
}

/// Transcribe `video` (or translate its speech into English, per `options.task`), or return the
/// cached transcript when nothing changed. The transcriber's report goes to `transcription.json`
/// (`transcription.en.json` for a translation) beside the transcript.
pub async fn transcribe_video<T: Transcriber + ?Sized>(
    video: &Path,
    workdir: &Workdir,
    transcriber: &T,
    options: &TranscribeOptions,
) -> Result<Transcript, TranscribeError> {
    let key = input_key(video, &transcriber.name(), options)?;
    let (transcript_path, report_path, step) = match options.task {
        Task::Transcribe => (
            workdir.transcript_json(),
            workdir.transcription_json(),
            Step::Transcript,
        ),
        Task::Translate => (
            workdir.transcript_en_json(),
            workdir.transcription_en_json(),
            Step::TranslatedTranscript,
        ),
    };
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    if state.is(step, &key)
        && let Ok(text) = std::fs::read_to_string(&transcript_path)
        && let Ok(cues) = subtitles::parse(&text, Format::Json)
        && let Ok(report) = std::fs::read(&report_path)
        && let Ok(report) = serde_json::from_slice::<SttReport>(&report)
    {
        tracing::info!("{}: transcript is up to date", video.display());
        return Ok(Transcript {
            segments: cues.into_iter().map(|c| c.segment).collect(),
            report,
        });
    }
    workdir.create().map_err(|source| TranscribeError::Io {
        path: workdir.root().into(),
        source,
    })?;
    // ffmpeg, decoding and resampling are CPU work: off the async threads, so that the other
    // videos of a `run --jobs` keep their requests going meanwhile.
    let (video_path, speech) = (video.to_path_buf(), workdir.speech_wav());
    let clip = tokio::task::spawn_blocking(move || -> Result<audio::Clip, TranscribeError> {
        media::extract_audio(&video_path, &speech, None)?;
        // ffmpeg writes 16 kHz already: the decoded samples are the one copy kept (a resample
        // would hold a second one for the whole audio).
        let clip = audio::read_wav(&speech)?;
        match clip.rate {
            16_000 => Ok(clip),
            _ => Ok(audio::resample(&clip, 16_000)?),
        }
    })
    .await
    .map_err(|e| TranscribeError::Worker(e.to_string()))??;
    let transcript = transcriber
        .transcribe(clip.samples, options)
        .await
        .map_err(|source| TranscribeError::Stt {
            video: video.to_path_buf(),
            source,
        })?;
    log_report(video, &transcript.report);
    if transcript
        .segments
        .iter()
        .all(|s| s.spoken_text().is_empty())
    {
        return Err(TranscribeError::NoSpeech {
            video: video.to_path_buf(),
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TranscribeError::Io { path, source }
    };
    let report = serde_json::to_vec_pretty(&transcript.report)
        .map_err(|e| io(&report_path)(std::io::Error::other(e)))?;
    crate::fsutil::write_atomic(&report_path, &report).map_err(io(&report_path))?;
    crate::fsutil::write_atomic(
        &transcript_path,
        subtitles::write(&transcript.segments, Format::Json).as_bytes(),
    )
    .map_err(io(&transcript_path))?;
    state.set(step, key);
    state.save(&state_path).map_err(io(&state_path))?;
    Ok(transcript)
}

/// Says what the transcriber heard and dropped.
fn log_report(video: &Path, report: &SttReport) {
    let language = match (&report.language_name, report.language_probability) {
        (Some(name), Some(p)) => match &report.language_runner_up {
            Some(next) => format!(
                "{name} (detected, p = {p:.2}; next {}, p = {:.2})",
                next.name, next.probability
            ),
            None => format!("{name} (detected, p = {p:.2})"),
        },
        (Some(name), None) => format!("{name} (given)"),
        (None, _) => "not detected".to_string(),
    };
    let d = &report.decoding;
    let dropped = d.loops_collapsed + d.repeats_dropped + d.silent_windows;
    let heard = match report.vad {
        true => format!(
            "{:.1} s of speech in {:.1} s",
            report.speech_ms as f64 / 1000.0,
            report.audio_ms as f64 / 1000.0
        ),
        false => format!("{:.1} s of audio", report.audio_ms as f64 / 1000.0),
    };
    let dropped = match dropped {
        0 => String::new(),
        _ => format!(
            "; dropped as hallucination: {} looping line(s), {} repeated line(s), {} silent window(s)",
            d.loops_collapsed, d.repeats_dropped, d.silent_windows
        ),
    };
    let task = match report.task {
        Task::Transcribe => "transcribed",
        Task::Translate => "translated into English",
    };
    tracing::info!(
        "{}: language {language}; {task} by {}; {heard}{dropped}",
        video.display(),
        report.engine,
    );
}
