//! ffprobe's JSON, read into typed values.

use std::path::Path;

use serde::Deserialize;

use super::{MediaError, run_tool, stderr_tail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Video,
    Audio,
    Subtitle,
    Other,
}

/// One stream of a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub index: usize,
    pub kind: StreamKind,
    pub codec: String,
    /// Frames per second (video).
    pub frame_rate: Option<f64>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    /// ffmpeg's name of the channel layout (`stereo`, `5.1(side)`), when it knows it.
    pub channel_layout: Option<String>,
    pub language: Option<String>,
    pub duration_secs: Option<f64>,
}

/// What ffprobe says about a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The container's duration in seconds.
    pub duration_secs: f64,
    pub format_name: String,
    pub streams: Vec<Stream>,
}

impl Probe {
    pub fn has_audio(&self) -> bool {
        self.streams.iter().any(|s| s.kind == StreamKind::Audio)
    }
    /// The first audio stream (the one extracted and replaced).
    pub fn audio(&self) -> Option<&Stream> {
        self.streams.iter().find(|s| s.kind == StreamKind::Audio)
    }
    pub fn has_video(&self) -> bool {
        self.video().is_some()
    }
    /// The first video stream that is not a cover picture.
    pub fn video(&self) -> Option<&Stream> {
        self.streams
            .iter()
            .find(|s| s.kind == StreamKind::Video && s.codec != "mjpeg" && s.codec != "png")
    }
    /// How long the dub track must be: the video stream's duration where known, else the file's.
    pub fn target_duration_secs(&self) -> f64 {
        self.video()
            .and_then(|v| v.duration_secs)
            .unwrap_or(self.duration_secs)
    }
}

#[derive(Deserialize)]
struct RawProbe {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    duration: Option<String>,
    format_name: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    index: usize,
    codec_type: Option<String>,
    codec_name: Option<String>,
    avg_frame_rate: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u32>,
    channel_layout: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

/// `"30000/1001"` → 29.97; `"0/0"` → None.
fn parse_rate(r: &str) -> Option<f64> {
    let (n, d) = r.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0 && n > 0.0).then(|| n / d)
}

/// Probe a media file.
pub fn probe(path: &Path) -> Result<Probe, MediaError> {
    if !path.exists() {
        return Err(MediaError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let file = super::ff_path(path);
    let args = [
        "-v".as_ref(),
        "error".as_ref(),
        "-print_format".as_ref(),
        "json".as_ref(),
        "-show_format".as_ref(),
        "-show_streams".as_ref(),
        file.as_os_str(),
    ];
    let output = run_tool("ffprobe", &args)?;
    let not_media = |detail: String| MediaError::NotMedia {
        path: path.to_path_buf(),
        detail,
    };
    if !output.status.success() {
        return Err(not_media(stderr_tail(&output.stderr)));
    }
    let raw: RawProbe = serde_json::from_slice(&output.stdout)
        .map_err(|e| not_media(format!("unreadable ffprobe output: {e}")))?;
    let format = raw
        .format
        .ok_or_else(|| not_media("no container format".into()))?;
    let duration_secs = format
        .duration
        .as_deref()
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or_else(|| not_media("no duration".into()))?;
    let streams = raw
        .streams
        .into_iter()
        .map(|s| Stream {
            index: s.index,
            kind: match s.codec_type.as_deref() {
                Some("video") => StreamKind::Video,
                Some("audio") => StreamKind::Audio,
                Some("subtitle") => StreamKind::Subtitle,
                _ => StreamKind::Other,
            },
            codec: s.codec_name.unwrap_or_default(),
            frame_rate: s.avg_frame_rate.as_deref().and_then(parse_rate),
            sample_rate: s.sample_rate.and_then(|r| r.parse().ok()),
            channels: s.channels,
            channel_layout: s.channel_layout.filter(|l| !l.is_empty() && l != "unknown"),
            language: s.tags.get("language").cloned(),
            duration_secs: s.duration.and_then(|d| d.parse().ok()),
        })
        .collect();
    Ok(Probe {
        duration_secs,
        format_name: format.format_name.unwrap_or_default(),
        streams,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates() {
        assert_eq!(parse_rate("25/1"), Some(25.0));
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 0.01);
        assert_eq!(parse_rate("0/0"), None);
    }
}
