//! Where the dub's level comes from: the original dialogue's loudness (EBU R128, integrated,
//! gated) measured over the original lines' windows only, on the channels that carry dialogue
//! (the centre of 5.1/7.1, the mid `(L+R)/2` of stereo, the one channel of mono), and the dub's
//! over the spans where it speaks. The dub is then gained by the difference, so it sits where the
//! original voice sat while the background keeps its level. Only the windows are read (the file
//! is sought), so a film is not read twice over.
//!
//! On stereo the mid also holds the centred part of the music, so the dialogue reads a little
//! loud when music is strong under it; R128's relative gate keeps that small for speech over a
//! bed.

use ebur128::{EbuR128, Mode};

use super::{BackgroundError, PcmReader};

/// The dub's gain is kept within this range (dB): a measurement fooled by a nearly silent
/// source or dub must not blast or bury the voice.
const GAIN_RANGE: (f64, f64) = (-30.0, 20.0);

/// The two loudness readings and the dub's gain.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Loudness {
    pub dialogue_lufs: Option<f64>,
    pub dub_lufs: Option<f64>,
    pub gain_db: f64,
}

impl Loudness {
    /// The gain that brings `dub` to `dialogue` (0 when either is unknown), clamped.
    pub fn matching(dialogue_lufs: Option<f64>, dub_lufs: Option<f64>) -> Self {
        let gain_db = match (dialogue_lufs, dub_lufs) {
            (Some(d), Some(u)) => (d - u).clamp(GAIN_RANGE.0, GAIN_RANGE.1),
            _ => 0.0,
        };
        Self {
            dialogue_lufs,
            dub_lufs,
            gain_db,
        }
    }
}

/// Integrated loudness (LUFS) of the average of `channels` of `reader` over `windows` (`[start,
/// end)` frames), or `None` when they hold silence or less than one 400 ms gating block.
pub fn measure_windows(
    reader: &mut PcmReader,
    channels: &[usize],
    windows: &[(u64, u64)],
) -> Result<Option<f64>, BackgroundError> {
    const BLOCK: u64 = 16_384;
    let err = |e: ebur128::Error| BackgroundError::Loudness(e.to_string());
    let mut meter = EbuR128::new(1, reader.rate(), Mode::I).map_err(err)?;
    let width = usize::from(reader.channels());
    if channels.iter().any(|&c| c >= width) || channels.is_empty() {
        return Ok(None);
    }
    let scale = 1.0 / channels.len() as f32;
    let (mut buf, mut mono) = (Vec::new(), Vec::new());
    for &(start, end) in windows {
        let end = end.min(reader.frames());
        if start >= end {
            continue;
        }
        reader.seek(start)?;
        let mut left = end - start;
        while left > 0 {
            let n = reader.read(&mut buf, BLOCK.min(left) as usize)?;
            if n == 0 {
                break;
            }
            mono.clear();
            mono.extend(
                buf.chunks_exact(width)
                    .map(|f| channels.iter().map(|&c| f[c]).sum::<f32>() * scale),
            );
            meter.add_frames_f32(&mono).map_err(err)?;
            left -= n as u64;
        }
    }
    let lufs = meter.loudness_global().map_err(err)?;
    Ok(lufs.is_finite().then_some(lufs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gain_brings_the_dub_to_the_dialogue_within_bounds() {
        assert_eq!(Loudness::matching(Some(-30.0), Some(-20.0)).gain_db, -10.0);
        assert_eq!(Loudness::matching(Some(-10.0), Some(-60.0)).gain_db, 20.0);
        assert_eq!(Loudness::matching(None, Some(-20.0)).gain_db, 0.0);
    }

    #[test]
    fn only_the_windows_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let mut w = super::super::PcmWriter::create(&path, 2, 48_000, 3).unwrap();
        // 1 s of a loud tone in the left channel only, then 1 s of a quiet one in both.
        let tone = |amp: f32, i: usize| amp * (i as f32 * 0.0625).sin();
        let frames: Vec<f32> = (0..96_000)
            .flat_map(|i| {
                if i < 48_000 {
                    [tone(0.5, i), 0.0]
                } else {
                    [tone(0.05, i), tone(0.05, i)]
                }
            })
            .collect();
        w.write(&frames).unwrap();
        w.finish().unwrap();
        let mut r = PcmReader::open(&path).unwrap();
        let quiet = measure_windows(&mut r, &[0, 1], &[(48_000, 96_000)])
            .unwrap()
            .unwrap();
        let loud = measure_windows(&mut r, &[0, 1], &[(0, 48_000)])
            .unwrap()
            .unwrap();
        // The loud tone is 20 dB up but halved by the mid: 14 dB apart.
        assert!((loud - quiet - 14.0).abs() < 0.5, "{loud} {quiet}");
        assert_eq!(measure_windows(&mut r, &[0], &[(0, 100)]).unwrap(), None);
        assert_eq!(measure_windows(&mut r, &[5], &[(0, 48_000)]).unwrap(), None);
    }
}
