//! The crate's one 16-bit PCM WAV writer, for whole clips: to a file ([`write_wav`]), to bytes in
//! memory ([`wav_bytes`], what local voices hand to the synthesis layer and what speech-to-text
//! uploads), and headerless ([`pcm16_bytes`]); plus [`read_wav`].
//!
//! Kept apart from [`decode()`] because writing is exact and simple (hound, canonical
//! headers) while reading must survive anything. The long track is written by streaming in
//! [`crate::timeline::render`], never through these; it shares [`to_i16`].

use std::io::{Cursor, Seek, Write};
use std::path::Path;

use super::{AudioError, Clip, decode};

/// Writes `clip` as a mono 16-bit WAV file.
pub fn write_wav(path: &Path, clip: &Clip) -> Result<(), AudioError> {
    let wav_err = |source| AudioError::Wav {
        path: path.to_path_buf(),
        source,
    };
    if clip.rate == 0 {
        return Err(AudioError::InvalidRate { rate: 0 });
    }
    fits_a_wav(1, clip.rate, clip.samples.len()).map_err(wav_err)?;
    let writer = hound::WavWriter::create(path, spec(1, clip.rate)).map_err(wav_err)?;
    write_samples(
        writer,
        clip.samples.len(),
        clip.samples.iter().map(|&s| to_i16(s)),
    )
    .map_err(wav_err)
}

/// Encodes mono `samples` (−1..1, clipped) at `sample_rate` as a 16-bit PCM WAV file in memory.
pub fn wav_bytes(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>, hound::Error> {
    i16_wav_bytes(
        1,
        sample_rate,
        samples.len(),
        samples.iter().map(|&s| to_i16(s)),
    )
}

/// Mono samples as raw little-endian 16-bit PCM (no header).
pub fn pcm16_bytes(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| to_i16(s).to_le_bytes())
        .collect()
}

/// `len` 16-bit samples (interleaved when `channels` > 1) as a WAV file in memory, with exact
/// header sizes.
pub(crate) fn i16_wav_bytes(
    channels: u16,
    sample_rate: u32,
    len: usize,
    samples: impl Iterator<Item = i16>,
) -> Result<Vec<u8>, hound::Error> {
    fits_a_wav(channels, sample_rate, len)?;
    let mut cursor = Cursor::new(Vec::with_capacity(44 + len * 2));
    let writer = hound::WavWriter::new(&mut cursor, spec(channels, sample_rate))?;
    write_samples(writer, len, samples)?;
    Ok(cursor.into_inner())
}

/// Reads any audio file [`decode()`] understands, as mono. A 16-bit mono WAV (what ffmpeg writes
/// for transcription, what the track is) is streamed straight into samples, so a 3-hour file costs
/// one copy of its samples, not the file's bytes as well.
pub fn read_wav(path: &Path) -> Result<Clip, AudioError> {
    if let Some(clip) = read_pcm16_mono(path)? {
        return Ok(clip);
    }
    let bytes = std::fs::read(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let hint = path.extension().and_then(|e| e.to_str());
    decode(&bytes, hint)
}

/// A 16-bit mono WAV read sample by sample; `None` when the file is another kind of audio.
fn read_pcm16_mono(path: &Path) -> Result<Option<Clip>, AudioError> {
    let wav_err = |source| AudioError::Wav {
        path: path.to_path_buf(),
        source,
    };
    let Ok(reader) = hound::WavReader::open(path) else {
        return Ok(None);
    };
    let spec = reader.spec();
    if spec.channels != 1
        || spec.bits_per_sample != 16
        || spec.sample_format != hound::SampleFormat::Int
    {
        return Ok(None);
    }
    let scale = 1.0 / 32768.0;
    let samples = reader
        .into_samples::<i16>()
        .map(|s| s.map(|s| f32::from(s) * scale))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(wav_err)?;
    if samples.is_empty() {
        return Err(AudioError::NoSamples {
            what: path.display().to_string(),
        });
    }
    Ok(Some(Clip::new(spec.sample_rate, samples)))
}

/// Float sample to 16-bit PCM, clamped (a sum of sounds may exceed full scale).
pub(crate) fn to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

fn spec(channels: u16, sample_rate: u32) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// The most bytes of samples a canonical WAV holds: its RIFF size (the data and 36 bytes of
/// header) is a u32.
const MAX_WAV_DATA: u64 = u32::MAX as u64 - 36;

/// `len` 16-bit samples fit in one WAV file, or an error that says how much audio that was
/// (hound would overflow its counters, a panic, past 4 GiB).
fn fits_a_wav(channels: u16, sample_rate: u32, len: usize) -> Result<(), hound::Error> {
    let bytes = (len as u64).saturating_mul(2);
    if bytes <= MAX_WAV_DATA {
        return Ok(());
    }
    let frames = len as f64 / f64::from(channels.max(1));
    Err(hound::Error::IoError(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "{:.1} hours of audio ({bytes} bytes of samples) is more than a WAV file holds \
             ({MAX_WAV_DATA} bytes)",
            frames / f64::from(sample_rate.max(1)) / 3600.0
        ),
    )))
}

fn write_samples<W: Write + Seek>(
    mut writer: hound::WavWriter<W>,
    len: usize,
    samples: impl Iterator<Item = i16>,
) -> Result<(), hound::Error> {
    let mut w16 = writer.get_i16_writer(len as u32);
    for s in samples {
        w16.write_sample(s);
    }
    w16.flush()?;
    writer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trips_through_hound() {
        let samples = [0.0, 0.5, -0.5, 1.5, -2.0];
        let bytes = wav_bytes(&samples, 22_050).unwrap();
        assert_eq!(bytes.len(), 44 + 10);
        let reader = hound::WavReader::new(Cursor::new(bytes)).unwrap();
        assert_eq!(reader.spec().sample_rate, 22_050);
        assert_eq!(reader.spec().channels, 1);
        let back: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
        assert_eq!(back, vec![0, 16384, -16384, 32767, -32767]);
        assert_eq!(pcm16_bytes(&[0.5]), 16384i16.to_le_bytes().to_vec());
    }

    #[test]
    fn audio_past_what_a_wav_holds_is_an_error_not_a_panic() {
        // 2^31 samples: 4 GiB of data, never assembled: the size is refused first.
        let err = i16_wav_bytes(1, 24_000, 1 << 31, std::iter::empty()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("24.9 hours of audio"), "{message}");
        assert!(message.contains("more than a WAV file holds"), "{message}");
        let largest = usize::try_from(MAX_WAV_DATA / 2).unwrap();
        assert!(fits_a_wav(1, 24_000, largest).is_ok());
        assert!(fits_a_wav(1, 24_000, largest + 1).is_err());
    }

    #[test]
    fn file_and_memory_writers_agree() {
        let clip = Clip::new(16_000, vec![0.25, -0.75, 0.0, 1.0]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        write_wav(&path, &clip).unwrap();
        let bytes = wav_bytes(&clip.samples, clip.rate).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        let stereo = i16_wav_bytes(2, 8000, 4, [1, -1, 2, -2].into_iter()).unwrap();
        let reader = hound::WavReader::new(Cursor::new(stereo)).unwrap();
        assert_eq!(reader.spec().channels, 2);
        assert_eq!(reader.duration(), 2);
    }
}
