//! The mix itself, streamed: background frames in blocks, treated by the mode (ducked, kept, or
//! separated), the dub raised to 48 kHz, gained to the dialogue's loudness and added to the voice
//! channels, written out. Memory holds a few blocks whatever the length.

use std::collections::VecDeque;
use std::path::Path;

use super::{
    BackgroundError, BackgroundReport, CentreChannel, Gate, Layout, Loudness, MIX_RATE, Method,
    Mode, PcmReader, PcmWriter, Separator, Shape, StereoMask, Upsample2, measure_windows,
};
use crate::audio::Ducking;

/// Frames per block.
const BLOCK: usize = 8192;
/// Ramps into and out of an original line's window where the voice is taken out.
const SEPARATION_RAMP_MS: u64 = 80;

/// One mix to render.
pub struct MixJob<'a> {
    /// The dub: mono 16-bit WAV at the timeline's rate (half of [`MIX_RATE`]); its length is
    /// the output's.
    pub dub: &'a Path,
    /// The source's audio: 16-bit WAV at [`MIX_RATE`], in its own channels.
    pub background: &'a Path,
    /// ffprobe's name for the source's layout, if it has one.
    pub layout_name: Option<&'a str>,
    pub mode: Mode,
    pub ducking: Ducking,
    /// Where the dub speaks: `[start, end)` in dub samples.
    pub dub_speech: &'a [(u64, u64)],
    /// The original lines' windows, in dub samples.
    pub original_lines: &'a [(u64, u64)],
    /// A separator to use for `separate` instead of the layout's own (a model).
    pub separator: Option<Box<dyn Separator>>,
    pub out: &'a Path,
}

