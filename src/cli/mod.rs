//! The binary's edge: clap arguments ([`flags`] and one file per subcommand), turned into library
//! configuration and engines once ([`config`]), results reported by [`output`]. Each subcommand
//! calls one library function; no subcommand calls another.

pub mod batch;
pub mod burn;
pub mod config;
pub mod data;
pub mod estimate;
pub mod flags;
pub mod models;
pub mod output;
pub mod prep;
pub mod run;
pub mod studio;
pub mod synth;
pub mod voices;
pub mod youtube;

use clap::{Args, Parser, Subcommand};

use output::Output;

/// Dub a video into new speech, aligned to the original timing.
#[derive(Debug, Parser)]
#[command(
    name = "dubber",
    version,
    about,
    long_about = "Dub a video into new speech, aligned to the original timing.\n\n\
        The work happens in stages over a work directory (default ./<video stem>.dub): \
        `prep` turns subtitles into subs.srt and a manifest for review.",
    after_help = "Examples:\n  \
        dubber prep talk.mp4 --subtitles talk.srt\n  \
        dubber prep talk.mp4 --subtitles talk.vtt --workdir /tmp/talk --sentences-per-chunk 3\n  \
        dubber burn talk.mp4 --mode hard --font-size 28\n\n\
        Exit codes: 0 success, 1 failure, 2 usage error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Print nothing but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Machine-readable progress: one JSON event a line on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import subtitles, normalise and group them: writes subs.srt, segments.json, manifest.json.
    Prep(prep::PrepArgs),
    /// Dub videos end to end: prep → synth → (burn); several at once with --jobs.
    Run(run::RunArgs),
    /// Synthesize subs.srt, fit it to the original timing, render and mux the dubbed video.
    Synth(synth::SynthArgs),
    /// Review the dub in the browser: fix a line's text, times or speaker, hear it re-rendered.
    Studio(studio::StudioArgs),
    /// The offline models in dubber's data directory: list them, or fetch more.
    Models(models::ModelsArgs),
    /// Add subtitles to a video: as a subtitle stream (soft) or drawn into the picture (hard).
    Burn(burn::BurnArgs),
    /// Write YouTube description, chapters and tags from subs.srt into <workdir>/youtube/.
    Youtube(youtube::YoutubeArgs),
    /// What a run will cost per stage (characters, minutes, tokens → $) before spending anything.
    Estimate(estimate::EstimateArgs),
    /// Dub a catalogue on a cluster: plan a manifest, run one task per video (Slurm job arrays,
    /// Kubernetes Indexed Jobs), submit, and follow each video's status.
    Batch(batch::BatchArgs),
}

/// Run the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let out = Output::new(&cli.global);
    match cli.command {
        Command::Prep(args) => prep::run(args, &out),
        Command::Run(args) => run::run(args, &out),
        Command::Synth(args) => synth::run(args, &out),
        Command::Studio(args) => studio::run(args, &out),
        Command::Burn(args) => burn::run(args, &out),
        Command::Models(args) => models::run(args, &out),
        Command::Youtube(args) => youtube::run(args, &out),
        Command::Estimate(args) => estimate::run(args, &out),
        Command::Batch(args) => batch::run(args, &out),
    }
}

/// Run a library stage to its end, or until Ctrl-C. Interrupted, it stops at once: files being
/// written are removed (finished ones were written atomically, so none is left half written), and
/// the process exits with 130. What was synthesized is in the cache, so a re-run resumes there.
pub fn block_on<F: std::future::Future>(work: F) -> anyhow::Result<F::Output> {
    use anyhow::Context;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let interrupted = runtime.block_on(async {
        tokio::select! {
            output = work => Ok(output),
            _ = tokio::signal::ctrl_c() => Err(()),
        }
    });
    match interrupted {
        Ok(output) => Ok(output),
        Err(()) => {
            dubber::fsutil::remove_live_temp_files();
            eprintln!("interrupted: finished work is kept; run the same command again to resume");
            // Exiting now: the runtime would wait for blocking work (an ffmpeg encode) to end.
            std::process::exit(130);
        }
    }
}
