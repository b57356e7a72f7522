//! Transcription for prep: the video's speech track (16 kHz mono, extracted by ffmpeg) through a
//! [`Transcriber`], cached in the work directory so that a resumed run does not transcribe again.

use std::path::{Path, PathBuf};

use crate::audio::{self, AudioError};
use crate::media::{self, MediaError};
use crate::pipeline::state::{Fingerprint, State, Step};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::stt::{SttError, TranscribeOptions, Transcriber};
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

/// Transcribe `video` into segments, or return the cached transcript when nothing changed.
pub async fn transcribe_video<T: Transcriber + ?Sized>(
    video: &Path,
    workdir: &Workdir,
    transcriber: &T,
    options: &TranscribeOptions,
) -> Result<Vec<Segment>, TranscribeError> {
    let key = input_key(video, &transcriber.name(), options)?;
    let transcript = workdir.transcript_json();
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    if state.is(Step::Transcript, &key)
        && let Ok(text) = std::fs::read_to_string(&transcript)
        && let Ok(cues) = subtitles::parse(&text, Format::Json)
    {
        tracing::info!("{}: transcript is up to date", video.display());
        return Ok(cues.into_iter().map(|c| c.segment).collect());
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
    let segments = transcriber
        .transcribe(clip.samples, options)
        .await
        .map_err(|source| TranscribeError::Stt {
            video: video.to_path_buf(),
            source,
        })?;
    if segments.iter().all(|s| s.spoken_text().is_empty()) {
        return Err(TranscribeError::NoSpeech {
            video: video.to_path_buf(),
        });
    }
    crate::fsutil::write_atomic(
        &transcript,
        subtitles::write(&segments, Format::Json).as_bytes(),
    )
    .map_err(|source| TranscribeError::Io {
        path: transcript.clone(),
        source,
    })?;
    state.set(Step::Transcript, key);
    state
        .save(&state_path)
        .map_err(|source| TranscribeError::Io {
            path: state_path,
            source,
        })?;
    Ok(segments)
}
