//! `dubber synth`: the reviewed subs.srt → a dubbed video, through a TTS engine.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use dubber::local_tts::PiperVoice;
use dubber::media::MuxOptions;
use dubber::models::DataDir;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::{Background, SynthOptions, SynthOutcome, synth_with_shortening};
use dubber::progress::Progress;
use dubber::tts::{
    AnyEngine, AudioFormat, BatchOptions, ElevenLabsTts, EspeakTts, OpenAiTts, PiperTts,
    SynthRequest,
};

use super::common::{GroupingArgs, TimelineArgs};
use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// A Piper voice on this machine (ONNX Runtime; the voice from the data dir). Offline.
    Piper,
    /// espeak-ng on this machine: any language, no model files, robotic. Offline.
    Espeak,
    /// OpenAI's /audio/speech, or any OpenAI-compatible server (--base-url / OPENAI_BASE_URL).
    Openai,
    /// ElevenLabs (ELEVENLABS_API_KEY).
    Elevenlabs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackgroundArg {
    /// Keep the original audio, lowered under speech.
    Duck,
    /// Keep the original audio at a constant level.
    Mix,
    /// A clean voice track.
    None,
}

/// Which engine speaks, and how.
#[derive(Debug, Args, Clone)]
pub struct TtsArgs {
    /// The TTS engine.
    #[arg(long = "tts", value_enum, default_value_t = Provider::Piper)]
    pub provider: Provider,
    /// Model [default: gpt-4o-mini-tts for openai, eleven_multilingual_v2 for elevenlabs; local
    /// voices have none]
    #[arg(long, value_name = "MODEL")]
    pub tts_model: Option<String>,
    /// Voice: a Piper voice name in the data dir or an .onnx path (else DUBBER_PIPER_VOICE, else
    /// en_US-joe-medium); an espeak-ng voice (en-us); onyx for openai; a voice id for elevenlabs
    #[arg(long, value_name = "VOICE")]
    pub voice: Option<String>,
    /// Speaking instructions (tone, accent), for models that take them.
    #[arg(long, value_name = "TEXT")]
    pub instructions: Option<String>,
    /// Base URL of an OpenAI-compatible server (also OPENAI_BASE_URL), or of ElevenLabs.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// TTS requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_concurrent: u16,
    /// Longest wait for one TTS request, in seconds.
    #[arg(long, value_name = "S", default_value_t = 120)]
    pub request_timeout: u64,
    /// Use cached clips only; fail listing the lines that are missing.
    #[arg(long)]
    pub no_tts: bool,
    /// Render lines whose synthesis failed as silence (listed in report.json) instead of failing.
    #[arg(long)]
    pub allow_silence: bool,
}

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
    pub tts: TtsArgs,
    #[command(flatten)]
    pub timeline: TimelineArgs,
    #[command(flatten)]
    pub grouping: GroupingArgs,
    /// The original audio under the new voice.
    #[arg(long, value_enum, default_value_t = BackgroundArg::Duck)]
    pub background: BackgroundArg,
    /// Keep the original audio as a second track.
    #[arg(long)]
    pub keep_original_track: bool,
    /// Language of the dub track (ISO 639-2, e.g. eng, deu, fra).
    #[arg(long, value_name = "LANG")]
    pub language: Option<String>,
    /// Have the chat model rewrite lines that do not fit even at --max-speed shorter, then
    /// synthesize them again (two rounds at most; report.json keeps the original text).
    #[arg(long)]
    pub shorten: bool,
    #[command(flatten)]
    pub llm: super::common::LlmArgs,
}

impl SynthArgs {
    pub fn options(&self, output: PathBuf) -> Result<SynthOptions> {
        let (model, voice) = match self.tts.provider {
            Provider::Piper => ("piper", "default"),
            Provider::Espeak => ("espeak-ng", "en-us"),
            Provider::Openai => ("gpt-4o-mini-tts", "onyx"),
            Provider::Elevenlabs => (
                dubber::tts::elevenlabs::DEFAULT_MODEL,
                "21m00Tcm4TlvDq8ikWAM",
            ),
        };
        let mut request = SynthRequest::new(
            "",
            self.tts.voice.clone().unwrap_or_else(|| voice.into()),
            self.tts.tts_model.clone().unwrap_or_else(|| model.into()),
        );
        request.instructions = self.tts.instructions.clone();
        // Raw PCM at the timeline's rate: nothing to decode or resample.
        request.format = AudioFormat::Pcm16 {
            sample_rate: dubber::timeline::RATE,
        };
        Ok(SynthOptions {
            grouping: self.grouping.options()?,
            policy: self.timeline.policy()?,
            request,
            batch: BatchOptions {
                max_concurrent: usize::from(self.tts.max_concurrent),
                timeout: Duration::from_secs(self.tts.request_timeout.max(1)),
                cache_only: self.tts.no_tts,
                ..BatchOptions::default()
            },
            allow_silence: self.tts.allow_silence,
            background: match self.background {
                BackgroundArg::Duck => Background::Duck,
                BackgroundArg::Mix => Background::Mix,
                BackgroundArg::None => Background::None,
            },
            ducking: Default::default(),
            mux: MuxOptions {
                language: self.language.clone(),
                keep_original_track: self.keep_original_track,
                original_language: None,
            },
            output: Some(output),
        })
    }
}

