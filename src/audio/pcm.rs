//! Strict checks of 16-bit audio from a speech engine, keeping the samples exactly as sent: the
//! one place that decides whether a provider's body, a cached clip or a part of a split request
//! is usable audio.
//!
//! Contract: [`Pcm::from_wav`] and [`Pcm::from_pcm16`] return at least one frame or say what is
//! wrong (truncated, odd length, empty, not a WAV); they never panic on any input. Streaming WAV
//! writers (OpenAI's `wav`, `espeak-ng --stdout`) leave placeholder sizes in the header; those
//! are accepted, while a header that declares more data than arrived is a truncated body and
//! rejected.
//!
//! Why this is not [`decode`](super::decode()): that one accepts anything a player would play
//! (skipping bad packets, keeping what decoded of a cut-off stream) and returns mono `f32`. A
//! cache must instead refuse a cut-off body, so it is fetched again, and store the samples
//! unchanged (all channels, bit-exact), so a clip read back is the clip that was sent. Errors are
//! plain sentences: callers put them in their own error types.

use std::borrow::Cow;
use std::io::Cursor;
use std::time::Duration;

use super::decode::le_i16;
use super::wav::i16_wav_bytes;

/// Decoded 16-bit samples, interleaved when there is more than one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<i16>,
}

impl Pcm {
    /// A RIFF/WAVE file in any PCM sample format hound reads (8/16/24/32-bit integer, 32-bit
    /// float), converted to 16 bits.
    pub fn from_wav(bytes: &[u8]) -> Result<Pcm, String> {
        non_empty(decode_wav(bytes)?)
    }

    /// Headerless signed 16-bit little-endian mono samples at `sample_rate` Hz.
    pub fn from_pcm16(bytes: &[u8], sample_rate: u32) -> Result<Pcm, String> {
        if sample_rate == 0 {
            return Err("PCM sample rate 0".to_string());
        }
        if !bytes.len().is_multiple_of(2) {
            return Err(format!(
                "{} bytes of 16-bit PCM: odd length, body cut mid-sample",
                bytes.len()
            ));
        }
        non_empty(Pcm {
            sample_rate,
            channels: 1,
            samples: le_i16(bytes).collect(),
        })
    }

    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.frames() as f64 / f64::from(self.sample_rate.max(1)))
    }

    /// A canonical 16-bit PCM WAV file with exact header sizes.
    pub fn to_wav(&self) -> Result<Vec<u8>, String> {
        i16_wav_bytes(
            self.channels,
            self.sample_rate,
            self.samples.len(),
            self.samples.iter().copied(),
        )
        .map_err(|e| e.to_string())
    }

    /// The samples as headerless little-endian 16-bit PCM.
    pub fn to_pcm16(&self) -> Vec<u8> {
        self.samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// Concatenate decoded parts of one utterance (a long text split into several requests).
    pub fn join(parts: Vec<Pcm>) -> Result<Pcm, String> {
        let mut iter = parts.into_iter();
        let mut first = iter.next().ok_or("nothing to join")?;
        for part in iter {
            if part.sample_rate != first.sample_rate || part.channels != first.channels {
                return Err(format!(
                    "parts differ: {} Hz × {} vs {} Hz × {}",
                    first.sample_rate, first.channels, part.sample_rate, part.channels
                ));
            }
            first.samples.extend_from_slice(&part.samples);
        }
        Ok(first)
    }
}

fn non_empty(pcm: Pcm) -> Result<Pcm, String> {
    if pcm.frames() == 0 {
        return Err("no audio samples (duration 0)".to_string());
    }
    Ok(pcm)
}

