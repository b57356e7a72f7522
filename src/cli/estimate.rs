//! `dubber estimate`: what a run will cost, per stage, before anything is spent.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;
use dubber::cost::{Engine, PriceTable, RunPlan, estimate};
use dubber::llm::EditOptions;

use super::config;
use super::flags::{LlmArgs, Provider, WorkdirArgs};
use super::output::{Event, Output};

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// The video (its audio length is read when it exists; names the work directory).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    /// Subtitles to price [default: the work directory's subs.srt if any; else text is assumed
    /// from the audio length].
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    /// The subtitles' encoding, a WHATWG label (windows-1251, koi8-r, gbk, ...) [default: detected]
    #[arg(long, value_name = "NAME", value_parser = super::flags::encoding_label)]
    pub subtitles_encoding: Option<String>,
    /// TTS provider (a local engine costs nothing).
    #[arg(long = "tts", value_parser = super::flags::tts_provider(), value_name = "P", default_value = "openai")]
    pub tts: Provider,
    /// TTS model [default: gpt-4o-mini-tts for openai, eleven_multilingual_v2 for elevenlabs]
    #[arg(long, value_name = "MODEL")]
    pub tts_model: Option<String>,
    /// Transcription engine as PROVIDER or PROVIDER/MODEL (openai means openai/whisper-1); omit
    /// when the subtitles exist.
    #[arg(long, value_name = "S")]
    pub stt: Option<String>,
    /// Price the chat model's polish pass.
    #[arg(long)]
    pub polish: bool,
    /// Price a translation into this language.
    #[arg(long, value_name = "LANG")]
    pub translate_to: Option<String>,
    /// A TOML or JSON price file overriding the built-in list prices.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// `openai` → `openai/whisper-1`; `provider/model` as given.
fn stt_engine(spec: &str) -> Engine {
    match spec.split_once('/') {
        Some((provider, model)) => Engine::new(provider, model),
        None if spec == "openai" => Engine::new("openai", "whisper-1"),
        None => Engine::new(spec, "*"),
    }
}

pub fn run(args: EstimateArgs, out: &Output) -> Result<()> {
    let workdir = args.workdir.for_video(&args.video);
    let prices = match &args.prices {
        Some(path) => PriceTable::with_overrides(path)?,
        None => PriceTable::default(),
    };
    let subtitles_path = args.subtitles.clone().or_else(|| {
        let reviewed = workdir.subs_srt();
        reviewed.exists().then_some(reviewed)
    });
    let segments = match &subtitles_path {
        Some(path) => {
            let read = dubber::subtitles::ReadOptions {
                encoding: args.subtitles_encoding.clone(),
            };
            let file = dubber::subtitles::read_file_with(path, &read)?;
            for note in &file.notes {
                tracing::warn!("{}:{note}", path.display());
            }
            Some(dubber::subtitles::normalize(file.cues).0)
        }
        None => None,
    };
    let audio_ms = if args.video.exists() {
        let info = dubber::media::probe(&args.video)?;
        dubber::segment::secs_to_ms(info.duration_secs)
            .ok_or_else(|| anyhow!("{}: no usable duration", args.video.display()))?
    } else {
        match &segments {
            Some(s) => s.last().map_or(0, |s| s.end_ms),
            None => {
                return Err(anyhow!(
                    "{}: no such file; pass --subtitles FILE to estimate from subtitles alone",
                    args.video.display()
                ));
            }
        }
    };
    let chat =
        (args.polish || args.translate_to.is_some()).then(|| config::chat_cost_engine(&args.llm));
    let plan = RunPlan {
        segments: segments.as_deref(),
        audio_ms,
        stt: args.stt.as_deref().map(stt_engine),
        chat,
        polish: args.polish,
        translate_to: args.translate_to.clone(),
        tts: Some(config::tts_cost_engine(
            args.tts,
            args.tts_model.as_deref(),
            None,
        )),
        edit_options: EditOptions::default(),
    };
    let estimate = estimate(&plan, &prices);
    let audio_minutes = audio_ms as f64 / 60_000.0;
    out.event(
        Event::Estimate {
            estimate: &estimate,
            audio_minutes,
        },
        || {
            println!(
                "{} of audio{}",
                dubber::youtube::format_timestamp(audio_ms / 1000),
                match &subtitles_path {
                    Some(p) => format!(", subtitles {}", p.display()),
                    None => ", text assumed from the audio length".into(),
                }
            );
            print!("{estimate}");
        },
    );
    Ok(())
}
