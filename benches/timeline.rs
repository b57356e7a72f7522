//! Timeline benchmark: plan and render 112 chunks / 400 windows over 20 minutes (target ≤ 0.25 s;
//! the Python implementation took 12.7 s), and the peak memory of rendering a 2-hour track with clips
//! produced on demand (target ≤ 64 MB). Run with `cargo bench --bench timeline`.

use dubber::audio::{self, AudioError, Clip, StretchQuality};
use dubber::timeline::{self, ClipSource, Policy, RATE};
use dubber::{Chunk, Window};
use std::time::Instant;

mod measure;
use measure::{cpu_secs, peak_mb};

/// A speech-like test signal: a 140 Hz voice with harmonics, syllable-rate amplitude modulation.
fn voice(len: usize, seed: u64) -> Vec<f32> {
    let f0 = 120.0 + (seed % 60) as f32;
    let w = 2.0 * std::f32::consts::PI * f0 / RATE as f32;
    let syll = 2.0 * std::f32::consts::PI * 4.0 / RATE as f32;
    let mut phase = 0f32;
    (0..len)
        .map(|i| {
            phase += w;
            if phase > 2.0 * std::f32::consts::PI {
                phase -= 2.0 * std::f32::consts::PI;
            }
            let env = 0.6 + 0.4 * (syll * i as f32).sin();
            env * (0.3 * phase.sin() + 0.15 * (2.0 * phase).sin() + 0.08 * (3.0 * phase).sin())
        })
        .collect()
}

/// `segments` windows over `minutes`, grouped into `chunks` chunks, and each chunk's clip length
/// in samples: mostly shorter than its span, some longer (these borrow the pause or speed up).
fn scenario(minutes: u64, segments: usize, chunks: usize, seed: u64) -> (Vec<Chunk>, Vec<u64>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let total_ms = minutes * 60_000;
    let slot = total_ms / segments as u64;
    let windows: Vec<Window> = (0..segments as u64)
        .map(|i| {
            let start = i * slot + rng.u64(0..slot / 6);
            let end = start + slot * 6 / 10 + rng.u64(0..slot / 4);
            Window::new(start, end.min((i + 1) * slot))
        })
        .collect();
    let mut out = Vec::with_capacity(chunks);
    let mut lens = Vec::with_capacity(chunks);
    let mut w = 0;
    for id in 0..chunks {
        let left = chunks - id;
        let take = (segments - w).div_ceil(left);
        let ws = windows[w..w + take].to_vec();
        let span_ms = ws.last().unwrap().end_ms - ws[0].start_ms;
        // Natural length: 75–112 % of the span; one chunk in ten 115–140 % (needs fitting).
        let factor = if rng.u8(0..10) == 0 {
            1.15 + rng.f64() * 0.25
        } else {
            0.75 + rng.f64() * 0.37
        };
        lens.push((span_ms as f64 * factor * RATE as f64 / 1000.0) as u64);
        out.push(Chunk {
            id,
            text: format!("chunk {id}"),
            windows: ws,
            segments: (w..w + take).collect(),
        });
        w += take;
    }
    (out, lens)
}

/// Clips produced when asked for, so no clip is held longer than it is being placed.
struct Synthetic {
    lens: Vec<u64>,
}

