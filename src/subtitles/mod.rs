//! Subtitles in and out: SRT, WebVTT, SBV, ASS/SSA, TTML/DFXP and JSON segments read, in any
//! encoding ([`encoding`]) and told by content as well as name ([`detect`]); SRT, WebVTT and JSON
//! written, always UTF-8.
//!
//! Readers take what real files contain and report what they cannot read as `file:line: what was
//! expected`; they never panic. After reading, [`normalize`] makes the cue list usable for timing
//! (sorted, no overlaps, no empty or zero-length cues, one speaker turn each, every segment's
//! [`Segment::speaker`] read) and says what it changed, so that nothing is fixed silently.
//!
//! What a cue shows is kept as it is, sound descriptions and speaker labels included; a cue that
//! shows something but says nothing (`[MUSIC PLAYING]`) is kept and dubbed as silence. Writers
//! keep each segment's speaker (see [`Segment::speaker`]), so that a written file read back and
//! normalised gives the same segments.

mod ass;
pub mod detect;
pub mod encoding;
mod json;
mod normalize;
mod sbv;
mod srt;
pub mod time;
mod ttml;
mod vtt;

use std::path::{Path, PathBuf};

pub use encoding::{Decoded, Detection, UnknownEncoding, encoding_for_label};
pub use normalize::{Fix, FixKind, normalize};

use crate::segment::Segment;

/// A cue as read, with the 1-based line of its timing line (for JSON: its index + 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub line: usize,
    pub segment: Segment,
}

/// A parse failure inside a text, before it is tied to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl ParseError {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// Errors reading or writing a subtitle file; each names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum SubtitleError {
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}:{line}: bytes that are not valid {encoding} text; name the file's encoding with --subtitles-encoding, or save it as UTF-8",
        path.display()
    )]
    Encoding {
        path: PathBuf,
        line: usize,
        encoding: &'static str,
    },
    #[error("{}: {source}", path.display())]
    UnknownEncoding {
        path: PathBuf,
        source: UnknownEncoding,
    },
    #[error("{}: dubber writes subtitles as .srt, .vtt or .json", path.display())]
    UnknownFormat { path: PathBuf },
}

/// The subtitle formats dubber reads; it writes SRT, WebVTT and JSON ([`Format::writable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Srt,
    Vtt,
    Json,
    /// YouTube's SubViewer (`.sbv`).
    Sbv,
    /// Advanced SubStation Alpha and SubStation Alpha (`.ass`, `.ssa`).
    Ass,
    /// TTML and DFXP, IMSC and Apple iTT (`.ttml`, `.dfxp`, `.itt`, `.xml`).
    Ttml,
}

impl Format {
    /// From a file extension (`srt`, `vtt`, `json`, `sbv`, `ass`, `ssa`, `ttml`, `dfxp`, `itt`, `xml`,
    /// any case).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "srt" => Some(Format::Srt),
            "vtt" | "webvtt" => Some(Format::Vtt),
            "json" => Some(Format::Json),
            "sbv" => Some(Format::Sbv),
            "ass" | "ssa" => Some(Format::Ass),
            "ttml" | "dfxp" | "itt" | "xml" => Some(Format::Ttml),
            _ => None,
        }
    }

    /// True for the formats dubber writes (SRT, WebVTT, JSON); the others it only reads.
    pub fn writable(self) -> bool {
        matches!(self, Format::Srt | Format::Vtt | Format::Json)
    }
}

/// Parse subtitle text of a known format. What the reader skipped is logged; [`read_file_with`]
/// returns it as notes.
pub fn parse(content: &str, format: Format) -> Result<Vec<Cue>, ParseError> {
    let (cues, notes) = parse_noting(content, format)?;
    for note in notes {
        tracing::warn!("{note}");
    }
    Ok(cues)
}

/// Parse, with notes on what was skipped ([`FixKind::DroppedUntimed`]).
fn parse_noting(content: &str, format: Format) -> Result<(Vec<Cue>, Vec<Fix>), ParseError> {
    let cues = match format {
        Format::Vtt => return vtt::parse(content),
        Format::Srt => srt::parse(content),
        Format::Json => json::parse(content),
        Format::Sbv => sbv::parse(content),
        Format::Ass => ass::parse(content),
        Format::Ttml => return ttml::parse(content),
    }?;
    Ok((cues, Vec::new()))
}

