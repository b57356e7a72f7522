//! The burn stage: subtitles into a video, as streams (soft) or drawn into the picture (hard).
//! `dubber burn` and `dubber run --burn` both come here.

use std::path::Path;

use crate::media::{self, HardSubtitleStyle, MediaError, SubtitleTrack};
use crate::pipeline::workdir::Workdir;

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
