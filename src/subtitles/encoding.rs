//! Subtitle bytes to text, in whatever encoding they were saved.
//!
//! Contract of [`decode`]:
//! 1. an encoding the caller forces (any WHATWG label, see [`encoding_for_label`]) is used as is
//!    (a byte-order mark of that encoding is skipped);
//! 2. else a byte-order mark decides: UTF-8, UTF-16 LE/BE, UTF-32 LE/BE;
//! 3. else UTF-16 without a mark when zero bytes fall on one side of most byte pairs (text that is
//!    mostly ASCII, as subtitles' timing lines are);
//! 4. else valid UTF-8 is UTF-8;
//! 5. else the legacy encoding is guessed by `chardetng` (Firefox's detector) and decoded by
//!    `encoding_rs`.
//!
//! Bytes that are not valid in the chosen encoding are an error naming the line (never a silent
//! U+FFFD). [`Decoded::how`] says how the encoding was chosen, so that a caller can tell the user
//! whenever it was not plain UTF-8.

use std::fmt;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// How the encoding of a text was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// The caller named it.
    Forced,
    /// The file starts with a byte-order mark.
    Bom,
    /// The bytes are valid UTF-8.
    Utf8,
    /// UTF-16 without a byte-order mark, seen from where the zero bytes are.
    ZeroBytes,
    /// Guessed by the legacy-encoding detector.
    Guessed,
}

/// Text decoded from bytes, with the encoding it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The encoding's WHATWG name (`UTF-8`, `windows-1251`, `UTF-32LE`, ...).
    pub encoding: &'static str,
    pub how: Detection,
}

impl Decoded {
    /// True when the text was read as anything other than UTF-8 found by its validity or mark:
    /// the user should hear which encoding was assumed.
    pub fn worth_telling(&self) -> bool {
        self.encoding != "UTF-8" || self.how == Detection::Forced
    }
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Detection::Forced => "as asked",
            Detection::Bom => "from its byte-order mark",
            Detection::Utf8 => "valid UTF-8",
            Detection::ZeroBytes => "UTF-16 without a byte-order mark, from its zero bytes",
            Detection::Guessed => "guessed: no byte-order mark and not UTF-8",
        })
    }
}

/// Bytes that are not valid in the encoding they were read in, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub line: usize,
    pub encoding: &'static str,
}

/// A WHATWG label that names no encoding dubber can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown encoding `{label}`; use a WHATWG encoding label such as utf-8, utf-16le, windows-1252, windows-1251, koi8-r, iso-8859-2, shift_jis, euc-kr, gbk or big5"
)]
pub struct UnknownEncoding {
    pub label: String,
}

/// The encoding a WHATWG label names (`windows-1251`, `cp1251`, `koi8-r`, `gbk`, `shift_jis`,
/// `latin1`, ..., any case), or an error listing some that exist.
pub fn encoding_for_label(label: &str) -> Result<&'static Encoding, UnknownEncoding> {
    Encoding::for_label(label.trim().as_bytes())
        .filter(|e| *e != encoding_rs::REPLACEMENT)
        .ok_or_else(|| UnknownEncoding {
            label: label.to_string(),
        })
}

/// Decode subtitle bytes (see the module docs for the order of choices).
pub fn decode(bytes: &[u8], forced: Option<&'static Encoding>) -> Result<Decoded, DecodeError> {
    if let Some(encoding) = forced {
        let text = decode_strict(encoding, strip_own_bom(encoding, bytes))?;
        return Ok(found(text, encoding.name(), Detection::Forced));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE, 0, 0]) {
        return Ok(found(
            decode_utf32(rest, false)?,
            "UTF-32LE",
            Detection::Bom,
        ));
    }
    if let Some(rest) = bytes.strip_prefix(&[0, 0, 0xFE, 0xFF]) {
        return Ok(found(decode_utf32(rest, true)?, "UTF-32BE", Detection::Bom));
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let text = decode_strict(encoding, &bytes[bom_len..])?;
        return Ok(found(text, encoding.name(), Detection::Bom));
    }
    // Before UTF-8: ASCII in UTF-16 is valid UTF-8 too (full of NULs, which no text has).
    if let Some(encoding) = utf16_from_zero_bytes(bytes) {
        let text = decode_strict(encoding, bytes)?;
        return Ok(found(text, encoding.name(), Detection::ZeroBytes));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(found(text.to_string(), "UTF-8", Detection::Utf8));
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, Utf8Detection::Allow);
    let text = decode_strict(encoding, bytes)?;
    Ok(found(text, encoding.name(), Detection::Guessed))
}

