//! Streaming 16-bit PCM WAV of any channel count, read and written in blocks of frames.
//!
//! hound covers the mono clips; a film's background is another matter: two hours of 5.1 at
//! 48 kHz is 4.1 GB and 7.1 passes the 4 GiB a RIFF header can count. So the background is read
//! here from RIFF or RF64 (what ffmpeg writes with `-rf64 auto`), and the mix is written with a
//! `JUNK` chunk reserved where an RF64 `ds64` goes, upgraded in place when the data outgrows RIFF.
//! The writer also records the channel layout (`WAVE_FORMAT_EXTENSIBLE`'s channel mask), so the
//! mix says which channel is which without anyone's help.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::fsutil::TempFile;

use super::BackgroundError;

/// Full scale of a 16-bit sample, both ways: a sample read and written back is unchanged.
const SCALE: f32 = 32767.0;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BackgroundError + '_ {
    move |source| BackgroundError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads interleaved 16-bit frames from a RIFF or RF64 WAV file.
pub struct PcmReader {
    file: BufReader<File>,
    path: PathBuf,
    channels: u16,
    rate: u32,
    data_start: u64,
    frames: u64,
    pos: u64,
    bytes: Vec<u8>,
}

impl PcmReader {
    /// Opens `path`; fails unless it is 16-bit integer PCM.
    pub fn open(path: &Path) -> Result<Self, BackgroundError> {
        let bad = |reason: &str| BackgroundError::Wav {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let mut file = BufReader::new(File::open(path).map_err(io_err(path))?);
        let mut head = [0u8; 12];
        file.read_exact(&mut head).map_err(io_err(path))?;
        let rf64 = match &head[0..4] {
            b"RIFF" => false,
            b"RF64" => true,
            _ => return Err(bad("not a RIFF/RF64 file")),
        };
        if &head[8..12] != b"WAVE" {
            return Err(bad("not a WAVE file"));
        }
        let (mut fmt, mut ds64_data) = (None, None);
        loop {
            let mut chunk = [0u8; 8];
            file.read_exact(&mut chunk)
                .map_err(|_| bad("no data chunk"))?;
            let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
            match &chunk[0..4] {
                b"ds64" => {
                    let mut body = vec![0u8; size as usize];
                    file.read_exact(&mut body).map_err(io_err(path))?;
                    let data = body.get(8..16).ok_or_else(|| bad("short ds64 chunk"))?;
                    ds64_data = Some(u64::from_le_bytes(data.try_into().unwrap_or_default()));
                }
                b"fmt " => {
                    let mut body = vec![0u8; size as usize];
                    file.read_exact(&mut body).map_err(io_err(path))?;
                    if body.len() < 16 {
                        return Err(bad("short fmt chunk"));
                    }
                    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                    let tag = u16_at(0);
                    let pcm = tag == 1 || (tag == 0xFFFE && body.len() >= 26 && u16_at(24) == 1);
                    if !pcm || u16_at(14) != 16 {
                        return Err(bad("not 16-bit integer PCM"));
                    }
                    let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    fmt = Some((u16_at(2), rate));
                }
                b"data" => {
                    let (channels, rate) = fmt.ok_or_else(|| bad("data before fmt"))?;
                    if channels == 0 || rate == 0 {
                        return Err(bad("no channels or no rate"));
                    }
                    let data_start = file.stream_position().map_err(io_err(path))?;
                    let file_len = file.get_ref().metadata().map_err(io_err(path))?.len();
                    let on_disk = file_len.saturating_sub(data_start);
                    // A header written by a stream may say 0 or 0xFFFFFFFF: the data runs to the end.
                    let declared = match (rf64, ds64_data) {
                        (true, Some(d)) if size == u64::from(u32::MAX) => d,
                        _ if size == 0 || size == u64::from(u32::MAX) => on_disk,
                        _ => size,
                    };
                    let frame_bytes = 2 * u64::from(channels);
                    return Ok(Self {
                        file,
                        path: path.to_path_buf(),
                        channels,
                        rate,
                        data_start,
                        frames: declared.min(on_disk) / frame_bytes,
                        pos: 0,
                        bytes: Vec::new(),
                    });
                }
                _ => {
                    // Chunks are padded to an even size.
                    let skip = size + (size & 1);
                    file.seek_relative(skip as i64).map_err(io_err(path))?;
                }
            }
        }
    }

    pub fn channels(&self) -> u16 {
        self.channels
    }
    pub fn rate(&self) -> u32 {
        self.rate
    }
    /// Frames in the file.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Moves to frame `frame` (clamped to the end).
    pub fn seek(&mut self, frame: u64) -> Result<(), BackgroundError> {
        self.pos = frame.min(self.frames);
        let at = self.data_start + self.pos * 2 * u64::from(self.channels);
        self.file
            .seek(SeekFrom::Start(at))
            .map_err(io_err(&self.path))?;
        Ok(())
    }

    /// Replaces `out` with up to `max` frames (interleaved, full scale ±1); returns the number of
    /// frames read, 0 at the end.
    pub fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, BackgroundError> {
        out.clear();
        let n = (max as u64).min(self.frames - self.pos) as usize;
        let len = n * usize::from(self.channels) * 2;
        self.bytes.resize(len, 0);
        self.file
            .read_exact(&mut self.bytes)
            .map_err(io_err(&self.path))?;
        out.extend(
            self.bytes
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / SCALE),
        );
        self.pos += n as u64;
        Ok(n)
    }
}

