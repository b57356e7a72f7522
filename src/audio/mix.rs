//! Mixing a background (music, effects) under the dubbed speech, ducked while someone speaks.
//!
//! The plan knows exactly where speech plays, so ducking needs no level detector: the background
//! goes down *before* each line starts (attack, a look-ahead a live compressor cannot have) and
//! comes back after it ends (release), along raised-cosine ramps so the change is not heard as a
//! step. Works block by block ([`duck_mix_into`], [`duck_mix_files`]) so a long track is never
//! held in memory.

use std::path::Path;

use super::AudioError;

/// How far and how smoothly the background is lowered under speech.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ducking {
    /// Gain of the background while speech plays (negative dB).
    pub depth_db: f32,
    /// The background starts going down this long before a line starts.
    pub attack_ms: u32,
    /// ... and is back up this long after it ends.
    pub release_ms: u32,
    /// Gain of the background everywhere, on top of ducking.
    pub background_db: f32,
}

impl Default for Ducking {
    fn default() -> Self {
        Self {
            depth_db: -18.0,
            attack_ms: 80,
            release_ms: 300,
            background_db: 0.0,
        }
    }
}

/// Mixes `background` under `speech` (same rate) and returns a buffer as long as `speech`.
///
/// `speech_intervals` are the `[start, end)` sample ranges where lines play, sorted by start
/// (the timeline's placements). A background shorter than the speech is silent after its end.
pub fn duck_mix(
    speech: &[f32],
    background: &[f32],
    speech_intervals: &[(u64, u64)],
    rate: u32,
    ducking: &Ducking,
) -> Vec<f32> {
    let mut out = speech.to_vec();
    let bg = &background[..background.len().min(out.len())];
    duck_mix_into(&mut out, 0, bg, speech_intervals, rate, ducking);
    out
}

/// Adds `background` (ducked) to `out` in place; `out[0]` and `background[0]` are track sample
/// `offset`. Samples of `out` beyond the background's length are left as they are.
pub fn duck_mix_into(
    out: &mut [f32],
    offset: u64,
    background: &[f32],
    speech_intervals: &[(u64, u64)],
    rate: u32,
    ducking: &Ducking,
) {
    let attack = u64::from(ducking.attack_ms) * u64::from(rate) / 1000;
    let release = u64::from(ducking.release_ms) * u64::from(rate) / 1000;
    let base = 10f32.powf(ducking.background_db / 20.0);
    // First interval whose influence (end + release) reaches this block.
    let mut j = speech_intervals.partition_point(|&(_, end)| end + release <= offset);
    for (i, (o, &b)) in out.iter_mut().zip(background).enumerate() {
        let t = offset + i as u64;
        while j < speech_intervals.len() && speech_intervals[j].1 + release <= t {
            j += 1;
        }
        let mut duck = 0f32;
        for &(start, end) in speech_intervals.iter().skip(j).take(2) {
            duck = duck.max(duck_amount(t, start, end, attack, release));
        }
        let gain = if duck > 0.0 {
            base * 10f32.powf(ducking.depth_db * duck / 20.0)
        } else {
            base
        };
        *o += b * gain;
    }
}

/// 0 (background at full level) .. 1 (fully ducked) at sample `t` for one speech interval.
fn duck_amount(t: u64, start: u64, end: u64, attack: u64, release: u64) -> f32 {
    let ramp = |x: f32| 0.5 - 0.5 * (std::f32::consts::PI * x.clamp(0.0, 1.0)).cos();
    if t >= start && t < end {
        1.0
    } else if t < start {
        let lead = start - t;
        if attack == 0 || lead >= attack {
            0.0
        } else {
            ramp(1.0 - lead as f32 / attack as f32)
        }
    } else {
        let lag = t - end;
        if release == 0 || lag >= release {
            0.0
        } else {
            ramp(1.0 - lag as f32 / release as f32)
        }
    }
}

/// Streams `speech` and `background` (16-bit mono WAV files at the same rate) into `out`, the
/// background ducked under `speech_intervals` ([`duck_mix_into`]), block by block: memory stays
/// flat however long the track. `out` is written to a temporary name and renamed, so it is never
/// seen half written. A background shorter than the speech is silent after its end.
pub fn duck_mix_files(
    speech: &Path,
    background: &Path,
    speech_intervals: &[(u64, u64)],
    ducking: &Ducking,
    out: &Path,
) -> Result<(), AudioError> {
    const BLOCK: usize = 16_384;
    let wav_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AudioError::Wav { path, source }
    };
    let mut speech_reader = hound::WavReader::open(speech).map_err(wav_err(speech))?;
    let mut bg_reader = hound::WavReader::open(background).map_err(wav_err(background))?;
    let spec = speech_reader.spec();
    let scale = 1.0 / f32::from(i16::MAX);
    let tmp = crate::fsutil::TempFile::beside(out);
    let mut writer = hound::WavWriter::create(tmp.path(), spec).map_err(wav_err(tmp.path()))?;
    let mut speech_samples = speech_reader.samples::<i16>();
    let mut bg_samples = bg_reader.samples::<i16>();
    let mut offset = 0u64;
    let mut block = Vec::with_capacity(BLOCK);
    let mut bg_block = Vec::with_capacity(BLOCK);
    loop {
        block.clear();
        bg_block.clear();
        for s in speech_samples.by_ref().take(BLOCK) {
            block.push(f32::from(s.map_err(wav_err(speech))?) * scale);
        }
        if block.is_empty() {
            break;
        }
        for s in bg_samples.by_ref().take(block.len()) {
            bg_block.push(f32::from(s.map_err(wav_err(background))?) * scale);
        }
        duck_mix_into(
            &mut block,
            offset,
            &bg_block,
            speech_intervals,
            spec.sample_rate,
            ducking,
        );
        for &v in &block {
            writer
                .write_sample(super::wav::to_i16(v))
                .map_err(wav_err(tmp.path()))?;
        }
        offset += block.len() as u64;
    }
    writer.finalize().map_err(wav_err(tmp.path()))?;
    tmp.persist(out).map_err(|source| AudioError::Io {
        path: out.to_path_buf(),
        source,
    })
}
