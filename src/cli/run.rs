//! `dubber run`: prep → synth → (burn) for one video, a list, or a folder; several at once with
//! `--jobs`, sharing one provider limit; one failing video does not stop the others.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use dubber::media::{self, HardSubtitleStyle, SubtitleTrack};
use dubber::pipeline::synth::{SynthOptions, SynthOutcome, synth};
use dubber::pipeline::transcribe::transcribe_video;
use dubber::pipeline::{
    PrepOptions, Workdir, prep_from_subtitles, prep_from_transcript, prep_is_current,
};
use dubber::progress::Progress;
use dubber::stt::Transcriber;
use dubber::tts::{SharedLimit, Synthesizer};
use futures_util::StreamExt;
use tokio::sync::Semaphore;

use super::burn::{BurnMode, sibling_output};
use super::synth::{SynthArgs, build_engine};
use super::{GlobalArgs, common::GroupingArgs};

/// File extensions taken from a folder.
const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mkv", "mov", "webm", "m4v", "avi"];

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Videos, or folders of videos, to dub.
    #[arg(value_name = "VIDEO", required = true)]
    pub videos: Vec<PathBuf>,
    /// Subtitles to import (one video only) [default: VIDEO's sibling .srt/.vtt/.json, else the
    /// video is transcribed]
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    /// Videos processed at once (they share one --max-concurrent limit).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Add subtitles to the dubbed video as the last stage.
    #[arg(long, value_enum, value_name = "MODE")]
    pub burn: Option<BurnMode>,
    /// Redo every stage, even those whose inputs did not change (overwrites edits to subs.srt).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub stt: super::common::SttArgs,
    #[command(flatten)]
    pub synth: SynthArgsForRun,
}

/// The synth flags, as `run` takes them (VIDEO and -o are `run`'s own).
#[derive(Debug, Args)]
pub struct SynthArgsForRun {
    /// Output file (one video), or folder (several) [default: <stem>.dubbed.<ext> beside each video]
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Work directory (one video only) [default: ./<video stem>.dub]
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    #[command(flatten)]
    pub tts: super::synth::TtsArgs,
    #[command(flatten)]
    pub timeline: super::common::TimelineArgs,
    #[command(flatten)]
    pub grouping: GroupingArgs,
    /// The original audio under the new voice.
    #[arg(long, value_enum, default_value_t = super::synth::BackgroundArg::Duck)]
    pub background: super::synth::BackgroundArg,
    /// Keep the original audio as a second track.
    #[arg(long)]
    pub keep_original_track: bool,
    /// Language of the dub track (ISO 639-2).
    #[arg(long, value_name = "LANG")]
    pub language: Option<String>,
}