/// Header bytes before the samples: RIFF header, JUNK (room for ds64), extensible fmt, data head.
const HEADER: u64 = 12 + (8 + 28) + (8 + 40) + 8;

/// Writes interleaved 16-bit frames, tagged with a channel mask, to a temporary file renamed into
/// place by [`PcmWriter::finish`], so the target is never seen half written.
pub struct PcmWriter {
    file: BufWriter<File>,
    tmp: TempFile,
    target: PathBuf,
    channels: u16,
    data_bytes: u64,
    bytes: Vec<u8>,
}

impl PcmWriter {
    /// A writer for `channels` channels at `rate`, with `mask` (the WAVE channel mask) tagged.
    pub fn create(
        target: &Path,
        channels: u16,
        rate: u32,
        mask: u32,
    ) -> Result<Self, BackgroundError> {
        // The header's block size is a u16 and its byte rate a u32: refuse what they cannot hold
        // rather than overflow.
        let sizes = channels
            .checked_mul(2)
            .filter(|&block| block > 0)
            .and_then(|block| Some((block, rate.checked_mul(u32::from(block))?)));
        let Some((block, byte_rate)) = sizes else {
            return Err(BackgroundError::Wav {
                path: target.to_path_buf(),
                reason: format!(
                    "{channels} channel(s) at {rate} Hz is more than a WAV header holds"
                ),
            });
        };
        let tmp = TempFile::beside(target);
        let mut file = BufWriter::new(File::create(tmp.path()).map_err(io_err(tmp.path()))?);
        let mut h = Vec::with_capacity(HEADER as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(b"WAVEJUNK");
        h.extend_from_slice(&28u32.to_le_bytes());
        h.extend_from_slice(&[0u8; 28]);
        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&40u32.to_le_bytes());
        h.extend_from_slice(&0xFFFEu16.to_le_bytes());
        h.extend_from_slice(&channels.to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&byte_rate.to_le_bytes());
        h.extend_from_slice(&block.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(&22u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(&mask.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM.
        h.extend_from_slice(&[
            1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71,
        ]);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&0u32.to_le_bytes());
        file.write_all(&h).map_err(io_err(tmp.path()))?;
        Ok(Self {
            file,
            tmp,
            target: target.to_path_buf(),
            channels,
            data_bytes: 0,
            bytes: Vec::new(),
        })
    }

    /// Appends interleaved frames (clamped to full scale).
    pub fn write(&mut self, samples: &[f32]) -> Result<(), BackgroundError> {
        debug_assert_eq!(samples.len() % usize::from(self.channels), 0);
        self.bytes.clear();
        self.bytes.extend(
            samples
                .iter()
                .flat_map(|&s| ((s.clamp(-1.0, 1.0) * SCALE).round() as i16).to_le_bytes()),
        );
        self.file
            .write_all(&self.bytes)
            .map_err(io_err(self.tmp.path()))?;
        self.data_bytes += self.bytes.len() as u64;
        Ok(())
    }

    /// Fills in the sizes (RF64 when the data outgrows RIFF) and renames the file into place.
    pub fn finish(self) -> Result<(), BackgroundError> {
        let Self {
            file,
            tmp,
            target,
            channels,
            data_bytes,
            ..
        } = self;
        let err = io_err(tmp.path());
        let mut file = file.into_inner().map_err(|e| err(e.into_error()))?;
        let riff = HEADER - 8 + data_bytes;
        let put = |file: &mut File, at: u64, bytes: &[u8]| -> std::io::Result<()> {
            file.seek(SeekFrom::Start(at))?;
            file.write_all(bytes)
        };
        let patch = |file: &mut File| -> std::io::Result<()> {
            if riff <= u64::from(u32::MAX) {
                put(file, 4, &(riff as u32).to_le_bytes())?;
                put(file, HEADER - 4, &(data_bytes as u32).to_le_bytes())
            } else {
                let mut ds64 = Vec::with_capacity(36);
                ds64.extend_from_slice(b"ds64");
                ds64.extend_from_slice(&28u32.to_le_bytes());
                ds64.extend_from_slice(&riff.to_le_bytes());
                ds64.extend_from_slice(&data_bytes.to_le_bytes());
                ds64.extend_from_slice(&(data_bytes / (2 * u64::from(channels))).to_le_bytes());
                ds64.extend_from_slice(&0u32.to_le_bytes());
                put(file, 0, b"RF64")?;
                put(file, 4, &u32::MAX.to_le_bytes())?;
                put(file, 12, &ds64)?;
                put(file, HEADER - 4, &u32::MAX.to_le_bytes())
            }
        };
        patch(&mut file).map_err(io_err(tmp.path()))?;
        drop(file);
        tmp.persist(&target).map_err(io_err(&target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_past_what_wav_holds_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.wav");
        for (channels, rate) in [(0, 48_000), (40_000, 48_000), (8, u32::MAX)] {
            let Err(err) = PcmWriter::create(&path, channels, rate, 0) else {
                panic!("{channels} channels at {rate} Hz were accepted");
            };
            assert!(
                err.to_string().contains("more than a WAV header holds"),
                "{err}"
            );
        }
        assert!(!path.exists());
    }

    #[test]
    fn frames_round_trip_and_hound_reads_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("six.wav");
        let mut w = PcmWriter::create(&path, 6, 48_000, 0x60F).unwrap();
        let frames: Vec<f32> = (0..600).map(|i| ((i % 97) as f32 - 48.0) / 64.0).collect();
        w.write(&frames).unwrap();
        w.finish().unwrap();
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec().channels, 6);
        assert_eq!(reader.duration(), 100);
        let mut r = PcmReader::open(&path).unwrap();
        assert_eq!((r.channels(), r.rate(), r.frames()), (6, 48_000, 100));
        let mut back = Vec::new();
        assert_eq!(r.read(&mut back, 1000).unwrap(), 100);
        for (a, b) in frames.iter().zip(&back) {
            assert!((a.clamp(-1.0, 1.0) - b).abs() < 1e-4);
        }
        r.seek(99).unwrap();
        assert_eq!(r.read(&mut back, 10).unwrap(), 1);
        assert_eq!(back.len(), 6);
        // Written back, the samples read are the same bytes.
        let copy = dir.path().join("copy.wav");
        let mut w = PcmWriter::create(&copy, 6, 48_000, 0x60F).unwrap();
        r.seek(0).unwrap();
        r.read(&mut back, 1000).unwrap();
        w.write(&back).unwrap();
        w.finish().unwrap();
        let bytes = |p: &Path| std::fs::read(p).unwrap();
        assert_eq!(bytes(&path), bytes(&copy));
    }

    #[test]
    fn reads_what_ffmpeg_writes_as_rf64_style_stream_headers() {
        // A header whose data size says 0xFFFFFFFF (a stream): the data runs to the end of file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wav");
        let mut bytes = hound_stereo();
        let data_at = bytes.windows(4).position(|w| w == b"data").unwrap();
        bytes[data_at + 4..data_at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let r = PcmReader::open(&path).unwrap();
        assert_eq!((r.channels(), r.frames()), (2, 3));
    }

    fn hound_stereo() -> Vec<u8> {
        crate::audio::wav::i16_wav_bytes(2, 8000, 6, [1, -1, 2, -2, 3, -3].into_iter()).unwrap()
    }
}