fn decode_wav(bytes: &[u8]) -> Result<Pcm, String> {
    let fixed = fix_streaming_sizes(bytes)?;
    let mut reader =
        hound::WavReader::new(Cursor::new(&*fixed)).map_err(|e| format!("not a WAV file: {e}"))?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(format!(
            "WAV header has {} channels at {} Hz",
            spec.channels, spec.sample_rate
        ));
    }
    let bad = |e: hound::Error| format!("WAV data unreadable: {e}");
    let samples: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        (hound::SampleFormat::Int, bits @ (8 | 24 | 32)) => reader
            .samples::<i32>()
            .map(|s| s.map(|v| scale_int(v, bits)))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        (f, b) => return Err(format!("unsupported WAV sample format {f:?} {b}-bit")),
    };
    Ok(Pcm {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

fn scale_int(v: i32, bits: u16) -> i16 {
    match bits {
        8 => (v << 8) as i16,
        24 => (v >> 8) as i16,
        32 => (v >> 16) as i16,
        _ => v as i16,
    }
}

/// Sizes that streaming writers put in a header before they know the length.
fn is_placeholder(size: u32) -> bool {
    size == 0 || size >= 0x7FFF_0000
}

/// Replace placeholder RIFF and `data` sizes by the real ones; reject a `data` chunk that declares
/// more bytes than are present (a truncated body).
fn fix_streaming_sizes(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(format!(
            "not a WAV file ({} bytes, no RIFF/WAVE header)",
            bytes.len()
        ));
    }
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]);
        let available = bytes.len() - (pos + 8);
        if id == b"data" {
            let declared = size as usize;
            if declared <= available && size != 0 {
                return Ok(Cow::Borrowed(bytes));
            }
            if !is_placeholder(size) {
                return Err(format!(
                    "truncated WAV: data chunk declares {declared} bytes, {available} present"
                ));
            }
            let mut fixed = bytes.to_vec();
            let data_len = available as u32;
            fixed[pos + 4..pos + 8].copy_from_slice(&data_len.to_le_bytes());
            let riff_len = (bytes.len() - 8) as u32;
            fixed[4..8].copy_from_slice(&riff_len.to_le_bytes());
            return Ok(Cow::Owned(fixed));
        }
        // Chunks are padded to an even length.
        pos = pos + 8 + size as usize + (size as usize & 1);
    }
    Err("WAV file has no data chunk".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize) -> Pcm {
        Pcm {
            sample_rate: 24_000,
            channels: 1,
            samples: (0..n).map(|i| ((i % 100) as i16 - 50) * 300).collect(),
        }
    }

    #[test]
    fn wav_round_trip_and_duration() {
        let wav = tone(24_000).to_wav().unwrap();
        let back = Pcm::from_wav(&wav).unwrap();
        assert_eq!(back, tone(24_000));
        assert_eq!(back.duration(), Duration::from_secs(1));
        let pcm = Pcm::from_pcm16(&tone(480).to_pcm16(), 24_000).unwrap();
        assert_eq!(pcm, tone(480));
    }

    #[test]
    fn streaming_placeholder_sizes_are_accepted() {
        let mut wav = tone(480).to_wav().unwrap();
        wav[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        wav[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Pcm::from_wav(&wav).unwrap().frames(), 480);
        // What `espeak-ng --stdout` writes.
        wav[4..8].copy_from_slice(&0x7FFF_F024u32.to_le_bytes());
        wav[40..44].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
        assert_eq!(Pcm::from_wav(&wav).unwrap().frames(), 480);
    }

    #[test]
    fn truncated_wav_and_odd_pcm_are_rejected() {
        let wav = tone(480).to_wav().unwrap();
        let err = Pcm::from_wav(&wav[..wav.len() - 100]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(Pcm::from_pcm16(&[1, 2, 3], 24_000).is_err());
        assert!(Pcm::from_pcm16(&[], 24_000).is_err());
        assert!(Pcm::from_pcm16(&[1, 2], 0).is_err());
        assert!(Pcm::from_wav(b"{\"error\":1}").is_err());
        let header_only = tone(0).to_wav().unwrap();
        assert!(Pcm::from_wav(&header_only).is_err());
    }

    #[test]
    fn join_concatenates_and_refuses_mismatched_rates() {
        let joined = Pcm::join(vec![tone(100), tone(50)]).unwrap();
        assert_eq!(joined.frames(), 150);
        let mut other = tone(10);
        other.sample_rate = 16_000;
        assert!(Pcm::join(vec![tone(10), other]).is_err());
        assert!(Pcm::join(Vec::new()).is_err());
    }
}
