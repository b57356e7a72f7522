//! Single calls in the shape of the Python API: [`speak`] (one request to one file) and
//! [`synthesize_batch`] (texts in, output files out).
//!
//! Contract: both write their files atomically; [`speak`] makes one attempt without the cache,
//! [`synthesize_batch`] goes through a [`BatchRunner`] and its cache (retries, adaptive limit)
//! and reports lines that failed after all the others are written.
//!
//! Why separate: they are thin adapters over the runner and an engine for callers porting code,
//! not part of the runner's machinery; the runner does not know they exist.

use std::path::{Path, PathBuf};

use super::batch::{BatchOptions, BatchRunner};
use super::cache::{Cache, CachedClip};
use super::engine::Synthesizer;
use super::error::{SynthError, TtsError};
use super::report::Outcome;
use super::request::SynthRequest;
use crate::fsutil::write_atomic;

/// Synthesize one request to `out_path` as a 16-bit WAV (one attempt, no cache): the Python
/// API's `tts_speak_openai_async`. The file is written atomically.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use dubber::tts::{OpenAiTts, SynthRequest, speak};
/// let tts = OpenAiTts::from_env(None)?;
/// let req = SynthRequest::new("Hello, world!", "onyx", "gpt-4o-mini-tts");
/// let clip = speak(&tts, &req, "output.wav".as_ref()).await?;
/// println!("{:.2} s", clip.duration.as_secs_f64());
/// # Ok(()) }
/// ```
pub async fn speak<S: Synthesizer>(
    synth: &S,
    req: &SynthRequest,
    out_path: &Path,
) -> Result<CachedClip, TtsError> {
    if req.text.trim().is_empty() {
        return Err(TtsError::Usage(
            "nothing to say: the text is blank".to_string(),
        ));
    }
    let audio = synth.synthesize(req).await?;
    let pcm = audio
        .decode()
        .map_err(|message| TtsError::Synth(SynthError::InvalidAudio { message }))?;
    let wav = pcm.to_wav().map_err(|message| TtsError::InvalidAudio {
        path: out_path.to_path_buf(),
        message,
    })?;
    write_atomic(out_path, &wav).map_err(|source| TtsError::Write {
        path: out_path.to_path_buf(),
        source,
    })?;
    Ok(CachedClip {
        path: out_path.to_path_buf(),
        duration: pcm.duration(),
        sample_rate: pcm.sample_rate,
        from_cache: false,
    })
}

/// Synthesize `texts` with the settings of `template` (its text is ignored), at most
/// `max_concurrent` in flight, through `cache`, and copy each clip to the matching output path —
/// the Python API's `process_tts_batch_async`. Returns the output paths.
///
/// Lines that fail after retries do not stop the others; the error lists them once every other
/// line is written. A blank text is a usage error (there is nothing to write for it); use
/// [`BatchRunner`] directly for per-line outcomes, blank lines and progress control.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use dubber::tts::{Cache, OpenAiTts, SynthRequest, synthesize_batch};
/// let tts = OpenAiTts::from_env(None)?;
/// let template = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
/// let texts = ["Hello", "World", "Async TTS"];
/// let outputs = ["hello.wav", "world.wav", "async.wav"];
/// let cache = Cache::open(".dubber-cache")?;
/// synthesize_batch(&tts, &cache, &template, &texts, &outputs, 3).await?;
/// # Ok(()) }
/// ```
pub async fn synthesize_batch<S, T, P>(
    synth: &S,
    cache: &Cache,
    template: &SynthRequest,
    texts: &[T],
    output_paths: &[P],
    max_concurrent: usize,
) -> Result<Vec<PathBuf>, TtsError>
where
    S: Synthesizer,
    T: AsRef<str>,
    P: AsRef<Path>,
{
    if texts.len() != output_paths.len() {
        return Err(TtsError::Usage(format!(
            "{} texts but {} output paths",
            texts.len(),
            output_paths.len()
        )));
    }
    if let Some(i) = texts.iter().position(|t| t.as_ref().trim().is_empty()) {
        return Err(TtsError::Usage(format!("text {} is blank", i + 1)));
    }
    let requests: Vec<SynthRequest> = texts
        .iter()
        .map(|t| template.with_text(t.as_ref()))
        .collect();
    let runner = BatchRunner::new(
        cache.clone(),
        BatchOptions {
            max_concurrent,
            ..BatchOptions::default()
        },
    );
    let report = runner.run(synth, &requests).await?;
    let mut written = Vec::with_capacity(texts.len());
    for (outcome, out) in report.outcomes.iter().zip(output_paths) {
        if let Outcome::Clip(clip) = outcome {
            let out = out.as_ref();
            let bytes = std::fs::read(&clip.path).map_err(|source| TtsError::Cache {
                path: clip.path.clone(),
                source,
            })?;
            write_atomic(out, &bytes).map_err(|source| TtsError::Write {
                path: out.to_path_buf(),
                source,
            })?;
            written.push(out.to_path_buf());
        }
    }
    if report.failed.is_empty() {
        Ok(written)
    } else {
        Err(TtsError::Failed(report.failed))
    }
}
