//! The youtube stage: `subs.srt` and the video's length in, `youtube/description.md`,
//! `youtube/chapters.txt` and `youtube/tags.txt` out. Offline by default; a chat model may write
//! them instead, validated against YouTube's rules with the offline assets as fallback.

use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::llm::{ChatModel, ReplyCache};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::youtube::{self, YoutubeAssets};

/// Replies a model gets to satisfy the chapter rules before the offline assets are used.
pub const AI_MAX_TRIES: usize = 3;

/// The three files written.
#[derive(Debug, Clone)]
pub struct YoutubeFiles {
    pub description: PathBuf,
    pub chapters: PathBuf,
    pub tags: PathBuf,
}

/// Assets from `segments` of a video `video_ms` long: by `model` when given (falling back to the
/// offline ones when it fails), else offline.
pub async fn make_assets<M: ChatModel>(
    segments: &[Segment],
    video_ms: u64,
    title: Option<&str>,
    model: Option<(&M, Option<&ReplyCache>)>,
) -> YoutubeAssets {
    match model {
        Some((model, cache)) => {
            youtube::ai_assets(model, cache, segments, video_ms, title, AI_MAX_TRIES).await
        }
        None => youtube::offline_assets(segments, video_ms, title),
    }
}

/// Write `assets` into the work directory's `youtube/`.
pub fn write_assets(
    workdir: &Workdir,
    assets: &YoutubeAssets,
) -> Result<YoutubeFiles, (PathBuf, std::io::Error)> {
    let dir = workdir.youtube_dir();
    std::fs::create_dir_all(&dir).map_err(|e| (dir.clone(), e))?;
    let files = YoutubeFiles {
        description: dir.join("description.md"),
        chapters: dir.join("chapters.txt"),
        tags: dir.join("tags.txt"),
    };
    let write = |path: &Path, text: &str| {
        fsutil::write_atomic(path, text.as_bytes()).map_err(|e| (path.to_path_buf(), e))
    };
    write(&files.description, &assets.description)?;
    write(&files.chapters, &assets.chapters_text())?;
    write(&files.tags, &assets.tags_text())?;
    Ok(files)
}
