//! `dubber synth`: the reviewed subs.srt → a dubbed video, through a TTS engine.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use dubber::llm::LineEditor;
use dubber::pipeline::output_beside;
use dubber::pipeline::synth::{SynthContext, read_reviewed_subtitles, synth_in};

use super::flags::{LlmArgs, SynthFlags, WorkdirArgs};
use super::output::{Event, Output};
use super::{config, voices};

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The video to dub; its work directory must hold subs.srt (from `dubber prep`).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    /// The dubbed video [default: <video stem>.dubbed.<ext> beside the video]
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    #[command(flatten)]
    pub synth: SynthFlags,
    /// Have the chat model rewrite lines that do not fit even at --max-speed shorter, then
    /// synthesize them again (two rounds at most; report.json keeps the original text).
    #[arg(long)]
    pub shorten: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
}

pub fn run(args: SynthArgs, out: &Output) -> Result<()> {
    let workdir = args.workdir.for_video(&args.video);
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| output_beside(&args.video, "dubbed", None));
    let opts = config::synth_options(&args.synth, Some(output))?;
    // subs.srt is read once: priced here (before the engine, which may lack its key), spoken by
    // the context below, which probes, locks and opens the cache once.
    let segments = read_reviewed_subtitles(&workdir);
    if let (false, Ok(segments)) = (args.synth.tts.no_tts, &segments) {
        let (estimate, minutes) = config::synth_estimate(&args.synth.tts, segments);
        out.announce_cost(&estimate, minutes);
    }
    let engine = voices::tts_engine(&args.synth.tts, &opts.casting.default_voice)?;
    let context = super::block_on(SynthContext::with_subtitles(
        &args.video,
        &workdir,
        &opts,
        segments,
    ))??;
    let shortener = match args.shorten {
        true => {
            let (model, cache) = config::chat(&args.llm, &workdir)?;
            Some(LineEditor::new(model).with_cache(cache))
        }
        false => None,
    };
    let outcome = super::block_on(synth_in(
        context,
        &args.video,
        &workdir,
        &engine,
        &opts,
        &out.progress(),
        shortener.as_ref(),
    ))??;
    let report = workdir.report_json();
    out.event(
        Event::SynthDone {
            outcome: &outcome,
            report: report.clone(),
        },
        || {
            println!("{}", outcome.report.human_summary());
            super::output::print_cast(&outcome.cast);
            println!(
                "{} chunks: {} requests, {} from cache; report: {}",
                outcome.chunks,
                outcome.requests,
                outcome.cache_hits,
                report.display()
            );
            for failed in &outcome.silenced {
                println!(
                    "silenced line {}: {:?} ({})",
                    failed.index + 1,
                    failed.text,
                    failed.error
                );
            }
            if let Some(path) = &outcome.output {
                println!("{}", path.display());
            }
        },
    );
    Ok(())
}
