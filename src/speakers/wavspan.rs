//! Reads spans of a 16 kHz mono WAV by seeking, so that diarizing a 2-hour file holds only one
//! batch of lines in memory, never the whole recording.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::SpeakerError;

/// An open speech WAV (16-bit or 32-bit float PCM, mono, at the encoder's rate).
pub struct SpanReader {
    path: PathBuf,
    reader: hound::WavReader<BufReader<std::fs::File>>,
    float: bool,
    rate: u32,
}

impl SpanReader {
    /// Opens `path`, refusing anything but mono PCM at `rate` Hz.
    pub fn open(path: &Path, rate: u32) -> Result<Self, SpeakerError> {
        let wav_err = |source| SpeakerError::Wav {
            path: path.to_path_buf(),
            source,
        };
        let reader = hound::WavReader::open(path).map_err(wav_err)?;
        let spec = reader.spec();
        let float = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, 16) => false,
            (hound::SampleFormat::Float, 32) => true,
            (format, bits) => {
                return Err(SpeakerError::WavFormat {
                    path: path.to_path_buf(),
                    found: format!("{bits}-bit {format:?} samples"),
                    expected: rate,
                });
            }
        };
        if spec.channels != 1 || spec.sample_rate != rate {
            return Err(SpeakerError::WavFormat {
                path: path.to_path_buf(),
                found: format!("{} Hz, {} channels", spec.sample_rate, spec.channels),
                expected: rate,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            float,
            rate,
        })
    }

    /// The samples from `start_ms` to `end_ms`, clipped to the file (empty past its end).
    pub fn read(&mut self, start_ms: u64, end_ms: u64) -> Result<Vec<f32>, SpeakerError> {
        let total = u64::from(self.reader.duration());
        let to_sample = |ms: u64| (ms.saturating_mul(u64::from(self.rate)) / 1000).min(total);
        let (start, end) = (to_sample(start_ms), to_sample(end_ms));
        if end <= start {
            return Ok(Vec::new());
        }
        let io_err = |source| SpeakerError::Io {
            path: self.path.clone(),
            source,
        };
        // `start < total <= u32::MAX`, as hound counts samples in u32.
        self.reader.seek(start as u32).map_err(io_err)?;
        let n = (end - start) as usize;
        let path = &self.path;
        let wav_err = |source| SpeakerError::Wav {
            path: path.clone(),
            source,
        };
        if self.float {
            self.reader
                .samples::<f32>()
                .take(n)
                .collect::<Result<_, _>>()
                .map_err(wav_err)
        } else {
            self.reader
                .samples::<i16>()
                .take(n)
                .map(|s| s.map(|v| f32::from(v) / 32768.0))
                .collect::<Result<_, _>>()
                .map_err(wav_err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    #[test]
    fn reads_spans_by_seeking_and_clips_to_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("speech.wav");
        let samples: Vec<i16> = (0..16_000).map(|i| (i % 1000) as i16).collect();
        write(&path, 16_000, 1, &samples);
        let mut r = SpanReader::open(&path, 16_000).unwrap();
        let span = r.read(500, 510).unwrap();
        assert_eq!(span.len(), 160);
        assert_eq!(span[0], 0.0); // sample 8000 is 8000 % 1000 = 0
        assert_eq!(span[1], 1.0 / 32768.0);
        // Backwards, then past the end.
        assert_eq!(r.read(0, 1).unwrap().len(), 16);
        assert_eq!(r.read(990, 5000).unwrap().len(), 160);
        assert!(r.read(2000, 3000).unwrap().is_empty());
    }

    #[test]
    fn refuses_stereo_and_other_rates_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("stereo.wav");
        write(&path, 16_000, 2, &[0; 10]);
        let err = SpanReader::open(&path, 16_000).err().unwrap().to_string();
        assert!(
            err.contains("stereo.wav") && err.contains("2 channels"),
            "{err}"
        );
        let path = tmp.path().join("44k.wav");
        write(&path, 44_100, 1, &[0; 10]);
        let err = SpanReader::open(&path, 16_000).err().unwrap().to_string();
        assert!(err.contains("44100 Hz"), "{err}");
    }
}