fn found(text: String, encoding: &'static str, how: Detection) -> Decoded {
    Decoded {
        text,
        encoding,
        how,
    }
}

fn strip_own_bom<'a>(encoding: &'static Encoding, bytes: &'a [u8]) -> &'a [u8] {
    match Encoding::for_bom(bytes) {
        Some((bom_encoding, len)) if bom_encoding == encoding => &bytes[len..],
        _ => bytes,
    }
}

/// UTF-16 LE or BE when, over the first pairs of bytes, most pairs hold a zero byte on the same
/// side and almost none on the other (ASCII in UTF-16; legacy encodings have no zero bytes).
fn utf16_from_zero_bytes(bytes: &[u8]) -> Option<&'static Encoding> {
    let pairs: Vec<&[u8]> = bytes.chunks_exact(2).take(4096).collect();
    if pairs.len() < 2 {
        return None;
    }
    let high_zero = pairs.iter().filter(|p| p[1] == 0 && p[0] != 0).count();
    let low_zero = pairs.iter().filter(|p| p[0] == 0 && p[1] != 0).count();
    let n = pairs.len();
    if high_zero * 10 >= n * 3 && low_zero * 20 <= n {
        Some(UTF_16LE)
    } else if low_zero * 10 >= n * 3 && high_zero * 20 <= n {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn line_of(decoded: &str) -> usize {
    decoded.bytes().filter(|&b| b == b'\n').count() + 1
}

/// Decode all of `bytes` in `encoding`, failing at the first malformed sequence.
fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, DecodeError> {
    if encoding == UTF_8 {
        return std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|e| DecodeError {
                line: line_of(&String::from_utf8_lossy(&bytes[..e.valid_up_to()])),
                encoding: UTF_8.name(),
            });
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3))
        .max(16);
    let mut text = String::with_capacity(capacity);
    let mut src = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(src, &mut text, true);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => return Ok(text),
            DecoderResult::OutputFull => text.reserve(capacity.max(src.len() * 3)),
            DecoderResult::Malformed(_, _) => {
                return Err(DecodeError {
                    line: line_of(&text),
                    encoding: encoding.name(),
                });
            }
        }
    }
}

/// UTF-32 (which `encoding_rs`, following the web, does not read), after its byte-order mark.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> Result<String, DecodeError> {
    let name = if big_endian { "UTF-32BE" } else { "UTF-32LE" };
    let mut text = String::with_capacity(bytes.len() / 4);
    for unit in bytes.chunks(4) {
        let c = <[u8; 4]>::try_from(unit)
            .ok()
            .map(|b| match big_endian {
                true => u32::from_be_bytes(b),
                false => u32::from_le_bytes(b),
            })
            .and_then(char::from_u32);
        match c {
            Some(c) => text.push(c),
            None => {
                return Err(DecodeError {
                    line: line_of(&text),
                    encoding: name,
                });
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf32_with_a_mark_and_invalid_units() {
        let mut bytes = vec![0xFF, 0xFE, 0, 0];
        for c in "a\né".chars() {
            bytes.extend((c as u32).to_le_bytes());
        }
        let d = decode(&bytes, None).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("a\né", "UTF-32LE"));
        bytes.extend([0, 0, 0x11, 0]); // beyond U+10FFFF
        assert_eq!(decode(&bytes, None).unwrap_err().line, 2);
    }

    #[test]
    fn forced_encoding_fails_on_the_line_of_a_bad_byte() {
        let err = decode(b"1\n2\n\xff\n", Some(UTF_8)).unwrap_err();
        assert_eq!(err.line, 3);
        let sjis = encoding_for_label("shift_jis").unwrap();
        let err = decode(b"ok\nok\nok\n\x81\x20\n", Some(sjis)).unwrap_err();
        assert_eq!((err.line, err.encoding), (4, "Shift_JIS"));
    }

    #[test]
    fn labels() {
        assert_eq!(encoding_for_label("CP1251").unwrap().name(), "windows-1251");
        let err = encoding_for_label("klingon").unwrap_err().to_string();
        assert!(err.contains("klingon") && err.contains("koi8-r"), "{err}");
        assert!(encoding_for_label("iso-2022-kr").is_err());
    }
}
