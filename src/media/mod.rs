//! ffmpeg and ffprobe, run as processes with argument vectors (never through a shell): probe a
//! file, extract its audio, mux a dub track in, put subtitles in, find scene cuts.
//!
//! Every output is written to a temporary file beside the target and renamed into place, so an
//! interrupted run never leaves a half-written video under the final name.

mod burn;
mod probe;

pub use burn::{HardSubtitleStyle, SubtitleTrack, burn_hard, burn_soft, filter_escape};
pub use probe::{Probe, Stream, StreamKind, probe};

use std::path::{Path, PathBuf};

use crate::fsutil::TempFile;
use std::process::Command;

/// Errors of the media stage; each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(
        "{tool} not found on PATH: install it with `sudo apt-get install ffmpeg` (or `brew install ffmpeg`)"
    )]
    Missing { tool: &'static str },
    #[error("{}: not a media file ffprobe can read ({detail})", path.display())]
    NotMedia { path: PathBuf, detail: String },
    #[error("{}: has no {kind} stream", path.display())]
    NoStream { path: PathBuf, kind: &'static str },
    #[error("{}: ffmpeg failed: {detail}", path.display())]
    Ffmpeg { path: PathBuf, detail: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Run a tool, mapping "not found" to [`MediaError::Missing`]; returns its output.
pub(crate) fn run_tool(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
) -> Result<std::process::Output, MediaError> {
    Command::new(tool)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                MediaError::Missing { tool }
            } else {
                MediaError::Io {
                    path: PathBuf::from(tool),
                    source: e,
                }
            }
        })
}

/// The last few lines of ffmpeg's stderr: where it says what went wrong.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// `path` as an ffmpeg or ffprobe argument that is always read as a file: with the `file:`
/// protocol, so that `take:2.mp4` is not taken for a protocol named `take` and `-x.mp4` not for
/// an option. Every path given to those tools goes through here.
pub(crate) fn ff_path(path: &Path) -> std::ffi::OsString {
    let mut arg = std::ffi::OsString::from("file:");
    arg.push(path.as_os_str());
    arg
}