/// Write segments in a format. Formats dubber only reads ([`Format::writable`] is false) are
/// written as SRT; [`write_file`] refuses them.
pub fn write(segments: &[Segment], format: Format) -> String {
    match format {
        Format::Srt | Format::Sbv | Format::Ass | Format::Ttml => srt::write(segments),
        Format::Vtt => vtt::write(segments),
        Format::Json => json::write(segments),
    }
}

/// How to read a subtitle file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The file's encoding as a WHATWG label (`windows-1251`, `koi8-r`, `gbk`, `shift_jis`, ...),
    /// overriding detection; `None` detects it ([`encoding::decode`]).
    pub encoding: Option<String>,
}

/// A subtitle file as read: its cues, the format and encoding they were read in, and notes on
/// what the reader assumed or skipped (to show the user with [`normalize`]'s fixes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtitleFile {
    pub cues: Vec<Cue>,
    pub format: Format,
    /// The encoding's WHATWG name (`UTF-8`, `windows-1251`, ...).
    pub encoding: &'static str,
    pub notes: Vec<Fix>,
}

/// Read and parse a subtitle file with encoding and format detected; see [`read_file_with`].
/// Its notes are logged as warnings.
pub fn read_file(path: &Path) -> Result<Vec<Cue>, SubtitleError> {
    let file = read_file_with(path, &ReadOptions::default())?;
    for note in &file.notes {
        tracing::warn!("{}:{note}", path.display());
    }
    Ok(file.cues)
}

/// Read and parse a subtitle file: the encoding forced by `options` or detected
/// ([`encoding::decode`]), the format from the extension and the content ([`detect::detect`]).
/// An encoding other than UTF-8 is logged and noted ([`FixKind::AssumedEncoding`]), and so is a
/// block the reader skipped ([`FixKind::DroppedUntimed`]): the caller shows the notes.
pub fn read_file_with(path: &Path, options: &ReadOptions) -> Result<SubtitleFile, SubtitleError> {
    let forced =
        match &options.encoding {
            Some(label) => Some(encoding_for_label(label).map_err(|source| {
                SubtitleError::UnknownEncoding {
                    path: path.to_path_buf(),
                    source,
                }
            })?),
            None => None,
        };
    let bytes = std::fs::read(path).map_err(|source| SubtitleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let decoded = encoding::decode(&bytes, forced).map_err(|e| SubtitleError::Encoding {
        path: path.to_path_buf(),
        line: e.line,
        encoding: e.encoding,
    })?;
    let mut notes = Vec::new();
    if decoded.worth_telling() {
        tracing::info!(
            "{}: read as {} ({})",
            path.display(),
            decoded.encoding,
            decoded.how
        );
        notes.push(Fix {
            line: 1,
            kind: FixKind::AssumedEncoding {
                encoding: decoded.encoding,
                how: decoded.how,
            },
        });
    }
    let (format, recognised) = detect::detect(path, &decoded.text);
    let (cues, skipped) =
        parse_noting(&decoded.text, format).map_err(|e| SubtitleError::Parse {
            path: path.to_path_buf(),
            line: e.line,
            message: match recognised {
                true => e.message,
                false => format!(
                    "{}; not subtitles dubber can tell (it reads {})",
                    e.message,
                    detect::READABLE
                ),
            },
        })?;
    notes.extend(skipped);
    Ok(SubtitleFile {
        cues,
        format,
        encoding: decoded.encoding,
        notes,
    })
}

/// Write a subtitle file atomically (temporary file, then rename), format from the extension.
pub fn write_file(path: &Path, segments: &[Segment]) -> Result<(), SubtitleError> {
    let format = Format::from_path(path)
        .filter(|f| f.writable())
        .ok_or_else(|| SubtitleError::UnknownFormat { path: path.into() })?;
    crate::fsutil::write_atomic(path, write(segments, format).as_bytes()).map_err(|source| {
        SubtitleError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}