/// Expand folders into the video files they hold (sorted), keep files as given.
fn expand_videos(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut videos = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("{}: cannot list the folder", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                    })
                })
                .filter(|p| !p.to_string_lossy().contains(".dubbed."))
                .collect();
            found.sort();
            videos.extend(found);
        } else {
            videos.push(input.clone());
        }
    }
    if videos.is_empty() {
        bail!(
            "no videos found in {}",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(videos)
}

/// A subtitle file beside the video: `<stem>.srt`, `.vtt` or `.json`.
fn sibling_subtitles(video: &Path) -> Option<PathBuf> {
    ["srt", "vtt", "json"]
        .iter()
        .map(|ext| video.with_extension(ext))
        .find(|p| p.is_file())
}

/// One video's plan: where it works, what it reads, where it writes.
struct Job {
    video: PathBuf,
    workdir: Workdir,
    subtitles: Option<PathBuf>,
    output: PathBuf,
}

/// How one video ended.
struct JobResult {
    video: PathBuf,
    seconds: f64,
    outcome: Result<(SynthOutcome, PathBuf)>,
}

pub fn run(args: RunArgs, global: &GlobalArgs) -> Result<()> {
    let videos = expand_videos(&args.videos)?;
    let several = videos.len() > 1;
    if several && (args.subtitles.is_some() || args.synth.workdir.is_some()) {
        bail!(
            "--subtitles and --workdir name one video's files; with several videos, put <stem>.srt beside each video"
        );
    }
    if let Some(out) = args.synth.output.as_ref().filter(|_| several) {
        std::fs::create_dir_all(out)
            .with_context(|| format!("{}: cannot create the output folder", out.display()))?;
    }
    let jobs: Vec<Job> = videos
        .iter()
        .map(|video| {
            let ext = if args.burn == Some(BurnMode::Hard) {
                Some("mp4")
            } else {
                None
            };
            let default_out = sibling_output(video, "dubbed", ext);
            let output = match &args.synth.output {
                Some(o) if several => o.join(default_out.file_name().unwrap_or_default()),
                Some(o) => o.clone(),
                None => default_out,
            };
            Job {
                video: video.clone(),
                workdir: Workdir::for_video(video, args.synth.workdir.as_deref()),
                subtitles: args.subtitles.clone().or_else(|| sibling_subtitles(video)),
                output,
            }
        })
        .collect();

    // The synth options of every video: the same, but for the output path.
    let as_synth = SynthArgs {
        video: PathBuf::new(),
        output: None,
        workdir: super::WorkdirArgs { workdir: None },
        tts: args.synth.tts.clone(),
        timeline: args.synth.timeline.clone(),
        grouping: args.synth.grouping.clone(),
        background: args.synth.background,
        keep_original_track: args.synth.keep_original_track,
        language: args.synth.language.clone(),
        // Shortening needs a chat model: `run` leaves it to `synth --shorten` after review.
        shorten: false,
        llm: super::common::LlmArgs {
            llm_model: "gpt-4o-mini".into(),
            llm_base_url: None,
        },
    };
    let base_opts = as_synth.options(PathBuf::new())?;
    let prep_opts = PrepOptions {
        grouping: base_opts.grouping.clone(),
        split_sentences: false,
        force: args.force,
    };
    let progress = Progress::new(global.output_mode());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let engine = build_engine(&as_synth.tts)?;
    // Loaded once, for the videos that have no subtitles.
    let transcriber = match jobs.iter().any(|j| j.subtitles.is_none()) {
        true => Some(args.stt.transcriber()?),
        false => None,
    };
    let stt = Stt {
        transcriber: transcriber.as_deref(),
        options: args.stt.options(),
    };
    // Paid engines: say what each video's synthesis costs at most before its first request.
    let announce_fn =
        |workdir: &Workdir| super::synth::announce_cost(&as_synth, workdir, &base_opts, global);
    let announce: Option<&dyn Fn(&Workdir)> = (!args.synth.tts.no_tts).then_some(&announce_fn);
    let permits = Arc::new(Semaphore::new(usize::from(args.synth.tts.max_concurrent)));
    let shared = SharedLimit::new(&engine, permits);
    let results = runtime.block_on(
        futures_util::stream::iter(jobs.iter())
            .map(|job| {
                dub_one(
                    job, &shared, &stt, &base_opts, &prep_opts, args.burn, &progress, announce,
                )
            })
            .buffer_unordered(usize::from(args.jobs))
            .collect::<Vec<JobResult>>(),
    );
    report_results(&results, global, several)
}

/// The transcriber for videos without subtitles.
struct Stt<'a> {
    transcriber: Option<&'a dyn Transcriber>,
    options: dubber::stt::TranscribeOptions,
}

