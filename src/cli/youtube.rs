//! `dubber youtube`: description, chapters and tags for publishing, from the reviewed subtitles.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use dubber::llm::{ChatConfig, OpenAiChat, ReplyCache};
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::read_reviewed_subtitles;
use dubber::youtube::{self, AssetsSource};

use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Args)]
pub struct YoutubeArgs {
    /// The video (its work directory must hold subs.srt).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    /// Title to open the description with.
    #[arg(long)]
    pub title: Option<String>,
    /// Ask the chat model for topic chapters, a description and tags (validated against YouTube's
    /// rules; the offline ones are used when its answer breaks them).
    #[arg(long)]
    pub ai: bool,
    /// Chat model for --ai.
    #[arg(long, value_name = "MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// Base URL of an OpenAI-compatible chat server (else OPENAI_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,
}

pub fn run(args: YoutubeArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let segments = read_reviewed_subtitles(&workdir)?;
    let video_ms = match dubber::media::probe(&args.video) {
        Ok(info) => (info.target_duration_secs() * 1000.0).round() as u64,
        // Without the video, the subtitles' end is the best length there is.
        Err(_) => segments.last().map_or(0, |s| s.end_ms),
    };
    let assets = if args.ai {
        let model = OpenAiChat::new(ChatConfig::from_env(
            args.llm_model.clone(),
            args.llm_base_url.clone(),
        ))?;
        let cache = ReplyCache::new(workdir.llm_cache_dir())?;
        let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        runtime.block_on(youtube::ai_assets(
            &model,
            Some(&cache),
            &segments,
            video_ms,
            args.title.as_deref(),
            3,
        ))
    } else {
        youtube::offline_assets(&segments, video_ms, args.title.as_deref())
    };
    if let AssetsSource::OfflineFallback { reason } = &assets.source {
        tracing::warn!("the chat model's assets were unusable ({reason}); wrote the offline ones");
    }
    let dir = workdir.youtube_dir();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        dubber::fsutil::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))
    };
    write("description.md", &assets.description)?;
    write("chapters.txt", &assets.chapters_text())?;
    write("tags.txt", &assets.tags_text())?;
    if !global.quiet {
        println!("{}", dir.display());
    }
    Ok(())
}
