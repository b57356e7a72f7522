//! The one place that decides whether bytes are usable audio: provider bodies before they are
//! cached, cache files before they are trusted, and the parts of a split request before joining.
//!
//! Kept private and small so it can later be replaced by the crate's general `audio::decode`
//! without touching the runner or the cache. Streaming WAV writers (OpenAI's `wav`, `espeak-ng
//! --stdout`) leave placeholder sizes in the header; those are accepted, while a header that
//! declares more data than arrived is a truncated body and rejected.

use std::io::Cursor;
use std::time::Duration;

use super::AudioFormat;

/// Decoded 16-bit samples, interleaved when there is more than one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<i16>,
}

impl Pcm {
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.frames() as f64 / f64::from(self.sample_rate.max(1)))
    }

    /// A canonical 16-bit PCM WAV file with exact header sizes.
    pub fn to_wav(&self) -> Result<Vec<u8>, String> {
        let spec = hound::WavSpec {
            channels: self.channels,
            sample_rate: self.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::with_capacity(44 + self.samples.len() * 2));
        let mut writer = hound::WavWriter::new(&mut out, spec).map_err(|e| e.to_string())?;
        {
            let mut w16 = writer.get_i16_writer(self.samples.len() as u32);
            for &s in &self.samples {
                w16.write_sample(s);
            }
            w16.flush().map_err(|e| e.to_string())?;
        }
        writer.finalize().map_err(|e| e.to_string())?;
        Ok(out.into_inner())
    }
}

/// Decode `bytes` in `format`; an error says what is wrong (truncated, empty, not audio).
pub(crate) fn decode(bytes: &[u8], format: AudioFormat) -> Result<Pcm, String> {
    let pcm = match format {
        AudioFormat::Pcm16 { sample_rate } => decode_pcm16(bytes, sample_rate)?,
        AudioFormat::Wav => decode_wav(bytes)?,
    };
    if pcm.frames() == 0 {
        return Err("no audio samples (duration 0)".to_string());
    }
    Ok(pcm)
}

fn decode_pcm16(bytes: &[u8], sample_rate: u32) -> Result<Pcm, String> {
    if sample_rate == 0 {
        return Err("PCM sample rate 0".to_string());
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(format!(
            "{} bytes of 16-bit PCM: odd length, body cut mid-sample",
            bytes.len()
        ));
    }
    let samples = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    Ok(Pcm {
        sample_rate,
        channels: 1,
        samples,
    })
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
fn fix_streaming_sizes(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
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
                return Ok(std::borrow::Cow::Borrowed(bytes));
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
            return Ok(std::borrow::Cow::Owned(fixed));
        }
        // Chunks are padded to an even length.
        pos = pos + 8 + size as usize + (size as usize & 1);
    }
    Err("WAV file has no data chunk".to_string())
}

/// Concatenate decoded parts of one utterance (a long text split into several requests).
pub(crate) fn join(parts: Vec<Pcm>) -> Result<Pcm, String> {
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
        let back = decode(&wav, AudioFormat::Wav).unwrap();
        assert_eq!(back, tone(24_000));
        assert_eq!(back.duration(), Duration::from_secs(1));
    }

    #[test]
    fn streaming_placeholder_sizes_are_accepted() {
        let mut wav = tone(480).to_wav().unwrap();
        wav[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        wav[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&wav, AudioFormat::Wav).unwrap().frames(), 480);
        // What `espeak-ng --stdout` writes.
        wav[4..8].copy_from_slice(&0x7FFF_F024u32.to_le_bytes());
        wav[40..44].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
        assert_eq!(decode(&wav, AudioFormat::Wav).unwrap().frames(), 480);
    }

    #[test]
    fn truncated_wav_and_odd_pcm_are_rejected() {
        let wav = tone(480).to_wav().unwrap();
        let err = decode(&wav[..wav.len() - 100], AudioFormat::Wav).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(
            decode(
                &[1, 2, 3],
                AudioFormat::Pcm16 {
                    sample_rate: 24_000
                }
            )
            .is_err()
        );
        assert!(
            decode(
                &[],
                AudioFormat::Pcm16 {
                    sample_rate: 24_000
                }
            )
            .is_err()
        );
        assert!(decode(b"{\"error\":1}", AudioFormat::Wav).is_err());
        let header_only = tone(0).to_wav().unwrap();
        assert!(decode(&header_only, AudioFormat::Wav).is_err());
    }

    #[test]
    fn join_concatenates_and_refuses_mismatched_rates() {
        let joined = join(vec![tone(100), tone(50)]).unwrap();
        assert_eq!(joined.frames(), 150);
        let mut other = tone(10);
        other.sample_rate = 16_000;
        assert!(join(vec![tone(10), other]).is_err());
    }
}