/// prep (unless current) → synth → burn, for one video.
#[allow(clippy::too_many_arguments)] // the parts of one job; a struct would only rename them
async fn dub_one<S: Synthesizer>(
    job: &Job,
    engine: &S,
    stt: &Stt<'_>,
    base: &SynthOptions,
    prep_opts: &PrepOptions,
    burn: Option<BurnMode>,
    progress: &Progress,
    announce: Option<&dyn Fn(&Workdir)>,
) -> JobResult {
    let started = Instant::now();
    let outcome = async {
        match &job.subtitles {
            Some(subs) if prep_opts.force || !prep_is_current(&job.workdir, subs, prep_opts) => {
                media::probe(&job.video)?;
                let outcome = prep_from_subtitles(&job.workdir, subs, prep_opts)?;
                for fix in &outcome.fixes {
                    progress.warn(
                        &job.video.display().to_string(),
                        &format!("{}:{fix}", subs.display()),
                    );
                }
            }
            Some(_) => tracing::info!("{}: prep is up to date", job.video.display()),
            None => {
                let Some(transcriber) = stt.transcriber else {
                    bail!("{}: no subtitles and no transcriber", job.video.display());
                };
                // The transcript is cached; prep itself keeps a person's edits to subs.srt.
                let segments =
                    transcribe_video(&job.video, &job.workdir, transcriber, &stt.options).await?;
                let hash = dubber::pipeline::state::sha256_hex(format!("{segments:?}").as_bytes());
                let state = dubber::pipeline::state::State::load(&job.workdir.state_json());
                if prep_opts.force || state.get("run.transcript_prepped") != Some(hash.as_str()) {
                    prep_from_transcript(&job.workdir, segments, prep_opts)?;
                    let mut state = dubber::pipeline::state::State::load(&job.workdir.state_json());
                    state.set("run.transcript_prepped", hash);
                    state.save(&job.workdir.state_json())?;
                }
            }
        }
        let dubbed = match burn {
            Some(_) => job.workdir.root().join(format!(
                "dubbed.{}",
                job.video
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("mp4")
            )),
            None => job.output.clone(),
        };
        if let Some(announce) = announce {
            announce(&job.workdir);
        }
        let opts = SynthOptions {
            output: Some(dubbed.clone()),
            ..base.clone()
        };
        let outcome = synth(&job.video, &job.workdir, engine, &opts, progress).await?;
        let final_out = match burn {
            None => dubbed,
            Some(mode) => {
                let subs = job.workdir.subs_srt();
                match mode {
                    BurnMode::Soft => {
                        let mut tracks = vec![SubtitleTrack {
                            path: subs,
                            language: base.mux.language.clone(),
                            title: None,
                        }];
                        let orig = job.workdir.subs_orig_srt();
                        if orig.exists() {
                            tracks.push(SubtitleTrack {
                                path: orig,
                                language: None,
                                title: Some("original".into()),
                            });
                        }
                        media::burn_soft(&dubbed, &tracks, &job.output)?
                    }
                    BurnMode::Hard => media::burn_hard(
                        &dubbed,
                        &subs,
                        &job.output,
                        &HardSubtitleStyle::default(),
                    )?,
                }
                job.output.clone()
            }
        };
        Ok((outcome, final_out))
    }
    .await;
    JobResult {
        video: job.video.clone(),
        seconds: started.elapsed().as_secs_f64(),
        outcome,
    }
}

/// Print each video's result (a table for several), and fail if any video failed.
fn report_results(results: &[JobResult], global: &GlobalArgs, several: bool) -> Result<()> {
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    if global.json {
        for r in results {
            let (status, detail) = match &r.outcome {
                Ok((_, out)) => ("ok", out.display().to_string()),
                Err(e) => ("failed", format!("{e:#}")),
            };
            dubber::progress::emit(serde_json::json!({
                "event": "video_done", "video": r.video, "status": status, "detail": detail, "seconds": r.seconds,
            }));
        }
    } else if several {
        eprintln!(
            "\n{:<32} {:<7} {:>8}  output / error",
            "video", "status", "seconds"
        );
        for r in results {
            let name = r
                .video
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            match &r.outcome {
                Ok((_, out)) => eprintln!(
                    "{name:<32} {:<7} {:>8.1}  {}",
                    "ok",
                    r.seconds,
                    out.display()
                ),
                Err(e) => eprintln!("{name:<32} {:<7} {:>8.1}  {e:#}", "FAILED", r.seconds),
            }
        }
    } else if let Some(r) = results.first()
        && let Ok((outcome, out)) = &r.outcome
        && !global.quiet
    {
        println!("{}", outcome.report.human_summary());
        println!("{}", out.display());
    }
    match (failed, results) {
        (0, _) => Ok(()),
        (_, [only]) => match &only.outcome {
            Err(e) => Err(anyhow::anyhow!("{e:#}")),
            Ok(_) => Ok(()),
        },
        (n, all) => bail!("{n} of {} videos failed", all.len()),
    }
}
