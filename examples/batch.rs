//! A batch with a concurrency limit — the Python API's
//! `process_tts_batch_async(..., max_concurrent=3)`, then the same batch through the
//! [`BatchRunner`](dubber::tts::BatchRunner) for per-line outcomes. A second run is answered from
//! the cache without a single request.
//!
//! ```sh
//! OPENAI_API_KEY=sk-... cargo run --example batch -- out_dir
//! ```

use std::path::PathBuf;

use dubber::tts::{
    BatchOptions, BatchRunner, Cache, OpenAiTts, Outcome, SynthRequest, synthesize_batch,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "tts-batch".to_string()),
    );
    let tts = OpenAiTts::from_env(None)?;
    let cache = Cache::open(dir.join("cache"))?;
    let template = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");

    // The Python API's shape: texts and output paths in, output paths back.
    let texts = ["Hello", "World", "Async TTS"];
    let outputs: Vec<PathBuf> = ["hello.wav", "world.wav", "async.wav"]
        .iter()
        .map(|name| dir.join(name))
        .collect();
    let written = synthesize_batch(&tts, &cache, &template, &texts, &outputs, 3).await?;
    println!("wrote {written:?}");

    // The runner: one outcome per line, in order, with what the run cost.
    let requests: Vec<SynthRequest> = texts.iter().map(|t| template.with_text(*t)).collect();
    let runner = BatchRunner::new(
        cache,
        BatchOptions {
            max_concurrent: 3,
            ..BatchOptions::default()
        },
    );
    let report = runner.run(&tts, &requests).await?;
    for (request, outcome) in requests.iter().zip(&report.outcomes) {
        match outcome {
            Outcome::Clip(clip) => println!(
                "{:>12}: {:.2} s {}",
                request.text,
                clip.duration.as_secs_f64(),
                if clip.from_cache { "(cached)" } else { "" }
            ),
            Outcome::Blank => println!("{:>12}: blank", request.text),
            Outcome::Failed { error, attempts } => {
                println!(
                    "{:>12}: failed after {attempts} attempts: {error}",
                    request.text
                )
            }
        }
    }
    println!(
        "{} requests, {} from the cache, {:.2} s",
        report.requests,
        report.cache_hits,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}
