//! Subtitles into a video: soft (a subtitle stream, no re-encode) or hard (drawn into the
//! pixels with libass, re-encoded with libx264).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{MediaError, ffmpeg_to, is_matroska, probe};

/// A subtitle file to add, with its language (ISO 639-2, e.g. `eng`) and an optional title.
#[derive(Debug, Clone)]
pub struct SubtitleTrack {
    pub path: PathBuf,
    pub language: Option<String>,
    pub title: Option<String>,
}

/// Add subtitle streams to `video` without re-encoding: `mov_text` in MP4/MOV, SRT in MKV,
/// WebVTT in WebM. Several tracks may be added at once (original + translated).
pub fn burn_soft(video: &Path, tracks: &[SubtitleTrack], out: &Path) -> Result<(), MediaError> {
    probe(video)?;
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let codec = match ext.as_deref() {
        Some("webm") => "webvtt",
        _ if is_matroska(out) => "srt",
        _ => "mov_text",
    };
    ffmpeg_to(&[out], |tmp| {
        let mut a: Vec<OsString> = vec!["-i".into(), super::ff_path(video)];
        for t in tracks {
            a.extend(["-i".into(), super::ff_path(&t.path)]);
        }
        a.extend(["-map", "0:v", "-map", "0:a?"].map(Into::into));
        for i in 0..tracks.len() {
            a.extend(["-map".into(), format!("{}:0", i + 1).into()]);
        }
        a.extend(["-c:v", "copy", "-c:a", "copy", "-c:s", codec].map(Into::into));
        for (i, t) in tracks.iter().enumerate() {
            if let Some(lang) = &t.language {
                a.extend([
                    format!("-metadata:s:s:{i}").into(),
                    format!("language={lang}").into(),
                ]);
            }
            if let Some(title) = &t.title {
                a.extend([
                    format!("-metadata:s:s:{i}").into(),
                    format!("title={title}").into(),
                ]);
            }
        }
        a.push(tmp[0].clone());
        a
    })
}

/// Look of hard subtitles, and the x264 settings of the re-encode.
#[derive(Debug, Clone)]
pub struct HardSubtitleStyle {
    pub font_size: u32,
    pub outline: u32,
    /// Distance from the bottom edge, in pixels of a 288-line script (libass's default scale).
    pub margin_v: u32,
    /// Draw at the top of the picture instead of the bottom.
    pub top: bool,
    pub crf: u8,
    pub preset: String,
}

impl Default for HardSubtitleStyle {
    fn default() -> Self {
        Self {
            font_size: 24,
            outline: 2,
            margin_v: 20,
            top: false,
            crf: 20,
            preset: "medium".into(),
        }
    }
}

/// Escape a value for an ffmpeg filter option, then for the filter graph: the two levels of
/// ffmpeg's filter syntax. Any file name works, `it's: a, test.srt` included.
pub fn filter_escape(value: &str) -> String {
    let mut level1 = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if matches!(c, '\\' | '\'' | ':') {
            level1.push('\\');
        }
        level1.push(c);
    }
    let mut level2 = String::with_capacity(level1.len() + 8);
    for c in level1.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') {
            level2.push('\\');
        }
        level2.push(c);
    }
    level2
}

/// Draw `subtitles` into the picture, re-encoding the video with libx264; audio is copied.
pub fn burn_hard(
    video: &Path,
    subtitles: &Path,
    out: &Path,
    style: &HardSubtitleStyle,
) -> Result<(), MediaError> {
    probe(video)?;
    let subs = std::path::absolute(subtitles).map_err(|source| MediaError::Io {
        path: subtitles.to_path_buf(),
        source,
    })?;
    let alignment = if style.top { 6 } else { 2 };
    let force_style = format!(
        "FontSize={},Outline={},MarginV={},Alignment={alignment}",
        style.font_size, style.outline, style.margin_v
    );
    let filter = format!(
        "subtitles=filename={}:force_style={}",
        filter_escape(&subs.to_string_lossy()),
        filter_escape(&force_style)
    );
    ffmpeg_to(&[out], |tmp| {
        let mut a: Vec<OsString> = vec![
            "-i".into(),
            super::ff_path(video),
            "-vf".into(),
            filter.into(),
        ];
        a.extend(["-map", "0:v:0", "-map", "0:a?", "-c:v", "libx264"].map(Into::into));
        a.extend([
            "-crf".into(),
            style.crf.to_string().into(),
            "-preset".into(),
            style.preset.clone().into(),
        ]);
        a.extend(["-pix_fmt", "yuv420p", "-c:a", "copy"].map(Into::into));
        a.push(tmp[0].clone());
        a
    })
}
