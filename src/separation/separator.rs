//! [`ModelSeparator`]: the model's voice taken out of the voice channels, streamed.
//!
//! Which channels the model treats follows the layout: a mono source's one channel (fed to the
//! stereo model as both channels, as Spleeter does), a stereo source's pair, the centre channel of
//! 5.1/7.1 (its music stays, the other channels pass untouched). The STFT ([`super::stft`]) runs
//! frame by frame as samples arrive; every 512 frames (11.9 s) the model gives the voice's mask
//! for them, the masked spectra are turned back into the voice's samples by overlap-add, and each
//! treated channel gives up the voice under the original lines' gate: outside the lines' windows
//! (and their ramps) the output is the input sample for sample, and a chunk with no line in it
//! skips the model. Memory holds one chunk whatever the length of the film.
//!
//! Two choices were measured on the tests' mixes (a known voice over MIDI music rendered by
//! FluidSynth):
//! - Over-subtraction: the mask ×1.5, capped at 1. Spleeter's soft mask leaves a voice that
//!   shares a bin with the music partly in; scaling it takes the voice down further while the
//!   music, whose bins have masks near 0, barely moves. Measured (mono, `tests/background_model`):
//!   mask as is, voice −16.4 dB, music −1.27 dB, bass −0.89 dB; ×1.5, voice −18.2 dB, music
//!   −1.62 dB, bass −1.16 dB.
//! - Above the model's band (11 kHz, where a voice still has its sibilants and breath): every
//!   bin takes the frame's mean mask over 5.5–11 kHz, the model's own view of how much of the
//!   top of the spectrum is voice in that frame. Spleeter itself zeroes the voice there (its
//!   `mask_extension: zeros`), which would leave the original's "s" sounds under the dub. (The
//!   tests' espeak-ng voices are made at 22 kHz, so they have nothing up there to measure.)

use std::collections::VecDeque;

use realfft::num_complex::Complex;

use super::stft::{FRAME_48K, HOP_48K, Stft};
use super::{CHUNK_FRAMES, MODEL_BINS, SeparationError, SpleeterModel};
use crate::background::{Gate, Method, PcmWriter, Separator};

/// Over-subtraction of the voice mask (see the module docs).
const OVER: f32 = 1.5;
/// The band whose mean mask is carried above the model's bins: 5.5–11 kHz.
const CARRY_FROM: usize = MODEL_BINS / 2;

/// One signal through the separator.
struct Stream {
    /// Interleaved input not given back yet; its first frame is sample `given`.
    held: VecDeque<f32>,
    /// Per target, the input from analysis position `base` on. Analysis positions run 3 hops
    /// ahead of samples (zeros before the first), so frame `t` covers `[t × hop, t × hop + n)`.
    analysis: Vec<Vec<f32>>,
    /// Spectra of the frames of the current chunk, per target, `bins` each, from `chunk_first`.
    chunk: Vec<Vec<Complex<f32>>>,
}

impl Stream {
    fn new(targets: usize, lead: usize, bins: usize) -> Self {
        Self {
            held: VecDeque::new(),
            analysis: vec![vec![0.0; lead]; targets],
            chunk: vec![Vec::with_capacity(CHUNK_FRAMES * bins); targets],
        }
    }

    fn take(&mut self, frames: &[f32], channels: usize, targets: &[usize]) {
        self.held.extend(frames);
        for frame in frames.chunks_exact(channels) {
            for (c, &target) in targets.iter().enumerate() {
                self.analysis[c].push(frame[target]);
            }
        }
    }
}

/// The model separator over interleaved frames of `channels` channels.
pub struct ModelSeparator {
    model: SpleeterModel,
    stft: Stft,
    channels: usize,
    /// The channels the model treats (one or two).
    targets: Vec<usize>,
    gate: Gate,
    ramp: u64,
    voice_out: Option<PcmWriter>,
    /// The input, and in [`ModelSeparator::push_guided`] the part the masks are applied to.
    streams: Vec<Stream>,
    taken: u64,
    given: u64,
    /// Analysis position of each stream's `analysis[_][0]`.
    base: u64,
    next_frame: u64,
    chunk_first: u64,
    chunk_len: usize,
    /// Per target, the voice's overlap-add from analysis position `voice_base` on.
    voice: Vec<Vec<f32>>,
    voice_base: u64,
    /// The first model error; the separator then passes the input through.
    error: Option<SeparationError>,
    spectrum: Vec<Complex<f32>>,
    gains: Vec<f32>,
}

