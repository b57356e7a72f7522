//! The burn stage: subtitles into a video, as streams (soft) or drawn into the picture (hard).
//! `dubber burn` and `dubber run --burn` both come here.
//!
//! Subtitle files go through dubber's one reader first ([`readable_tracks`]): a file in another
//! format (ASS, TTML, SBV) or encoding (windows-1251, UTF-16, ...) is given to ffmpeg as the UTF-8
//! SRT dubber reads from it, so `burn` takes what `prep` takes.

use std::path::{Path, PathBuf};

use crate::media::{self, HardSubtitleStyle, MediaError, SubtitleTrack};
use crate::pipeline::workdir::Workdir;
use crate::subtitles::{self, Format, ReadOptions, SubtitleError};

/// How subtitles go into the video.
#[derive(Debug, Clone)]
pub enum Burn {
    /// Subtitle streams (mov_text in MP4/MOV, SRT in MKV, WebVTT in WebM); no re-encode.
    Soft,
    /// The first track drawn into the picture (the video is re-encoded with libx264).
    Hard(HardSubtitleStyle),
}

impl Burn {
    /// The container the output needs, when the mode dictates one (hard subtitles: MP4).
    pub fn output_extension(&self) -> Option<&'static str> {
        match self {
            Burn::Soft => None,
            Burn::Hard(_) => Some("mp4"),
        }
    }
}

/// The work directory's subtitles: `subs.srt` in `language`, and `subs.orig.srt` (titled
/// "original") when prep translated.
pub fn reviewed_tracks(workdir: &Workdir, language: Option<String>) -> Vec<SubtitleTrack> {
    let mut tracks = vec![SubtitleTrack {
        path: workdir.subs_srt(),
        language,
        title: None,
    }];
    let orig = workdir.subs_orig_srt();
    if orig.exists() {
        tracks.push(SubtitleTrack {
            path: orig,
            language: None,
            title: Some("original".into()),
        });
    }
    tracks
}

/// What can stop a burn.
#[derive(Debug, thiserror::Error)]
pub enum BurnError {
    #[error(transparent)]
    Subtitles(#[from] SubtitleError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `tracks` as ffmpeg can read them: each file is read with dubber's reader (`options` may force
/// an encoding); a UTF-8 SRT or WebVTT is used as it is, anything else is converted to a UTF-8 SRT
/// in `workdir` (`burn/<n>-<stem>.srt`). Unreadable files fail here, naming the file and line.
pub fn readable_tracks(
    workdir: &Workdir,
    tracks: &[SubtitleTrack],
    options: &ReadOptions,
) -> Result<Vec<SubtitleTrack>, BurnError> {
    tracks
        .iter()
        .enumerate()
        .map(|(n, track)| {
            let file = subtitles::read_file_with(&track.path, options)?;
            // ffmpeg picks the format by the extension and reads UTF-8.
            let as_is = matches!(file.format, Format::Srt | Format::Vtt)
                && Format::from_path(&track.path) == Some(file.format)
                && file.encoding == "UTF-8";
            if as_is {
                return Ok(track.clone());
            }
            tracing::info!(
                "{}: read as {:?} in {}; given to ffmpeg as UTF-8 SRT",
                track.path.display(),
                file.format,
                file.encoding
            );
            let stem = track
                .path
                .file_stem()
                .map_or_else(|| "subtitles".into(), |s| s.to_string_lossy().into_owned());
            let path = workdir.burn_subtitles(&format!("{n}-{stem}"));
            let segments: Vec<_> = file.cues.into_iter().map(|c| c.segment).collect();
            let srt = subtitles::write(&segments, Format::Srt);
            crate::fsutil::write_atomic(&path, srt.as_bytes()).map_err(|source| BurnError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(SubtitleTrack {
                path,
                ..track.clone()
            })
        })
        .collect()
}

/// Put `tracks` into `video`, writing `out` (atomically). Hard subtitles draw the first track.
pub fn burn(
    video: &Path,
    tracks: &[SubtitleTrack],
    how: &Burn,
    out: &Path,
) -> Result<(), MediaError> {
    match (how, tracks.first()) {
        (Burn::Soft, _) => media::burn_soft(video, tracks, out),
        (Burn::Hard(style), Some(first)) => media::burn_hard(video, &first.path, out, style),
        (Burn::Hard(_), None) => Err(MediaError::NoStream {
            path: video.to_path_buf(),
            kind: "subtitle file to draw",
        }),
    }
}
