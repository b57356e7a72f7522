//! Several videos at once sharing one provider limit — the counterpart of the Python API's
//! `process_videos_async`: each video's synth stage runs concurrently, and one shared limit
//! (`BatchOptions::shared_limit`) keeps the requests of all of them together under one
//! `max_concurrent`. Each video needs a work
//! directory prepared by `dubber prep` (its `subs.srt`). Offline, with espeak-ng.
//!
//! ```sh
//! cargo run --example many_videos -- a.mp4 b.mp4 c.mp4
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use dubber::media::MuxOptions;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::{Background, SynthOptions, synth};
use dubber::progress::{OutputMode, Progress};
use dubber::text::GroupOptions;
use dubber::timeline::Policy;
use dubber::tts::{BatchOptions, EspeakTts, SynthRequest};
use futures_util::future::join_all;
use tokio::sync::Semaphore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let videos: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let engine = EspeakTts::new("en-us")?;
    // At most 4 requests in flight across all videos.
    let shared = Arc::new(Semaphore::new(4));
    let progress = Progress::new(OutputMode::Auto);
    let jobs = videos.iter().map(|video| {
        let (engine, shared, progress) = (&engine, &shared, &progress);
        async move {
            let workdir = Workdir::for_video(video, None);
            let opts = SynthOptions {
                casting: Default::default(),
                grouping: GroupOptions::default(),
                policy: Policy::default(),
                request: SynthRequest::new("", "en-us", "espeak-ng"),
                batch: BatchOptions {
                    max_concurrent: 4,
                    shared_limit: Some(Arc::clone(shared)),
                    ..BatchOptions::default()
                },
                allow_silence: false,
                background: Background::Duck,
                ducking: Default::default(),
                mux: MuxOptions::default(),
                output: Some(video.with_extension("dubbed.mp4")),
            };
            (video, synth(video, &workdir, engine, &opts, progress).await)
        }
    });
    for (video, result) in join_all(jobs).await {
        match result {
            Ok(outcome) => println!("{}: {}", video.display(), outcome.report.human_summary()),
            Err(e) => eprintln!("{}: {e}", video.display()),
        }
    }
    Ok(())
}
