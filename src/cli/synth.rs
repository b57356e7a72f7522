//! `dubber synth`: the reviewed subs.srt → a dubbed video, through a TTS engine.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use dubber::media::MuxOptions;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::{Background, SynthOptions, SynthOutcome, synth_with_shortening};
use dubber::progress::Progress;
use dubber::tts::{AudioFormat, BatchOptions, ElevenLabsTts, OpenAiTts, SynthRequest, Synthesizer};

use super::common::{GroupingArgs, TimelineArgs};
use super::{GlobalArgs, WorkdirArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
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
    #[arg(long = "tts", value_enum, default_value_t = Provider::Openai)]
    pub provider: Provider,
    /// Model [default: gpt-4o-mini-tts for openai, eleven_multilingual_v2 for elevenlabs]
    #[arg(long, value_name = "MODEL")]
    pub tts_model: Option<String>,
    /// Voice name or id [default: onyx for openai, a stock voice for elevenlabs]
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

/// Run synth with the engine the flags name.
pub async fn run_synth(
    args: &SynthArgs,
    workdir: &Workdir,
    opts: &SynthOptions,
    progress: &Progress,
) -> Result<SynthOutcome> {
    async fn go<S: Synthesizer>(
        args: &SynthArgs,
        workdir: &Workdir,
        engine: &S,
        opts: &SynthOptions,
        progress: &Progress,
    ) -> Result<SynthOutcome> {
        let shortener = if args.shorten {
            let (model, cache) = args.llm.open(workdir)?;
            Some(dubber::llm::LineEditor::new(model).with_cache(cache))
        } else {
            None
        };
        Ok(synth_with_shortening(
            &args.video,
            workdir,
            engine,
            opts,
            progress,
            shortener.as_ref(),
        )
        .await?)
    }
    let base = args.tts.base_url.as_deref();
    match args.tts.provider {
        Provider::Openai => {
            let engine = OpenAiTts::from_env(base).context("--tts openai")?;
            go(args, workdir, &engine, opts, progress).await
        }
        Provider::Elevenlabs => {
            let engine = ElevenLabsTts::from_env(base).context("--tts elevenlabs")?;
            go(args, workdir, &engine, opts, progress).await
        }
    }
}

pub fn run(args: SynthArgs, global: &GlobalArgs) -> Result<()> {
    let workdir = Workdir::for_video(&args.video, args.workdir.workdir.as_deref());
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| super::burn::sibling_output(&args.video, "dubbed", None));
    let opts = args.options(output)?;
    announce_cost(&args, &workdir, &opts, global);
    let progress = Progress::new(global.output_mode());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let outcome = runtime.block_on(run_synth(&args, &workdir, &opts, &progress))?;
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
fn announce_cost(args: &SynthArgs, workdir: &Workdir, opts: &SynthOptions, global: &GlobalArgs) {
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