/// Renders `job`: returns what was done, for the report.
pub fn render(job: MixJob<'_>) -> Result<BackgroundReport, BackgroundError> {
    let mut dub = PcmReader::open(job.dub)?;
    let dub_rate = MIX_RATE / 2;
    if dub.channels() != 1 || dub.rate() != dub_rate {
        return Err(BackgroundError::DubFormat {
            path: job.dub.to_path_buf(),
            expected: dub_rate,
            channels: dub.channels(),
            rate: dub.rate(),
        });
    }
    let mut bg = PcmReader::open(job.background)?;
    if bg.rate() != MIX_RATE {
        return Err(BackgroundError::BackgroundRate {
            path: job.background.to_path_buf(),
            expected: MIX_RATE,
            rate: bg.rate(),
        });
    }
    let layout = Layout::new(bg.channels(), job.layout_name);
    let width = usize::from(layout.channels);
    let up =
        |v: &[(u64, u64)]| -> Vec<(u64, u64)> { v.iter().map(|&(s, e)| (2 * s, 2 * e)).collect() };
    let (lines, dub_speech) = (up(job.original_lines), up(job.dub_speech));

    let (method, reason, mut separator) = choose(&layout, job.mode, job.separator, &lines);
    if let Some(reason) = &reason {
        tracing::warn!("--background separate: {reason}; ducking the original instead");
    }
    let voice = layout.voice_channels();
    let loudness = Loudness::matching(
        measure_windows(&mut bg, &voice, &lines)?,
        measure_windows(&mut dub, &[0], job.dub_speech)?,
    );
    bg.seek(0)?;
    dub.seek(0)?;
    let dub_gain = 10f32.powf(loudness.gain_db as f32 / 20.0);

    let ms = |v: u32| u64::from(v) * u64::from(MIX_RATE) / 1000;
    let duck_gate = {
        let mut all = dub_speech;
        all.extend_from_slice(&lines);
        Gate::new(all, ms(job.ducking.attack_ms), ms(job.ducking.release_ms))
    };
    let depth = match method {
        Method::Duck | Method::DuckFallback => job.ducking.depth_db,
        _ => 0.0,
    };
    let base = match method {
        Method::None => 0.0,
        _ => 10f32.powf(job.ducking.background_db / 20.0),
    };

    let total = dub.frames() * 2;
    let mut writer = PcmWriter::create(job.out, layout.channels, MIX_RATE, layout.wave_mask())?;
    let mut upsampler = Upsample2::new();
    let (mut fed, mut written) = (0u64, 0u64);
    let (mut block, mut treated, mut gains) = (Vec::new(), Vec::new(), vec![0f32; BLOCK]);
    let (mut dub_block, mut dub_up) = (Vec::new(), Vec::new());
    let mut dub_queue: VecDeque<f32> = VecDeque::new();
    let mut dub_done = false;
    while written < total {
        treated.clear();
        if fed < total {
            let want = (BLOCK as u64).min(total - fed) as usize;
            bg.read(&mut block, want)?;
            block.resize(want * width, 0.0);
            match separator.as_mut() {
                Some(sep) => sep.push(&block, &mut treated),
                None => {
                    duck_gate.fill(fed, &mut gains[..want]);
                    for (frame, &duck) in block.chunks_exact_mut(width).zip(&gains) {
                        let g = base * 10f32.powf(depth * duck / 20.0);
                        frame.iter_mut().for_each(|s| *s *= g);
                    }
                    treated.extend_from_slice(&block);
                }
            }
            fed += want as u64;
            if fed == total
                && let Some(sep) = separator.as_mut()
            {
                sep.finish(&mut treated);
            }
        }
        let frames = treated.len() / width;
        while dub_queue.len() < frames {
            if dub_done {
                dub_queue.resize(frames, 0.0);
                break;
            }
            dub_up.clear();
            if dub.read(&mut dub_block, BLOCK / 2)? == 0 {
                upsampler.finish(&mut dub_up);
                dub_done = true;
            } else {
                upsampler.push(&dub_block, &mut dub_up);
            }
            dub_queue.extend(&dub_up);
        }
        for (frame, d) in treated
            .chunks_exact_mut(width)
            .zip(dub_queue.drain(..frames))
        {
            for &c in &voice {
                frame[c] += d * dub_gain;
            }
        }
        writer.write(&treated)?;
        written += frames as u64;
        if frames == 0 && fed >= total {
            break;
        }
    }
    writer.finish()?;
    Ok(BackgroundReport {
        mode: job.mode,
        method,
        reason,
        channels: layout.channels,
        layout: layout.name.clone(),
        rate: MIX_RATE,
        dialogue_lufs: loudness.dialogue_lufs,
        dub_lufs: loudness.dub_lufs,
        dub_gain_db: loudness.gain_db,
    })
}

type Choice = (Method, Option<String>, Option<Box<dyn Separator>>);

/// The method for `mode` on `layout`, why it differs from the one asked for, and the separator.
fn choose(
    layout: &Layout,
    mode: Mode,
    given: Option<Box<dyn Separator>>,
    lines: &[(u64, u64)],
) -> Choice {
    match mode {
        Mode::Duck => (Method::Duck, None, None),
        Mode::Mix => (Method::Mix, None, None),
        Mode::None => (Method::None, None, None),
        Mode::Separate => {
            if let Some(sep) = given {
                return (sep.method(), None, Some(sep));
            }
            match layout.shape() {
                Shape::Centre(centre) => (
                    Method::CentreChannel,
                    None,
                    Some(Box::new(CentreChannel {
                        channels: usize::from(layout.channels),
                        centre,
                    })),
                ),
                Shape::Stereo => {
                    let ramp = SEPARATION_RAMP_MS * u64::from(MIX_RATE) / 1000;
                    let gate = Gate::new(lines.to_vec(), ramp, ramp);
                    (
                        Method::StereoMask,
                        None,
                        Some(Box::new(StereoMask::new(gate, MIX_RATE))),
                    )
                }
                Shape::Mono => (
                    Method::DuckFallback,
                    Some(
                        "the source is mono: there is nothing to separate by channel layout".into(),
                    ),
                    None,
                ),
                Shape::Other => (
                    Method::DuckFallback,
                    Some(format!(
                        "the source's layout ({}) has neither a centre channel nor two channels",
                        layout.name
                    )),
                    None,
                ),
            }
        }
    }
}