impl ModelSeparator {
    /// A separator for `channels`-channel frames at 48 kHz, treating `targets` (one or two
    /// channels) where the original lines are (`lines`, in samples, with raised-cosine ramps of
    /// `ramp` samples), writing what it takes out to `voice_out` (mono, 48 kHz) if given.
    pub fn new(
        model: SpleeterModel,
        channels: usize,
        targets: Vec<usize>,
        lines: Vec<(u64, u64)>,
        ramp: u64,
        voice_out: Option<PcmWriter>,
    ) -> Self {
        let stft = Stft::new(FRAME_48K);
        let bins = stft.bins();
        let lead = (FRAME_48K - HOP_48K) as u64;
        let n = targets.len();
        Self {
            model,
            channels,
            gate: Gate::new(lines, ramp, ramp),
            ramp,
            voice_out,
            streams: vec![Stream::new(n, lead as usize, bins)],
            taken: 0,
            given: 0,
            base: 0,
            next_frame: 0,
            chunk_first: 0,
            chunk_len: 0,
            voice: vec![Vec::new(); n],
            voice_base: 0,
            error: None,
            spectrum: vec![Complex::default(); bins],
            gains: Vec::new(),
            targets,
            stft,
        }
    }

    /// The first error the model or the voice file met, if any (the mix then kept the input).
    pub fn take_error(&mut self) -> Option<SeparationError> {
        self.error.take()
    }

    /// Like [`Separator::push`], but the masks the model finds in `mix` are applied to `part`
    /// (the same layout and length): what the separation does to one part of a mix, for
    /// measuring. Once the masks are set the separation is linear, so the parts' outputs add up
    /// to the mix's. Every call on one separator must be guided.
    pub fn push_guided(&mut self, mix: &[f32], part: &[f32], out: &mut Vec<f32>) {
        if self.streams.len() == 1 {
            let lead = FRAME_48K - HOP_48K;
            let bins = self.stft.bins();
            self.streams
                .push(Stream::new(self.targets.len(), lead, bins));
        }
        self.streams[1].take(part, self.channels, &self.targets);
        self.push(mix, out);
    }

    /// Frames whose samples have all arrived go into the chunk; full chunks are separated.
    fn analyse(&mut self) {
        let n = FRAME_48K as u64;
        let end = self.base + self.streams[0].analysis[0].len() as u64;
        while self.next_frame * HOP_48K as u64 + n <= end {
            let start = (self.next_frame * HOP_48K as u64 - self.base) as usize;
            for stream in &mut self.streams {
                for (c, chunk) in stream.chunk.iter_mut().enumerate() {
                    let samples = stream.analysis[c][start..start + FRAME_48K].iter().copied();
                    self.stft.forward(samples, &mut self.spectrum);
                    chunk.extend_from_slice(&self.spectrum);
                }
            }
            self.chunk_len += 1;
            self.next_frame += 1;
            if self.chunk_len == CHUNK_FRAMES {
                self.separate_chunk();
            }
        }
        // Input before the next frame is no longer needed.
        let keep_from = self.next_frame * HOP_48K as u64;
        let drop = (keep_from - self.base) as usize;
        if drop > 0 {
            for a in self.streams.iter_mut().flat_map(|s| &mut s.analysis) {
                a.drain(..drop.min(a.len()));
            }
            self.base = keep_from;
        }
    }