/// The engine the flags name.
pub fn build_engine(tts: &TtsArgs) -> Result<AnyEngine> {
    let base = tts.base_url.as_deref();
    Ok(match tts.provider {
        Provider::Piper => {
            let data = DataDir::from_env()?;
            let voice = data.piper_voice_from_env(tts.voice.as_deref())?;
            let runtime = data.onnxruntime_from_env(None)?;
            dubber::local_tts::init_onnxruntime(&runtime)?;
            let voice = PiperVoice::load_shared(&voice)?;
            AnyEngine::Piper(PiperTts::new(voice))
        }
        Provider::Espeak => {
            let voice = tts.voice.as_deref().unwrap_or("en-us");
            AnyEngine::Espeak(EspeakTts::new(voice).context("--tts espeak")?)
        }
        Provider::Openai => AnyEngine::OpenAi(OpenAiTts::from_env(base).context("--tts openai")?),
        Provider::Elevenlabs => {
            AnyEngine::ElevenLabs(ElevenLabsTts::from_env(base).context("--tts elevenlabs")?)
        }
    })
}

pub fn run(args: SynthArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| super::burn::sibling_output(&args.video, "dubbed", None));
    let opts = args.options(output)?;
    if !args.tts.no_tts {
        announce_cost(&args, &workdir, &opts, global);
    }
    let progress = Progress::new(global.output_mode());
    let engine = build_engine(&args.tts)?;
    let shortener = match args.shorten {
        true => {
            let (model, cache) = args.llm.open(&workdir)?;
            Some(dubber::llm::LineEditor::new(model).with_cache(cache))
        }
        false => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let outcome = runtime.block_on(synth_with_shortening(
        &args.video,
        &workdir,
        &engine,
        &opts,
        &progress,
        shortener.as_ref(),
    ))?;
    print_outcome(&outcome, &workdir, global);
    Ok(())
}

pub fn print_outcome(outcome: &SynthOutcome, workdir: &Workdir, global: &GlobalArgs) {
    if global.quiet || global.json {
        if global.json {
            dubber::progress::emit(serde_json::json!({
                "event": "synth_done",
                "output": outcome.output,
                "report": workdir.report_json(),
                "chunks": outcome.chunks,
                "requests": outcome.requests,
                "cache_hits": outcome.cache_hits,
                "summary": outcome.report.summary,
            }));
        }
        return;
    }
    println!("{}", outcome.report.human_summary());
    println!(
        "{} chunks: {} requests, {} from cache; report: {}",
        outcome.chunks,
        outcome.requests,
        outcome.cache_hits,
        workdir.report_json().display()
    );
    for failed in &outcome.silenced {
        println!(
            "silenced line {}: {:?} ({})",
            failed.index + 1,
            failed.text,
            failed.error
        );
    }
    if let Some(out) = &outcome.output {
        println!("{}", out.display());
    }
}

/// Print what synthesizing subs.srt will cost, before the first request (skipped silently when
/// subs.srt cannot be read: synth reports that itself).
/// Print what synthesizing `workdir`'s subs.srt costs at most with a paid engine (nothing for a
/// local one), before the first request.
pub fn announce_cost(
    args: &SynthArgs,
    workdir: &Workdir,
    opts: &SynthOptions,
    global: &GlobalArgs,
) {
    let Ok(segments) = dubber::pipeline::synth::read_reviewed_subtitles(workdir) else {
        return;
    };
    let provider = args
        .tts
        .provider
        .to_possible_value()
        .map_or_else(|| "openai".to_string(), |v| v.get_name().to_string());
    // A server on this machine costs nothing, whatever API it speaks.
    let base = args.tts.base_url.clone().or_else(|| {
        (provider == "openai")
            .then(|| std::env::var("OPENAI_BASE_URL").ok())
            .flatten()
    });
    let provider = match base.as_deref() {
        Some(base) if dubber::cost::Engine::chat_provider_for(base) == "local" => "local".into(),
        _ => provider,
    };
    let engine = dubber::cost::Engine::new(provider, opts.request.model.clone());
    let estimate =
        super::estimate::synth_estimate(&segments, engine, &dubber::cost::PriceTable::default());
    super::estimate::announce(&estimate, global);
}
