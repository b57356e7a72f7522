//! `dubber youtube`: description, chapters and tags for the upload, from subs.srt.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;
use dubber::llm::OpenAiChat;
use dubber::pipeline::synth::read_reviewed_subtitles;
use dubber::pipeline::youtube::{make_assets, write_assets};
use dubber::youtube::AssetsSource;

use super::config;
use super::flags::{LlmArgs, WorkdirArgs};
use super::output::{Event, Output};

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

pub fn run(args: YoutubeArgs, out: &Output) -> Result<()> {
    let workdir = args.workdir.for_video(&args.video);
    let segments = read_reviewed_subtitles(&workdir)?;
    let info = dubber::media::probe(&args.video)?;
    let video_ms = dubber::segment::secs_to_ms(info.target_duration_secs())
        .ok_or_else(|| anyhow!("{}: no usable duration", args.video.display()))?;
    let title = args.title.as_deref();
    let assets = if args.ai {
        let (model, cache) = config::chat(&args.llm, &workdir)?;
        super::block_on(make_assets(
            &segments,
            video_ms,
            title,
            Some((&model, Some(&cache))),
        ))?
    } else {
        super::block_on(make_assets::<OpenAiChat>(&segments, video_ms, title, None))?
    };
    let files =
        write_assets(&workdir, &assets).map_err(|(path, e)| anyhow!("{}: {e}", path.display()))?;
    if let AssetsSource::OfflineFallback { reason } = &assets.source {
        tracing::warn!("the model's assets were unusable, wrote the offline ones: {reason}");
    }
    let source = match &assets.source {
        AssetsSource::Offline => "offline",
        AssetsSource::Model => "model",
        AssetsSource::OfflineFallback { .. } => "offline_fallback",
    };
    out.event(
        Event::YoutubeDone {
            description: &files.description,
            chapters: &files.chapters,
            tags: &files.tags,
            source,
        },
        || {
            print!("{}", assets.chapters_text());
            for path in [&files.description, &files.chapters, &files.tags] {
                println!("{}", path.display());
            }
        },
    );
    Ok(())
}