    /// Runs the model on the chunk's frames and overlap-adds the voice they hold.
    fn separate_chunk(&mut self) {
        if self.chunk_len == 0 {
            return;
        }
        let hop = HOP_48K as u64;
        let lead = (FRAME_48K - HOP_48K) as u64;
        let bins = self.stft.bins();
        let first = self.chunk_first;
        let (from, to) = (first * hop, (first + self.chunk_len as u64) * hop + lead);
        // Make room for the chunk's voice (analysis positions up to the last frame's end).
        let need = (to + hop - self.voice_base) as usize;
        for v in &mut self.voice {
            if v.len() < need {
                v.resize(need, 0.0);
            }
        }
        // Samples the chunk's frames cover; the model runs only if the gate opens there.
        let (first_sample, end_sample) = (from as i64 - lead as i64, to as i64 - lead as i64);
        let ramp = self.ramp as i64;
        let gated = self
            .gate
            .intervals()
            .iter()
            .any(|&(s, e)| (s as i64) - ramp < end_sample && (e as i64) + ramp > first_sample);
        if gated && self.error.is_none() {
            match self.voice_mask() {
                Ok(masks) => {
                    for f in 0..self.chunk_len {
                        let at = ((first + f as u64) * hop - self.voice_base) as usize;
                        for (c, mask) in masks.iter().enumerate() {
                            let mask = &mask[f * MODEL_BINS..][..MODEL_BINS];
                            let carried = mask[CARRY_FROM..].iter().sum::<f32>()
                                / (MODEL_BINS - CARRY_FROM) as f32;
                            let spectrum = &mut self.spectrum;
                            let source = &self.streams[self.streams.len() - 1].chunk[c];
                            spectrum.copy_from_slice(&source[f * bins..][..bins]);
                            for (k, s) in spectrum.iter_mut().enumerate() {
                                let m = if k < MODEL_BINS { mask[k] } else { carried };
                                *s *= (m * OVER).min(1.0);
                            }
                            self.stft
                                .inverse_add(spectrum, &mut self.voice[c][at..at + FRAME_48K]);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("{e}; the rest of the background is kept as it is");
                    self.error = Some(e);
                }
            }
        }
        for chunk in self.streams.iter_mut().flat_map(|s| &mut s.chunk) {
            chunk.clear();
        }
        self.chunk_first += self.chunk_len as u64;
        self.chunk_len = 0;
    }

    /// The model's voice mask for the chunk, per target: `[frames][1024]`.
    fn voice_mask(&mut self) -> Result<Vec<Vec<f32>>, SeparationError> {
        let bins = self.stft.bins();
        let mut input = vec![0f32; 2 * CHUNK_FRAMES * MODEL_BINS];
        for channel in 0..2 {
            let spectra = &self.streams[0].chunk[channel.min(self.targets.len() - 1)];
            for f in 0..self.chunk_len {
                let row = &mut input[(channel * CHUNK_FRAMES + f) * MODEL_BINS..][..MODEL_BINS];
                for (m, s) in row.iter_mut().zip(&spectra[f * bins..]) {
                    *m = s.norm();
                }
            }
        }
        let mask = self.model.voice_mask(input)?;
        let plane = CHUNK_FRAMES * MODEL_BINS;
        Ok(match self.targets.len() {
            // One channel fed as both: the two masks are the model's two views of it.
            1 => vec![
                mask[..plane]
                    .iter()
                    .zip(&mask[plane..])
                    .map(|(a, b)| 0.5 * (a + b))
                    .collect(),
            ],
            _ => vec![mask[..plane].to_vec(), mask[plane..].to_vec()],
        })
    }

    /// Gives back the input frames whose voice is complete (all of them at `end`).
    fn give(&mut self, out: &mut Vec<f32>, end: bool) {
        let lead = (FRAME_48K - HOP_48K) as u64;
        // Frames not analysed yet start at `chunk_first × hop`, in analysis positions.
        let ready = (self.chunk_first * HOP_48K as u64).saturating_sub(lead);
        let until = if end {
            self.taken
        } else {
            ready.min(self.taken)
        };
        if until <= self.given {
            return;
        }
        let count = (until - self.given) as usize;
        self.gains.resize(count, 0.0);
        self.gate.fill(self.given, &mut self.gains);
        let start = out.len();
        let last = self.streams.len() - 1;
        for stream in &mut self.streams[..last] {
            stream.held.drain(..count * self.channels);
        }
        out.extend(self.streams[last].held.drain(..count * self.channels));
        let mut voice_mono = Vec::with_capacity(if self.voice_out.is_some() { count } else { 0 });
        for (i, frame) in out[start..].chunks_exact_mut(self.channels).enumerate() {
            let at = (self.given + i as u64 + lead - self.voice_base) as usize;
            let g = self.gains[i];
            let mut taken_out = 0f32;
            for (c, &target) in self.targets.iter().enumerate() {
                let v = g * self.voice[c].get(at).copied().unwrap_or(0.0);
                frame[target] -= v;
                taken_out += v;
            }
            if self.voice_out.is_some() {
                voice_mono.push(taken_out / self.targets.len() as f32);
            }
        }
        if let Some(writer) = self.voice_out.as_mut()
            && let Err(e) = writer.write(&voice_mono)
        {
            self.error = Some(SeparationError::Inference(format!("voice track: {e}")));
            self.voice_out = None;
        }
        self.given = until;
        let drop = (self.given + lead - self.voice_base) as usize;
        for v in &mut self.voice {
            v.drain(..drop.min(v.len()));
        }
        self.voice_base = self.given + lead;
    }
}

impl Separator for ModelSeparator {
    fn method(&self) -> Method {
        Method::Model
    }

    fn push(&mut self, frames: &[f32], out: &mut Vec<f32>) {
        self.streams[0].take(frames, self.channels, &self.targets);
        self.taken += (frames.len() / self.channels) as u64;
        self.analyse();
        self.give(out, false);
    }

    fn finish(&mut self, out: &mut Vec<f32>) {
        // Zeros after the end, until the frames cover every sample taken.
        let hop = HOP_48K as u64;
        let lead = (FRAME_48K - HOP_48K) as u64;
        let last_needed = (self.taken + lead).div_ceil(hop) * hop + FRAME_48K as u64;
        let have = self.base + self.streams[0].analysis[0].len() as u64;
        for a in self.streams.iter_mut().flat_map(|s| &mut s.analysis) {
            a.resize(a.len() + last_needed.saturating_sub(have) as usize, 0.0);
        }
        self.analyse();
        self.separate_chunk();
        self.give(out, true);
        if let Some(writer) = self.voice_out.take()
            && let Err(e) = writer.finish()
        {
            self.error = Some(SeparationError::Inference(format!("voice track: {e}")));
        }
    }
}
