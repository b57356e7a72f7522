//! Diarization benchmark: the cost of finding who speaks each line, as a fraction of the audio's
//! duration (target ≤ 0.05 on 2 cores), on a 12-minute two-voice conversation over music, and the
//! peak memory of diarizing it and a longer one (memory must not grow with the input: lines are
//! read from the WAV a batch at a time). The conversations are built from a pool of lines spoken
//! by the Piper voice (male) and espeak-ng en-us+f3 (female), taking turns of 1–8 s after gaps of
//! 0.2–0.8 s, and streamed to disk. Run: `cargo bench --bench diarize` (release) or
//! `cargo test --bench diarize` (dev profile); `DIARIZE_LONG_MINUTES` sets the long input (60).

#[path = "../tests/local_common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

use dubber::Segment;
use dubber::local_tts::{PiperVoice, init_onnxruntime};
use dubber::models::DataDir;
use dubber::speakers::{DiarizeOptions, Ge2eEncoder, diarize};

const LINES: &[&str] = &[
    "Hello there, how have you been?",
    "Did you see the game last night?",
    "I could not believe how the second half went, it was the best match of the season.",
    "No way!",
    "We should leave before the traffic gets bad.",
    "It was raining so hard that the whole street turned into a river within minutes.",
    "Maybe we can meet on Thursday after work.",
    "The museum opens at nine, but the tickets sell out early, so we need to be there by eight.",
    "Why would anyone paint a kitchen bright orange?",
    "My grandmother kept every letter she ever received, in boxes under her bed.",
    "Three coffees and a piece of apple pie, please.",
    "Sure, I will call you tomorrow.",
];

/// A memory figure of /proc/self/status (`VmHWM:` peak, `VmRSS:` now) in MB.
fn status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak (Linux: `5` to clear_refs), so the next reading is of what follows.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").ok();
}

/// CPU time of this process (user + system, all threads) in seconds, from /proc (10 ms ticks).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Each pool line spoken by each voice, 16 kHz, at the same loudness.
fn pool() -> [Vec<Vec<f32>>; 2] {
    let (voice, runtime) = common::piper_voice().expect("piper voice");
    init_onnxruntime(&runtime).expect("onnxruntime");
    let piper = PiperVoice::load(&voice).expect("piper loads");
    let level = |a: Vec<f32>| {
        let rms = (a.iter().map(|x| x * x).sum::<f32>() / a.len() as f32).sqrt();
        a.iter()
            .map(|x| x * 0.1 / rms.max(1e-6))
            .collect::<Vec<f32>>()
    };
    let joe = LINES
        .iter()
        .map(|t| {
            let (s, rate) = piper.speak(t, 1.0).expect("piper speaks");
            level(common::trim_silence(&common::resample(&s, rate, 16_000)))
        })
        .collect();
    let female = LINES
        .iter()
        .map(|t| {
            level(common::resample(
                &common::espeak_voice("en-us+f3", 160, t),
                22_050,
                16_000,
            ))
        })
        .collect();
    [joe, female]
}

/// A conversation of `secs` seconds written to `path` (music bed included); its lines, with
/// the true speaker.
fn conversation(path: &Path, pool: &[Vec<Vec<f32>>; 2], secs: u64) -> Vec<Segment> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let total = secs as usize * 16_000;
    let mut at = 0usize;
    let mut lines = Vec::new();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut who = 0;
    let push = |w: &mut hound::WavWriter<_>, at: &mut usize, s: f32| {
        let t = *at as f32 / 16_000.0;
        let bed = 0.003 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
            + 0.003 * (2.0 * std::f32::consts::PI * 277.2 * t).sin();
        w.write_sample(((s + bed).clamp(-1.0, 1.0) * 32767.0) as i16)
            .unwrap();
        *at += 1;
    };
    while at < total {
        let gap = 3_200 + (next() % 9_600) as usize;
        for _ in 0..gap {
            push(&mut w, &mut at, 0.0);
        }
        // Mostly alternate; sometimes the same speaker goes on.
        if next() % 4 != 0 {
            who = 1 - who;
        }
        let line = (next() % LINES.len() as u64) as usize;
        let start = at;
        for &s in &pool[who][line] {
            push(&mut w, &mut at, s);
        }
        let ms = |i: usize| i as u64 * 1000 / 16_000;
        lines
            .push(Segment::new(ms(start), ms(at), LINES[line]).with_speaker(Some(who.to_string())));
    }
    w.finalize().unwrap();
    lines
}

fn main() {
    let long_minutes: u64 = std::env::var("DIARIZE_LONG_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let encoder = Ge2eEncoder::from_data_dir(&DataDir::from_env().expect("data dir"))
        .unwrap_or_else(|e| panic!("run scripts/setup-models.sh: {e}"));
    let pool = pool();
    let dir = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("diarize, {threads} cores available");
    for minutes in [12, long_minutes] {
        let wav = dir.path().join(format!("speech-{minutes}.wav"));
        let truth = conversation(&wav, &pool, minutes * 60);
        let input: Vec<Segment> = truth.iter().map(|s| s.clone().with_speaker(None)).collect();
        reset_peak();
        let before = status_mb("VmRSS:");
        let (wall, cpu) = (Instant::now(), cpu_secs());
        let out = diarize(&encoder, &wav, &input, &DiarizeOptions::default()).expect("diarize");
        let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_secs() - cpu);
        let audio = (minutes * 60) as f64;
        // Lines right under the best naming of two speakers.
        let right = |swap: bool| {
            truth
                .iter()
                .zip(&out.segments)
                .filter(|(t, o)| {
                    let want = match (t.speaker.as_deref(), swap) {
                        (Some("0"), false) | (Some("1"), true) => "SPEAKER_1",
                        _ => "SPEAKER_2",
                    };
                    o.speaker.as_deref() == Some(want)
                })
                .count()
        };
        let right = right(false).max(right(true));
        println!(
            "  {minutes:>3} min, {} lines: {:.4}× the audio's duration (wall {wall:.1} s), CPU \
             {:.4}× ({cpu:.1} s), {} speakers, {right}/{} lines right, memory {before:.0} MB before, peak {:.0} MB",
            input.len(),
            wall / audio,
            cpu / audio,
            out.speakers.len(),
            truth.len(),
            status_mb("VmHWM:"),
        );
    }
}
