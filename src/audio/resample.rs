//! Sample-rate conversion with rubato's FFT resampler, trimmed to an exact output length.
//!
//! TTS engines answer at 16, 22.05, 24 or 44.1 kHz; the timeline works at one rate. The FFT
//! resampler is exact for fixed ratios and fast on whole clips; its delay is cut off so a clip's
//! first sample stays at its start, and the output is exactly `round(len × to / from)` samples, so
//! the timeline can plan with lengths before resampling anything.

use super::{AudioError, Clip};
use rubato::{FftFixedIn, Resampler};

/// Input samples fed to the resampler per call.
const CHUNK: usize = 2048;

/// The length, in samples, of `len` samples at `from` Hz once converted to `to` Hz (rounded).
pub(crate) fn resampled_len(len: usize, from: u32, to: u32) -> u64 {
    if from == 0 || from == to {
        return len as u64;
    }
    let (len, from, to) = (len as u128, u128::from(from), u128::from(to));
    ((len * to + from / 2) / from) as u64
}

/// Converts `clip` to `rate` Hz. The result has exactly [`Clip::len_at_rate`] samples.
pub fn resample(clip: &Clip, rate: u32) -> Result<Clip, AudioError> {
    // Outside audio rates the FFT sizes explode (a corrupt header may claim 1 Hz).
    for r in [rate, clip.rate] {
        if !(1000..=768_000).contains(&r) {
            return Err(AudioError::InvalidRate { rate: r });
        }
    }
    if clip.rate == rate || clip.samples.is_empty() {
        return Ok(Clip {
            rate,
            samples: clip.samples.clone(),
        });
    }
    let err = |reason: String| AudioError::Resample {
        from: clip.rate,
        to: rate,
        reason,
    };
    let want = resampled_len(clip.samples.len(), clip.rate, rate) as usize;
    let mut resampler = FftFixedIn::<f32>::new(clip.rate as usize, rate as usize, CHUNK, 2, 1)
        .map_err(|e| err(e.to_string()))?;
    let delay = resampler.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(want + delay + resampler.output_frames_max());
    let mut buf = resampler.output_buffer_allocate(true);
    let mut pos = 0;
    let input = &clip.samples;
    // Full chunks, then the zero-padded tail, then silence until the delayed output is all out.
    while out.len() < delay + want {
        let need = resampler.input_frames_next();
        let (_, written) = if pos + need <= input.len() {
            let r = resampler.process_into_buffer(&[&input[pos..pos + need]], &mut buf, None);
            pos += need;
            r
        } else if pos < input.len() {
            let r = resampler.process_partial_into_buffer(Some(&[&input[pos..]]), &mut buf, None);
            pos = input.len();
            r
        } else {
            resampler.process_partial_into_buffer(None::<&[&[f32]]>, &mut buf, None)
        }
        .map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&buf[0][..written]);
    }
    let samples = out[delay..delay + want].to_vec();
    Ok(Clip { rate, samples })
}
