//! `dubber run`: prep → synth → (burn) for one video, a list, or a folder; several at once with
//! `--jobs`, sharing one provider limit; one failing video does not stop the others.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use dubber::pipeline::run::{BeforeSynth, Dubbed, Engines};
use dubber::pipeline::{
    Burn, DubOptions, DubResult, PrepOptions, RunInputs, Workdir, dub_all, plan_jobs,
};

use super::flags::{BurnMode, SpeakersArgs, SttArgs, SynthFlags};
use super::output::{Event, Output};
use super::{config, voices};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Videos, or folders of videos, to dub.
    #[arg(value_name = "VIDEO", required = true)]
    pub videos: Vec<PathBuf>,
    /// Subtitles to import (one video only) [default: VIDEO's sibling .srt/.vtt/.json/.ass/.ssa/
    /// .sbv/.ttml/.dfxp, else the video is transcribed]
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    /// The subtitles' encoding, a WHATWG label (windows-1251, koi8-r, gbk, shift_jis, utf-16le,
    /// ...) [default: from a byte-order mark, else UTF-8 if valid, else detected]
    #[arg(long, value_name = "NAME", value_parser = super::flags::encoding_label)]
    pub subtitles_encoding: Option<String>,
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
    pub stt: SttArgs,
    #[command(flatten)]
    pub speakers: SpeakersArgs,
    /// Dub into English: Whisper translates the speech while it transcribes, offline (the
    /// original lines go to subs.orig.srt). Other languages: `prep --translate-to`, then `synth`.
    #[arg(long, value_name = "LANG")]
    pub translate_to: Option<String>,
    /// Output file (one video), or folder (several) [default: <stem>.dubbed.<ext> beside each video]
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Work directory (one video only) [default: ./<video stem>.dub]
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    #[command(flatten)]
    pub synth: SynthFlags,
}

/// What the transcriber is asked: `--translate-to English` makes it Whisper's translate task.
fn run_transcribe_options(args: &RunArgs) -> Result<dubber::stt::TranscribeOptions> {
    let mut options = config::transcribe_options(&args.stt);
    if let Some(target) = &args.translate_to {
        if dubber::stt::languages::code(target) != Some("en") {
            bail!(
                "run translates into English only (with Whisper, offline); for {target}, run \
                 `dubber prep VIDEO --translate-to {target}` (a chat model), then `dubber synth`"
            );
        }
        if args.subtitles.is_some() {
            bail!(
                "--translate-to translates speech: leave out --subtitles, or translate the \
                 subtitles with `dubber prep --subtitles FILE --translate-to {target}`"
            );
        }
        options.task = dubber::stt::Task::Translate;
    }
    Ok(options)
}

/// `--burn`, as the library takes it.
pub fn burn_of(args: &RunArgs) -> Option<Burn> {
    args.burn.map(|mode| match mode {
        BurnMode::Soft => Burn::Soft,
        BurnMode::Hard => Burn::Hard(Default::default()),
    })
}

/// The videos, subtitles, work directory and output as named on the command line.
pub fn run_inputs(args: &RunArgs) -> RunInputs {
    RunInputs {
        videos: args.videos.clone(),
        subtitles: args.subtitles.clone(),
        workdir: args.workdir.clone(),
        output: args.output.clone(),
    }
}

/// Every setting of one video's dub (what `dubber batch task` runs too).
pub fn dub_options(args: &RunArgs) -> Result<DubOptions> {
    let synth = config::synth_options(&args.synth, None)?;
    Ok(DubOptions {
        prep: PrepOptions {
            grouping: synth.grouping.clone(),
            split_sentences: false,
            force: args.force,
            skip_when_current: true,
            subtitles_encoding: args.subtitles_encoding.clone(),
            // Set per video by the library.
            casting: None,
            video: None,
            speakers: config::speaker_finding(&args.speakers),
        },
        transcribe: run_transcribe_options(args)?,
        synth,
        burn: burn_of(args),
    })
}

pub fn run(args: RunArgs, out: &Output) -> Result<()> {
    let jobs = plan_jobs(&run_inputs(&args), burn_of(&args).as_ref())?;
    let opts = dub_options(&args)?;
    let tts = voices::tts_engine(&args.synth.tts, &opts.synth.casting.default_voice)?;
    // Loaded once, and only when some video has no subtitles.
    let transcriber = match jobs.iter().any(|j| j.subtitles.is_none()) {
        true => Some(config::transcriber(&args.stt)?),
        false => None,
    };
    let engines = Engines {
        tts: &tts,
        transcriber: transcriber.as_deref(),
    };
    // Paid engines: say what each video's synthesis costs at most before its first request.
    let announce = |_: &Workdir, segments: &[dubber::Segment]| {
        let (estimate, minutes) = config::synth_estimate(&args.synth.tts, segments);
        out.announce_cost(&estimate, minutes);
    };
    let before_synth: Option<BeforeSynth<'_>> = (!args.synth.tts.no_tts).then_some(&announce);
    let progress = out.progress();
    let results = super::block_on(dub_all(
        &jobs,
        &engines,
        &opts,
        usize::from(args.jobs),
        &progress,
        before_synth,
    ))?;
    report(&results, out)
}

/// The warning of an unsure language detection, from the video's report.
fn language_warning(dubbed: &Dubbed) -> Option<&str> {
    dubbed.synth.report.language.as_ref()?.warning.as_deref()
}

/// Say how each video ended (a table for several), and fail if any video failed.
fn report(results: &[DubResult], out: &Output) -> Result<()> {
    let several = results.len() > 1;
    for r in results {
        let result = match &r.outcome {
            Ok(dubbed) => Ok(dubbed.output.as_path()),
            Err(e) => Err(format!("{e:#}")),
        };
        out.event(
            Event::VideoDone {
                video: &r.video,
                seconds: r.seconds,
                result,
                cast: r.outcome.as_ref().map_or(&[], |d| d.synth.cast.as_slice()),
                language_warning: r.outcome.as_ref().ok().and_then(language_warning),
            },
            || {
                if let (false, Ok(dubbed)) = (several, &r.outcome) {
                    println!("{}", dubbed.synth.report.human_summary());
                    super::output::print_cast(&dubbed.synth.cast);
                    println!("{}", dubbed.output.display());
                }
            },
        );
    }
    if several && !out.is_json() {
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
                Ok(dubbed) => eprintln!(
                    "{name:<32} {:<7} {:>8.1}  {}",
                    "ok",
                    r.seconds,
                    dubbed.output.display()
                ),
                Err(e) => eprintln!("{name:<32} {:<7} {:>8.1}  {e:#}", "FAILED", r.seconds),
            }
        }
        for r in results {
            if let Some(warning) = r.outcome.as_ref().ok().and_then(language_warning) {
                eprintln!("warning: {}: {warning}", r.video.display());
            }
        }
    }
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    match results {
        [only] => match &only.outcome {
            Err(e) => Err(anyhow::anyhow!("{e:#}")),
            Ok(_) => Ok(()),
        },
        _ if failed > 0 => bail!("{failed} of {} videos failed", results.len()),
        _ => Ok(()),
    }
}
