//! `dubber estimate`: what a run will cost, per stage, before anything is spent; and the helper
//! that paid stages (`synth`, `run`) call to print the same estimate before their first request.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::Args;
use dubber::cost::{Engine, Estimate, PriceTable, RunPlan, estimate};
use dubber::llm::EditOptions;
use dubber::pipeline::Workdir;
use dubber::segment::Segment;

use super::common::LlmArgs;
use super::{GlobalArgs, WorkdirArgs};

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
    /// TTS provider (openai, elevenlabs, or a local engine, which costs nothing).
    #[arg(long = "tts", value_name = "P", default_value = "openai")]
    pub tts: String,
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

/// The default model of a TTS provider, as synth uses it.
pub fn default_tts_model(provider: &str) -> String {
    match provider {
        "openai" => "gpt-4o-mini-tts".into(),
        "elevenlabs" => dubber::tts::elevenlabs::DEFAULT_MODEL.into(),
        _ => "*".into(),
    }
}

/// `openai` → `openai/whisper-1`; `provider/model` as given.
fn stt_engine(spec: &str) -> Engine {
    match spec.split_once('/') {
        Some((provider, model)) => Engine::new(provider, model),
        None if spec == "openai" => Engine::new("openai", "whisper-1"),
        None => Engine::new(spec, "*"),
    }
}

/// The built-in prices, with `path`'s overrides when given.
pub fn price_table(path: Option<&Path>) -> Result<PriceTable> {
    Ok(match path {
        Some(path) => PriceTable::with_overrides(path)?,
        None => PriceTable::default(),
    })
}

/// Print `estimate` before paid work starts: the table on stderr (stdout stays the command's), or
/// an `estimate` event under `--json`; nothing under `--quiet` or when every stage is free.
pub fn announce(estimate: &Estimate, global: &GlobalArgs) {
    let free = estimate.total_usd() == 0.0 && estimate.unpriced().next().is_none();
    if global.quiet || free {
        return;
    }
    if global.json {
        dubber::progress::emit(serde_json::json!({
            "event": "estimate",
            "total_usd": estimate.total_usd(),
            "stages": estimate.stages.iter().map(|s| serde_json::json!({
                "stage": s.stage,
                "engine": s.engine,
                "usd": s.usd,
            })).collect::<Vec<_>>(),
        }));
    } else {
        eprint!("Estimated cost before synthesis:\n{estimate}");
    }
}

/// The estimate of synthesizing `segments` with `tts` (what `synth` prints before its first
/// request).
pub fn synth_estimate(segments: &[Segment], tts: Engine, prices: &PriceTable) -> Estimate {
    let plan = RunPlan {
        segments: Some(segments),
        audio_ms: segments.last().map_or(0, |s| s.end_ms),
        stt: None,
        chat: None,
        polish: false,
        translate_to: None,
        tts: Some(tts),
        edit_options: EditOptions::default(),
    };
    estimate(&plan, prices)
}

pub fn run(args: EstimateArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let prices = price_table(args.prices.as_deref())?;
    let subtitles_path = args.subtitles.clone().or_else(|| {
        let reviewed = workdir.subs_srt();
        reviewed.exists().then_some(reviewed)
    });
    let segments = match &subtitles_path {
        Some(path) => {
            let (segments, _) = dubber::subtitles::normalize(dubber::subtitles::read_file(path)?);
            Some(segments)
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
    let chat = (args.polish || args.translate_to.is_some()).then(|| args.llm.engine());
    let tts_model = args
        .tts_model
        .clone()
        .unwrap_or_else(|| default_tts_model(&args.tts));
    let plan = RunPlan {
        segments: segments.as_deref(),
        audio_ms,
        stt: args.stt.as_deref().map(stt_engine),
        chat,
        polish: args.polish,
        translate_to: args.translate_to.clone(),
        tts: Some(Engine::new(args.tts.clone(), tts_model)),
        edit_options: EditOptions::default(),
    };
    let estimate = estimate(&plan, &prices);
    if global.json {
        dubber::progress::emit(serde_json::json!({
            "event": "estimate",
            "audio_minutes": audio_ms as f64 / 60_000.0,
            "total_usd": estimate.total_usd(),
            "stages": estimate.stages.iter().map(|s| serde_json::json!({
                "stage": s.stage,
                "engine": s.engine,
                "chars": s.usage.chars,
                "minutes": s.usage.minutes,
                "input_tokens": s.usage.input_tokens,
                "output_tokens": s.usage.output_tokens,
                "usd": s.usd,
            })).collect::<Vec<_>>(),
        }));
    } else {
        println!(
            "{} of audio{}",
            dubber::youtube::format_timestamp(audio_ms / 1000),
            match &subtitles_path {
                Some(p) => format!(", subtitles {}", p.display()),
                None => ", text assumed from the audio length".into(),
            }
        );
        print!("{estimate}");
    }
    Ok(())
}
