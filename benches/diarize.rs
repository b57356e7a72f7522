//! Diarization benchmark: the cost of finding who speaks each line, as a fraction of the audio's
//! duration (target ≤ 0.05 on 2 cores), on a 12-minute two-voice conversation over music, and the
//! peak memory of diarizing it and a longer one (memory must not grow with the input: lines are
//! read from the WAV a batch at a time). The conversations are built from a pool of lines spoken
//! by the Piper voice (male) and espeak-ng en-us+f3 (female), taking turns of 1–8 s after gaps of
//! 0.2–0.8 s, and streamed to disk, so the input's length does not weigh on the bench's own
//! memory. Run: `cargo bench --bench diarize` (release) or `cargo test --bench diarize` (dev
//! profile); `DIARIZE_LONG_MINUTES` sets the long input (60).

#[path = "../tests/local_common/mod.rs"]
mod common;
mod measure;

use std::time::Instant;

use common::conversation::{Pool, Voice, attribution_of, unattributed};
use dubber::models::DataDir;
use dubber::speakers::{DiarizeOptions, Ge2eEncoder, diarize};
use measure::{cpu_secs, peak_mb, reset_peak, rss_mb};

fn main() {
    let long_minutes: u64 = std::env::var("DIARIZE_LONG_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let encoder = Ge2eEncoder::from_data_dir(&DataDir::from_env().expect("data dir"))
        .unwrap_or_else(|e| panic!("run scripts/setup-models.sh: {e}"));
    let pool = Pool::new(&[Voice::Piper, Voice::Espeak("en-us+f3")]);
    let dir = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("diarize, {threads} cores available");
    for minutes in [12, long_minutes] {
        let wav = dir.path().join(format!("speech-{minutes}.wav"));
        let turns = pool.stream(&wav, minutes * 60, minutes);
        let input = unattributed(&turns);
        reset_peak();
        let before = rss_mb();
        let (wall, cpu) = (Instant::now(), cpu_secs());
        let out = diarize(&encoder, &wav, &input, &DiarizeOptions::default()).expect("diarize");
        let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_secs() - cpu);
        let audio = turns.last().map_or(0, |t| t.end_ms) as f64 / 1000.0;
        let right = attribution_of(&turns, &out.segments);
        println!(
            "  {minutes:>3} min, {} lines: {:.4}× the audio's duration (wall {wall:.1} s), CPU \
             {:.4}× ({cpu:.1} s), {} speakers, {}/{} lines right, memory {before:.0} MB before, \
             peak {:.0} MB",
            input.len(),
            wall / audio,
            cpu / audio,
            out.speakers.len(),
            right.right,
            right.of,
            peak_mb(),
        );
    }
}
