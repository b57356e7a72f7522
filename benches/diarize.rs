//! Diarization benchmark: the cost of finding who speaks each line, as a fraction of the audio's
//! duration (target ≤ 0.05 on 2 cores), on a 12-minute two-voice conversation over music, and the
//! peak memory of diarizing it and a longer one (memory must not grow with the input: lines are
//! read from the WAV a batch at a time). The conversations are built from a pool of lines spoken
//! by the Piper voice (male) and espeak-ng en-us+f3 (female), taking turns of 1–8 s after gaps of
//! 0.2–0.8 s, and streamed to disk, so the input's length does not weigh on the bench's own
//! memory. Before that, the encoder alone: seconds of CPU and of wall time per second of audio
//! to embed 3 s utterances whole (`embed`) and in windows (`embed_windows`, what diarization
//! calls). Run: `cargo bench --bench diarize` (release) or `cargo test --bench diarize` (dev
//! profile); `DIARIZE_LONG_MINUTES` sets the long input (60), `DIARIZE_ENCODER=ge2e` measures
//! the GE2E encoder instead of ECAPA-TDNN.

#[path = "../tests/local_common/mod.rs"]
mod common;
mod measure;

use std::time::Instant;

use common::conversation::{Pool, Voice, attribution_of, unattributed};
use dubber::models::DataDir;
use dubber::speakers::{DiarizeOptions, EcapaEncoder, Ge2eEncoder, SpeakerEncoder, diarize};
use measure::{cpu_secs, peak_mb, reset_peak, rss_mb};

fn main() {
    let long_minutes: u64 = std::env::var("DIARIZE_LONG_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let data = DataDir::from_env().expect("data dir");
    let encoder: Box<dyn SpeakerEncoder> = match std::env::var("DIARIZE_ENCODER").as_deref() {
        Ok("ge2e") => Box::new(Ge2eEncoder::from_data_dir(&data).unwrap_or_else(|e| panic!("{e}"))),
        _ => Box::new(EcapaEncoder::from_data_dir(&data).unwrap_or_else(|e| panic!("{e}"))),
    };
    let encoder = encoder.as_ref();
    let pool = Pool::new(&[Voice::Piper, Voice::Espeak("en-us+f3")]);
    let dir = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("diarize with {}, {threads} cores available", encoder.name());
    encoder_alone(encoder, &pool, dir.path());
    for minutes in [12, long_minutes] {
        let wav = dir.path().join(format!("speech-{minutes}.wav"));
        let turns = pool.stream(&wav, minutes * 60, minutes);
        let input = unattributed(&turns);
        reset_peak();
        let before = rss_mb();
        let (wall, cpu) = (Instant::now(), cpu_secs());
        let out = diarize(encoder, &wav, &input, &DiarizeOptions::default()).expect("diarize");
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

/// The encoder alone on 60 s of speech cut into 3 s utterances.
fn encoder_alone(encoder: &dyn SpeakerEncoder, pool: &Pool, dir: &std::path::Path) {
    let wav = dir.join("speech-alone.wav");
    pool.stream(&wav, 70, 1);
    let reader = hound::WavReader::open(&wav).expect("speech");
    let rate = reader.spec().sample_rate as usize;
    let audio: Vec<f32> = reader
        .into_samples::<i16>()
        .take(60 * rate)
        .map(|s| f32::from(s.expect("sample")) / 32_768.0)
        .collect();
    let utterances: Vec<&[f32]> = audio.chunks(3 * rate).collect();
    let secs = audio.len() as f64 / rate as f64;
    let (wall, cpu) = (Instant::now(), cpu_secs());
    encoder.embed(&utterances).expect("embed");
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_secs() - cpu);
    println!(
        "  encoder alone, {secs:.0} s in 3 s utterances, whole: {:.4} s per s of audio (wall), \
         CPU {:.4} s per s",
        wall / secs,
        cpu / secs
    );
    let (wall, cpu) = (Instant::now(), cpu_secs());
    encoder.embed_windows(&utterances).expect("embed windows");
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_secs() - cpu);
    println!(
        "  encoder alone, in windows: {:.4} s per s of audio (wall), CPU {:.4} s per s",
        wall / secs,
        cpu / secs
    );
}
