//! A custom pipeline building a timeline — the Python API's `custom_async_pipeline`
//! (`make_synth_openai_batch_async` + `build_timeline_sentences_async`): subtitles → sentence
//! chunks → concurrent synthesis through the cache → a track exactly as long as the video, with
//! the report of how every line was fitted. Offline, with espeak-ng.
//!
//! ```sh
//! cargo run --example custom_pipeline -- examples/sample.srt 20 out.wav
//! ```

use std::path::PathBuf;

use dubber::progress::{OutputMode, Progress};
use dubber::subtitles;
use dubber::text::{GroupOptions, chunks_for};
use dubber::timeline::{ClipFiles, Policy, TrimSilence, build_track};
use dubber::tts::{BatchOptions, BatchRunner, Cache, EspeakTts, SynthRequest};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let srt = PathBuf::from(args.next().unwrap_or_else(|| "examples/sample.srt".into()));
    let video_secs: f64 = args.next().map_or(Ok(20.0), |s| s.parse())?;
    let out = PathBuf::from(args.next().unwrap_or_else(|| "custom-pipeline.wav".into()));

    let (segments, _fixes) = subtitles::normalize(subtitles::read_file(&srt)?);
    let chunks = chunks_for(&segments, &GroupOptions::default());

    let engine = EspeakTts::new("en-us")?;
    let template = SynthRequest::new("", "en-us", "espeak-ng");
    let requests: Vec<SynthRequest> = chunks
        .iter()
        .map(|c| template.with_text(c.text.clone()))
        .collect();
    // A progress bar on a terminal; without `progress` the runner shows nothing.
    let stage =
        Progress::new(OutputMode::Auto).stage("sample", "synthesize", requests.len() as u64);
    let runner = BatchRunner::new(
        Cache::open("custom-pipeline-cache")?,
        BatchOptions {
            max_concurrent: 2,
            progress: Some(stage.clone()),
            ..BatchOptions::default()
        },
    );
    let result = runner.run(&engine, &requests).await?;
    stage.finish();

    let mut clips = TrimSilence::new(ClipFiles {
        paths: result
            .outcomes
            .iter()
            .map(|o| o.clip().map(|c| c.path.clone()))
            .collect(),
    });
    let report = build_track(&chunks, &mut clips, video_secs, &Policy::default(), &out)?;
    println!("{}", report.human_summary());
    println!("{}", out.display());
    Ok(())
}
