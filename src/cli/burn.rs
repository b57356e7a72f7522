//! `dubber burn`: subtitles into a video, as a stream (soft) or into the pixels (hard).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use dubber::media::{self, HardSubtitleStyle, SubtitleTrack};
use dubber::pipeline::Workdir;

use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BurnMode {
    /// Add subtitle streams (mov_text in MP4/MOV, SRT in MKV, WebVTT in WebM); no re-encode.
    Soft,
    /// Draw the first subtitle file into the picture (re-encodes the video with libx264).
    Hard,
}

#[derive(Debug, Args)]
pub struct BurnArgs {
    /// The video to add subtitles to.
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    /// Subtitle files to add, in order; repeat for several tracks
    /// [default: the work directory's subs.srt, and subs.orig.srt when prep translated]
    #[arg(long, value_name = "FILE")]
    pub subtitles: Vec<PathBuf>,
    /// Language of each --subtitles file (ISO 639-2, e.g. eng, deu), in the same order.
    #[arg(long = "subtitle-lang", value_name = "LANG")]
    pub languages: Vec<String>,
    /// soft: a subtitle stream; hard: drawn into the picture.
    #[arg(long, value_enum, default_value_t = BurnMode::Soft)]
    pub mode: BurnMode,
    /// Output file [default: <video stem>.subtitled.<ext> beside the video]
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    /// Hard subtitles: font size.
    #[arg(long, default_value_t = 24)]
    pub font_size: u32,
    /// Hard subtitles: outline width.
    #[arg(long, default_value_t = 2)]
    pub outline: u32,
    /// Hard subtitles: distance from the bottom (or top) edge.
    #[arg(long, default_value_t = 20)]
    pub margin_v: u32,
    /// Hard subtitles: draw at the top of the picture.
    #[arg(long)]
    pub top: bool,
    /// Hard subtitles: x264 quality (lower is better, 18–28 is sensible).
    #[arg(long, default_value_t = 20)]
    pub crf: u8,
    /// Hard subtitles: x264 preset (ultrafast … veryslow).
    #[arg(long, default_value = "medium")]
    pub preset: String,
}

/// `<stem>.<tag>.<ext>` beside `video`.
pub fn sibling_output(video: &Path, tag: &str, ext: Option<&str>) -> PathBuf {
    let stem = video
        .file_stem()
        .map_or_else(|| "video".into(), |s| s.to_string_lossy().into_owned());
    let ext = ext
        .map(str::to_string)
        .or_else(|| video.extension().map(|e| e.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "mp4".into());
    video.with_file_name(format!("{stem}.{tag}.{ext}"))
}

pub fn run(args: BurnArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let files = if args.subtitles.is_empty() {
        let mut files = vec![workdir.subs_srt()];
        files.extend(Some(workdir.subs_orig_srt()).filter(|p| p.exists()));
        files
    } else {
        args.subtitles.clone()
    };
    for file in &files {
        if !file.exists() {
            bail!(
                "{}: no such subtitle file (run `dubber prep` first, or pass --subtitles)",
                file.display()
            );
        }
    }
    if args.languages.len() > files.len() {
        bail!(
            "{} --subtitle-lang values for {} subtitle files",
            args.languages.len(),
            files.len()
        );
    }
    let output = match (&args.output, args.mode) {
        (Some(o), _) => o.clone(),
        (None, BurnMode::Soft) => sibling_output(&args.video, "subtitled", None),
        (None, BurnMode::Hard) => sibling_output(&args.video, "subtitled", Some("mp4")),
    };
    match args.mode {
        BurnMode::Soft => {
            let tracks: Vec<SubtitleTrack> = files
                .iter()
                .enumerate()
                .map(|(i, path)| SubtitleTrack {
                    path: path.clone(),
                    language: args.languages.get(i).cloned(),
                    title: None,
                })
                .collect();
            media::burn_soft(&args.video, &tracks, &output)?;
        }
        BurnMode::Hard => {
            let style = HardSubtitleStyle {
                font_size: args.font_size,
                outline: args.outline,
                margin_v: args.margin_v,
                top: args.top,
                crf: args.crf,
                preset: args.preset.clone(),
            };
            media::burn_hard(&args.video, &files[0], &output, &style)?;
        }
    }
    if !global.quiet {
        println!("{}", output.display());
    }
    Ok(())
}