impl ClipSource for Synthetic {
    fn natural_len(&mut self, index: usize, _rate: u32) -> Result<Option<u64>, AudioError> {
        Ok(self.lens.get(index).copied())
    }
    fn load(&mut self, index: usize, rate: u32) -> Result<Option<Clip>, AudioError> {
        Ok(self
            .lens
            .get(index)
            .map(|&n| Clip::new(rate, voice(n as usize, index as u64))))
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = Policy::default();

    // 2 hours first, while the process is small, so VmHWM is this render's peak.
    let (chunks, lens) = scenario(120, 2400, 672, 7);
    let track = timeline::track_len(7200.0, RATE).expect("duration");
    let before = peak_mb();
    let t = Instant::now();
    let plan = timeline::plan(&chunks, &lens, track, RATE, &policy).expect("plan");
    let stats = timeline::render(
        &plan,
        &mut Synthetic { lens },
        &dir.path().join("2h.wav"),
        policy.fade_ms,
    )
    .expect("render");
    let secs_2h = t.elapsed().as_secs_f64();
    let peak = peak_mb();
    println!(
        "2-hour track: {} chunks, {} stretched, {} samples in {:.2} s (clip synthesis included); \
         peak memory (VmHWM) {:.1} MB (before: {:.1} MB; target <= 64 MB)",
        chunks.len(),
        stats.clips_stretched,
        stats.samples,
        secs_2h,
        peak,
        before
    );

    // 20 minutes, clips already in memory (as after synthesis), timed plan + render.
    let (chunks, lens) = scenario(20, 400, 112, 11);
    let mut clips: Vec<Clip> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| Clip::new(RATE, voice(n as usize, i as u64)))
        .collect();
    let track = timeline::track_len(1200.0, RATE).expect("duration");
    let out = dir.path().join("20m.wav");
    let mut best = f64::MAX;
    let mut last = None;
    let cpu0 = cpu_secs();
    for _ in 0..5 {
        let t = Instant::now();
        let plan = timeline::plan(&chunks, &lens, track, RATE, &policy).expect("plan");
        let plan_secs = t.elapsed().as_secs_f64();
        let stats = timeline::render(&plan, &mut clips[..], &out, policy.fade_ms).expect("render");
        let total = t.elapsed().as_secs_f64();
        best = best.min(total);
        last = Some((plan, stats, plan_secs));
    }
    let cpu = (cpu_secs() - cpu0) / 5.0;
    let (plan, stats, plan_secs) = last.expect("ran");
    let report = timeline::report(&plan, &chunks, &policy);
    println!(
        "20 minutes: {} chunks / {} windows, {} clips stretched: plan {:.2} ms, plan + render best of 5 \
         {:.3} s wall, {:.3} s CPU (target <= 0.25 s)",
        chunks.len(),
        chunks.iter().map(|c| c.windows.len()).sum::<usize>(),
        stats.clips_stretched,
        plan_secs * 1000.0,
        best,
        cpu
    );
    println!("report: {}", report.human_summary());

    // The stretchers alone, on one thread: a minute of the test voice at 1.2×.
    let minute = voice(60 * RATE as usize, 3);
    let target = (minute.len() as f64 / 1.2).round() as usize;
    for quality in [StretchQuality::Speech, StretchQuality::High] {
        let cpu0 = cpu_secs();
        let mut wall = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let out = audio::stretch_to_len_with(&minute, RATE, target, quality);
            wall = wall.min(t.elapsed().as_secs_f64());
            assert_eq!(out.len(), target);
        }
        let cpu = (cpu_secs() - cpu0) / 5.0;
        println!(
            "stretch {quality:?}: 60 s of voice at 1.2x, best of 5 {:.1} ms wall, mean {:.1} ms CPU ({:.2} ms CPU per second)",
            wall * 1000.0,
            cpu * 1000.0,
            cpu * 1000.0 / 60.0
        );
    }

    // The same without any stretching (max speed 1: long lines push later ones instead), to
    // separate the cost of copying and writing from the cost of stretching.
    let plain = Policy {
        max_speed: 1.0,
        ..Policy::default()
    };
    let mut best_plain = f64::MAX;
    let cpu0 = cpu_secs();
    for _ in 0..5 {
        let t = Instant::now();
        let plan = timeline::plan(&chunks, &lens, track, RATE, &plain).expect("plan");
        timeline::render(&plan, &mut clips[..], &out, plain.fade_ms).expect("render");
        best_plain = best_plain.min(t.elapsed().as_secs_f64());
    }
    let cpu_plain = (cpu_secs() - cpu0) / 5.0;
    let stretched_secs: f64 = plan
        .placements
        .iter()
        .filter(|p| p.played != p.natural)
        .map(|p| p.natural as f64 / RATE as f64)
        .sum();
    println!(
        "20 minutes without stretching: plan + render {best_plain:.3} s wall, {cpu_plain:.3} s CPU; \
         stretching {stretched_secs:.0} s of speech costs the difference ({:.1} ms CPU per second of \
         speech, spread over {} threads)",
        (cpu - cpu_plain).max(0.0) * 1000.0 / stretched_secs.max(1e-9),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
