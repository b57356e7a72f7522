//! `dubber estimate`: what a run would cost, per stage, before any paid request is made.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use dubber::cost::{Engine, PriceTable, RunPlan, estimate};
use dubber::llm::EditOptions;
use dubber::pipeline::Workdir;

use super::WorkdirArgs;

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// The video (its length prices transcription; without subtitles, it estimates the text too).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    /// Subtitles to price [default: the work directory's subs.srt, when there is one].
    #[arg(long, value_name = "FILE")]
    pub subtitles: Option<PathBuf>,
    /// TTS provider (piper, espeak, openai, elevenlabs).
    #[arg(long, default_value = "piper")]
    pub tts: String,
    /// TTS model [default: per provider].
    #[arg(long, value_name = "MODEL")]
    pub tts_model: Option<String>,
    /// Transcription provider (local, openai); priced only when there are no subtitles.
    #[arg(long, default_value = "local")]
    pub stt: String,
    /// Transcription model [default: per provider].
    #[arg(long, value_name = "MODEL")]
    pub stt_model: Option<String>,
    /// Price polishing with the chat model.
    #[arg(long)]
    pub polish: bool,
    /// Price translating into this language.
    #[arg(long, value_name = "LANG")]
    pub translate_to: Option<String>,
    /// Chat model for polish and translate.
    #[arg(long, value_name = "MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// Chat server (prices by host: localhost is free).
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,
    /// Price table overrides (TOML or JSON).
    #[arg(long, value_name = "FILE", env = "DUBBER_PRICES")]
    pub prices: Option<PathBuf>,
}

fn default_model(provider: &str, stt: bool) -> &'static str {
    match (provider, stt) {
        ("openai", true) => "whisper-1",
        ("openai", false) => "gpt-4o-mini-tts",
        ("elevenlabs", _) => "eleven_multilingual_v2",
        ("local", true) => "tiny.en",
        _ => "default",
    }
}

pub fn run(args: EstimateArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let subtitles = args
        .subtitles
        .clone()
        .or_else(|| Some(workdir.subs_srt()).filter(|p| p.exists()));
    let segments = match &subtitles {
        Some(path) => Some(dubber::subtitles::normalize(dubber::subtitles::read_file(path)?).0),
        None => None,
    };
    let audio_ms = match dubber::media::probe(&args.video) {
        Ok(info) => (info.target_duration_secs() * 1000.0).round() as u64,
        Err(e) => match segments.as_ref().and_then(|s| s.last()) {
            Some(last) => last.end_ms,
            None => bail!("{e}; pass --subtitles to estimate without the video"),
        },
    };
    let prices = match &args.prices {
        Some(path) => PriceTable::with_overrides(path)?,
        None => PriceTable::default(),
    };
    let chat_provider = args
        .llm_base_url
        .as_deref()
        .map_or_else(|| "openai".to_string(), Engine::chat_provider_for);
    let uses_chat = args.polish || args.translate_to.is_some();
    let plan = RunPlan {
        segments: segments.as_deref(),
        audio_ms,
        stt: segments.is_none().then(|| {
            Engine::new(
                &args.stt,
                args.stt_model
                    .clone()
                    .unwrap_or_else(|| default_model(&args.stt, true).into()),
            )
        }),
        chat: uses_chat.then(|| Engine::new(chat_provider, args.llm_model.clone())),
        polish: args.polish,
        translate_to: args.translate_to.clone(),
        tts: Some(Engine::new(
            &args.tts,
            args.tts_model
                .clone()
                .unwrap_or_else(|| default_model(&args.tts, false).into()),
        )),
        edit_options: EditOptions::default(),
    };
    print!("{}", estimate(&plan, &prices));
    Ok(())
}

/// Before the first paid request of `synth`/`run`: what synthesizing `workdir`'s subs.srt costs at
/// most (cached lines cost nothing), on stderr. Local engines print nothing.
pub fn announce_tts_cost(workdir: &Workdir, provider: &str, model: &str) {
    if matches!(provider, "piper" | "espeak") {
        return;
    }
    let Ok(cues) = dubber::subtitles::read_file(&workdir.subs_srt()) else {
        return;
    };
    let segments = dubber::subtitles::normalize(cues).0;
    let plan = RunPlan {
        segments: Some(&segments),
        audio_ms: segments.last().map_or(0, |s| s.end_ms),
        stt: None,
        chat: None,
        polish: false,
        translate_to: None,
        tts: Some(Engine::new(provider, model)),
        edit_options: EditOptions::default(),
    };
    let prices = match std::env::var_os("DUBBER_PRICES") {
        Some(path) => PriceTable::with_overrides(std::path::Path::new(&path)).unwrap_or_default(),
        None => PriceTable::default(),
    };
    let estimate = estimate(&plan, &prices);
    eprint!("Estimated cost at most (cached lines are free):\n{estimate}");
}
