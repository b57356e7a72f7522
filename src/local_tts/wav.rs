//! Encoding mono samples as 16-bit PCM WAV bytes, the format the synthesis layer hands around.

use std::io::Cursor;

/// Encodes mono `samples` (−1..1, clipped) at `sample_rate` as a 16-bit PCM WAV file in memory.
pub fn wav_bytes(samples: &[f32], sample_rate: u32) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
        let mut writer16 = writer.get_i16_writer(samples.len() as u32);
        for &s in samples {
            writer16.write_sample(pcm16(s));
        }
        writer16.flush()?;
        writer.finalize()?;
    }
    Ok(cursor.into_inner())
}

/// Mono samples as raw little-endian 16-bit PCM (no header).
pub fn pcm16_bytes(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| pcm16(s).to_le_bytes())
        .collect()
}

fn pcm16(sample: f32) -> i16 {
    (sample.clamp(-1.0, 1.0) * 32767.0).round() as i16
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
}
