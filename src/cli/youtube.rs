//! `dubber youtube`: description, chapters and tags for the upload, from subs.srt.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use dubber::llm::OpenAiChat;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::read_reviewed_subtitles;
use dubber::pipeline::youtube::{make_assets, write_assets};
use dubber::youtube::AssetsSource;

use super::common::LlmArgs;
use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Args)]
pub struct YoutubeArgs {
    /// The video (its length bounds the chapters; names the work directory).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    /// Have the chat model write topic chapters, the description and tags (validated; the
    /// offline ones are used when its answer breaks YouTube's rules).
    #[arg(long)]
    pub ai: bool,
    /// Title put at the top of the description.
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

pub fn run(args: YoutubeArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let segments = read_reviewed_subtitles(&workdir)?;
    let info = dubber::media::probe(&args.video)?;
    let video_ms = dubber::segment::secs_to_ms(info.target_duration_secs())
        .ok_or_else(|| anyhow!("{}: no usable duration", args.video.display()))?;
    let title = args.title.as_deref();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let assets = if args.ai {
        let (model, cache) = args.llm.open(&workdir)?;
        runtime.block_on(make_assets(
            &segments,
            video_ms,
            title,
            Some((&model, Some(&cache))),
        ))
    } else {
        runtime.block_on(make_assets::<OpenAiChat>(&segments, video_ms, title, None))
    };
    let files =
        write_assets(&workdir, &assets).map_err(|(path, e)| anyhow!("{}: {e}", path.display()))?;
    if let AssetsSource::OfflineFallback { reason } = &assets.source {
        tracing::warn!("the model's assets were unusable, wrote the offline ones: {reason}");
    }
    if global.json {
        dubber::progress::emit(serde_json::json!({
            "event": "youtube_done",
            "description": files.description,
            "chapters": files.chapters,
            "tags": files.tags,
            "source": match &assets.source {
                AssetsSource::Offline => "offline",
                AssetsSource::Model => "model",
                AssetsSource::OfflineFallback { .. } => "offline_fallback",
            },
        }));
    } else if !global.quiet {
        print!("{}", assets.chapters_text());
        for path in [&files.description, &files.chapters, &files.tags] {
            println!("{}", path.display());
        }
    }
    Ok(())
}
