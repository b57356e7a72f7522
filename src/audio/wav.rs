//! Whole-clip WAV reading and writing (16-bit PCM), for caches and tests. The long track is
//! written by streaming in [`crate::timeline::render`], never through these.

use super::{AudioError, Clip, decode};
use std::path::Path;

/// Writes `clip` as a mono 16-bit WAV file.
pub fn write_wav(path: &Path, clip: &Clip) -> Result<(), AudioError> {
    let wav_err = |source| AudioError::Wav {
        path: path.to_path_buf(),
        source,
    };
    if clip.rate == 0 {
        return Err(AudioError::InvalidRate { rate: 0 });
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: clip.rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(wav_err)?;
    let mut w16 = writer.get_i16_writer(clip.samples.len() as u32);
    for &s in &clip.samples {
        w16.write_sample(to_i16(s));
    }
    w16.flush().map_err(wav_err)?;
    writer.finalize().map_err(wav_err)
}

/// Reads any audio file [`decode`] understands, as mono.
pub fn read_wav(path: &Path) -> Result<Clip, AudioError> {
    let bytes = std::fs::read(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let hint = path.extension().and_then(|e| e.to_str());
    decode(&bytes, hint)
}

/// Float sample to 16-bit PCM, clamped (a sum of sounds may exceed full scale).
pub(crate) fn to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}