/// Run ffmpeg writing to `outputs` (each a temporary name first), then rename them into place.
/// `build` gets the temporary paths (as [`ff_path`] arguments) and returns ffmpeg's arguments.
pub(crate) fn ffmpeg_to(
    outputs: &[&Path],
    build: impl FnOnce(&[std::ffi::OsString]) -> Vec<std::ffi::OsString>,
) -> Result<(), MediaError> {
    for out in outputs {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| MediaError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
    }
    let temps: Vec<TempFile> = outputs.iter().map(|o| TempFile::beside(o)).collect();
    let mut args: Vec<std::ffi::OsString> =
        ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
            .map(Into::into)
            .to_vec();
    let temp_args: Vec<std::ffi::OsString> = temps.iter().map(|t| ff_path(t.path())).collect();
    args.extend(build(&temp_args));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    // An error drops the temporary files, which removes them.
    let output = run_tool("ffmpeg", &refs)?;
    if !output.status.success() {
        return Err(MediaError::Ffmpeg {
            path: outputs
                .first()
                .map_or_else(PathBuf::new, |p| p.to_path_buf()),
            detail: stderr_tail(&output.stderr),
        });
    }
    for (tmp, out) in temps.into_iter().zip(outputs) {
        tmp.persist(out).map_err(|source| MediaError::Io {
            path: out.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// Extract in one pass the speech track for transcription (16 kHz mono WAV) and, when asked, the
/// original mix for the background (48 kHz stereo WAV).
pub fn extract_audio(
    video: &Path,
    speech: &Path,
    background: Option<&Path>,
) -> Result<(), MediaError> {
    let info = probe(video)?;
    if !info.has_audio() {
        return Err(MediaError::NoStream {
            path: video.to_path_buf(),
            kind: "audio",
        });
    }
    let mut outputs = vec![speech];
    outputs.extend(background);
    ffmpeg_to(&outputs, |tmp| {
        let mut a: Vec<std::ffi::OsString> = vec!["-i".into(), ff_path(video)];
        a.extend(
            [
                "-map",
                "0:a:0",
                "-vn",
                "-ac",
                "1",
                "-ar",
                "16000",
                "-c:a",
                "pcm_s16le",
            ]
            .map(Into::into),
        );
        a.push(tmp[0].clone());
        if tmp.len() > 1 {
            a.extend(
                [
                    "-map",
                    "0:a:0",
                    "-vn",
                    "-ac",
                    "2",
                    "-ar",
                    "48000",
                    "-c:a",
                    "pcm_s16le",
                ]
                .map(Into::into),
            );
            a.push(tmp[1].clone());
        }
        a
    })
}

/// Extract the original mix (the first audio stream) as 16-bit WAV at `rate`, in all its
/// channels and their order, to be mixed under the new voice. RF64 when it outgrows 4 GiB (a
/// long 7.1 film).
pub fn extract_background(video: &Path, out: &Path, rate: u32) -> Result<(), MediaError> {
    if !probe(video)?.has_audio() {
        return Err(MediaError::NoStream {
            path: video.to_path_buf(),
            kind: "audio",
        });
    }
    ffmpeg_to(&[out], |tmp| {
        let mut a: Vec<std::ffi::OsString> = vec!["-i".into(), ff_path(video)];
        a.extend(["-map", "0:a:0", "-vn", "-c:a", "pcm_s16le", "-rf64", "auto"].map(Into::into));
        a.extend(["-ar".into(), rate.to_string().into(), tmp[0].clone()]);
        a
    })
}

/// Settings of [`mux`].
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MuxOptions {
    /// ISO 639-2 language of the dub track (e.g. `eng`), written as stream metadata.
    pub language: Option<String>,
    /// Keep the original audio as a second track.
    pub keep_original_track: bool,
    /// Language of the original audio track, when kept.
    pub original_language: Option<String>,
    /// ffmpeg's name of the dub track's channel layout (the source's: `5.1(side)`), tagged on the
    /// encoded track; `None` for the mono voice track.
    pub channel_layout: Option<String>,
}

/// The encoder's bitrate for `channels` channels: 160k for mono (speech), 192k for stereo, 64k a
/// channel beyond (384k for 5.1).
fn audio_bitrate(channels: u16) -> String {
    match channels {
        0 | 1 => "160k".into(),
        2 => "192k".into(),
        n => format!("{}k", 64 * u32::from(n)),
    }
}

/// Is this an MKV/WebM container (Opus audio, text subtitles) rather than MP4/MOV (AAC, mov_text)?
pub fn is_matroska(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("mkv" | "webm")
    )
}

/// Put `dub` (a WAV) into `video` as its audio, writing `out`: the video stream is copied
/// bit-exact, the dub encoded as AAC (MP4/MOV) or Opus (MKV/WebM).
pub fn mux(video: &Path, dub: &Path, out: &Path, opts: &MuxOptions) -> Result<(), MediaError> {
    let info = probe(video)?;
    if !info.has_video() {
        return Err(MediaError::NoStream {
            path: video.to_path_buf(),
            kind: "video",
        });
    }
    let keep = opts.keep_original_track && info.has_audio();
    let codec = if is_matroska(out) { "libopus" } else { "aac" };
    let layout = opts
        .channel_layout
        .as_deref()
        .and_then(crate::background::Layout::named);
    let tag = layout.as_ref().and_then(|l| l.tag_for(codec == "libopus"));
    let bitrate = audio_bitrate(layout.as_ref().map_or(1, |l| l.channels));
    ffmpeg_to(&[out], |tmp| {
        let mut a: Vec<std::ffi::OsString> =
            vec!["-i".into(), ff_path(video), "-i".into(), ff_path(dub)];
        a.extend(["-map", "0:v:0", "-map", "1:a:0"].map(Into::into));
        if keep {
            a.extend(["-map", "0:a:0"].map(Into::into));
        }
        a.extend(["-c:v", "copy", "-c:a:0", codec, "-b:a:0"].map(Into::into));
        a.push(bitrate.clone().into());
        if let Some(tag) = &tag {
            // Relabels the channels by position (no remix): the track is in the source's order.
            a.extend([
                "-filter:a:0".into(),
                format!("channelmap=channel_layout={tag}").into(),
            ]);
        }
        if codec == "aac" {
            // ffmpeg's default AAC coder (two-loop search) encodes 20 minutes of speech in about a
            // minute here; the fast coder takes a third of that at no audible cost for speech.
            a.extend(["-aac_coder", "fast"].map(Into::into));
        }
        if keep {
            a.extend(["-c:a:1", "copy"].map(Into::into));
            if let Some(lang) = &opts.original_language {
                a.extend(["-metadata:s:a:1".into(), format!("language={lang}").into()]);
            }
        }
        if let Some(lang) = &opts.language {
            a.extend(["-metadata:s:a:0".into(), format!("language={lang}").into()]);
        }
        a.extend(["-disposition:a:0", "default"].map(Into::into));
        a.push(tmp[0].clone());
        a
    })
}

/// Times (ms) where the picture changes by more than `threshold` (0–1; 0.3–0.4 is typical), from
/// ffmpeg's `select=gt(scene,T)`; they feed the timeline's block mode.
pub fn scene_cuts(video: &Path, threshold: f64) -> Result<Vec<u64>, MediaError> {
    let filter = format!("select='gt(scene,{threshold})',showinfo");
    let args: Vec<std::ffi::OsString> = vec![
        "-hide_banner".into(),
        "-nostdin".into(),
        "-i".into(),
        ff_path(video),
        "-map".into(),
        "0:v:0".into(),
        "-vf".into(),
        filter.into(),
        "-f".into(),
        "null".into(),
        "-".into(),
    ];
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let output = run_tool("ffmpeg", &refs)?;
    if !output.status.success() {
        return Err(MediaError::Ffmpeg {
            path: video.to_path_buf(),
            detail: stderr_tail(&output.stderr),
        });
    }
    let text = String::from_utf8_lossy(&output.stderr);
    Ok(text
        .lines()
        .filter(|l| l.contains("Parsed_showinfo"))
        .filter_map(|l| l.split("pts_time:").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .filter_map(crate::segment::secs_to_ms)
        .collect())
}
