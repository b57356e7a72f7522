//! One request to a file — the Python API's `tts_speak_openai_async`.
//!
//! ```sh
//! OPENAI_API_KEY=sk-... cargo run --example speak -- "Hello, world!" output.wav
//! # any OpenAI-compatible server:
//! OPENAI_BASE_URL=http://127.0.0.1:8000/v1 cargo run --example speak -- "Hello" hello.wav
//! ```

use std::path::PathBuf;

use dubber::tts::{OpenAiTts, SynthRequest, speak};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let text = args.next().unwrap_or_else(|| "Hello, world!".to_string());
    let out = PathBuf::from(args.next().unwrap_or_else(|| "output.wav".to_string()));

    let tts = OpenAiTts::from_env(None)?;
    let request = SynthRequest::new(text, "onyx", "gpt-4o-mini-tts");
    let clip = speak(&tts, &request, &out).await?;
    println!(
        "wrote {} ({:.2} s at {} Hz)",
        clip.path.display(),
        clip.duration.as_secs_f64(),
        clip.sample_rate
    );
    Ok(())
}
