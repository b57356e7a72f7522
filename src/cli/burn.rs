//! `dubber burn`: subtitles into a video, as a stream (soft) or into the pixels (hard).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use dubber::media::{HardSubtitleStyle, SubtitleTrack};
use dubber::pipeline::burn::{burn, readable_tracks};
use dubber::pipeline::{Burn, output_beside};
use dubber::subtitles::ReadOptions;

use super::flags::{BurnMode, WorkdirArgs};
use super::output::{Event, Output};

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
    /// Encoding of the --subtitles files (a WHATWG label: windows-1251, koi8-r, gbk, shift_jis,
    /// ...) [default: detected]
    #[arg(long, value_name = "NAME")]
    pub subtitles_encoding: Option<String>,
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

pub fn run(args: BurnArgs, out: &Output) -> Result<()> {
    let workdir = args.workdir.for_video(&args.video);
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
    let how = match args.mode {
        BurnMode::Soft => Burn::Soft,
        BurnMode::Hard => Burn::Hard(HardSubtitleStyle {
            font_size: args.font_size,
            outline: args.outline,
            margin_v: args.margin_v,
            top: args.top,
            crf: args.crf,
            preset: args.preset.clone(),
        }),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| output_beside(&args.video, "subtitled", how.output_extension()));
    let tracks: Vec<SubtitleTrack> = files
        .iter()
        .enumerate()
        .map(|(i, path)| SubtitleTrack {
            path: path.clone(),
            language: args.languages.get(i).cloned(),
            title: None,
        })
        .collect();
    // Any format and encoding prep reads: converted to UTF-8 SRT for ffmpeg where needed.
    let read = ReadOptions {
        encoding: args.subtitles_encoding.clone(),
    };
    let tracks = readable_tracks(&workdir, &tracks, &read)?;
    burn(&args.video, &tracks, &how, &output)?;
    out.event(
        Event::Wrote {
            event: "burn_done",
            path: &output,
        },
        || println!("{}", output.display()),
    );
    Ok(())
}
