//! Flag groups that several subcommands share: grouping, timeline, TTS engine, output.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use dubber::text::GroupOptions;
use dubber::timeline::{FitMode, Mode, Policy};

/// Seconds from a flag as whole milliseconds.
pub fn secs_arg(name: &str, value: f64) -> Result<u64> {
    match dubber::segment::secs_to_ms(value) {
        Some(ms) => Ok(ms),
        None => bail!("--{name} must be a number of seconds ≥ 0, got {value}"),
    }
}

/// How lines are grouped into sentences and TTS chunks.
#[derive(Debug, Args, Clone)]
pub struct GroupingArgs {
    /// A pause at least this long (seconds) ends a sentence and a TTS chunk.
    #[arg(long, value_name = "S", default_value_t = 1.2)]
    pub sentence_join_gap: f64,
    /// Sentences spoken together in one TTS request.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub sentences_per_chunk: u16,
    /// Longest sentence (seconds) before it is cut at a line end.
    #[arg(long, value_name = "S", default_value_t = 12.0)]
    pub max_sentence_secs: f64,
    /// Most subtitle lines in one sentence before it is cut.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub max_segments: usize,
    /// Longest TTS chunk, in seconds.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    pub max_chunk_secs: f64,
}

impl GroupingArgs {
    pub fn options(&self) -> Result<GroupOptions> {
        Ok(GroupOptions {
            join_gap_ms: secs_arg("sentence-join-gap", self.sentence_join_gap)?,
            max_sentence_ms: secs_arg("max-sentence-secs", self.max_sentence_secs)?,
            max_sentence_segments: self.max_segments.max(1),
            sentences_per_chunk: usize::from(self.sentences_per_chunk),
            max_chunk_ms: secs_arg("max-chunk-secs", self.max_chunk_secs)?,
            ..GroupOptions::default()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// One clip per sentence group, spoken as one utterance over the group's whole span.
    Sentence,
    /// One clip per subtitle line, started at its window.
    Segment,
    /// Blocks between long pauses, speed kept gently around 1.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FitModeArg {
    /// Pad short clips with silence, speed up long ones.
    PadOrSpeedup,
    /// Also slow down short clips (not below --min-speed).
    StretchBoth,
}

/// How clips are fitted into their windows.
#[derive(Debug, Args, Clone)]
pub struct TimelineArgs {
    /// Timing mode.
    #[arg(long = "timing", visible_alias = "timeline-mode", value_enum, default_value_t = ModeArg::Sentence)]
    pub mode: ModeArg,
    /// Fit every line within --tolerance-ms of its window.
    #[arg(long)]
    pub strict_timing: bool,
    /// Allowed deviation from a window, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30)]
    pub tolerance_ms: u64,
    /// How lines are fitted under --strict-timing.
    #[arg(long, value_enum, default_value_t = FitModeArg::PadOrSpeedup)]
    pub fit_mode: FitModeArg,
    /// Slowest playback speed (stretch-both and block modes).
    #[arg(long, value_name = "X", default_value_t = 0.9)]
    pub min_speed: f64,
    /// Fastest playback speed; speech is never sped up beyond it.
    #[arg(long, value_name = "X", default_value_t = 1.25)]
    pub max_speed: f64,
    /// How far overflowing lines may push later ones, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub max_drift_ms: u64,
    /// Silence kept around blocks in block mode, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub breath_pad_ms: u64,
}

impl TimelineArgs {
    pub fn policy(&self) -> Result<Policy> {
        let policy = Policy {
            mode: match self.mode {
                ModeArg::Sentence => Mode::Sentence,
                ModeArg::Segment => Mode::Segment,
                ModeArg::Block => Mode::Block,
            },
            strict_timing: self.strict_timing,
            tolerance_ms: self.tolerance_ms,
            fit_mode: match self.fit_mode {
                FitModeArg::PadOrSpeedup => FitMode::PadOrSpeedup,
                FitModeArg::StretchBoth => FitMode::StretchBoth,
            },
            min_speed: self.min_speed,
            max_speed: self.max_speed,
            max_drift_ms: self.max_drift_ms,
            breath_pad_ms: self.breath_pad_ms,
            ..Policy::default()
        };
        if let Err(e) = policy.validate() {
            bail!("{e} (--min-speed / --max-speed)");
        }
        Ok(policy)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SttProvider {
    /// Whisper on this machine (CTranslate2; the model from the data dir).
    Local,
    /// An OpenAI-compatible /audio/transcriptions endpoint (--stt-base-url / OPENAI_BASE_URL).
    Openai,
}

/// Which engine transcribes, when no subtitles are given.
#[derive(Debug, Args, Clone)]
pub struct SttArgs {
    /// The speech-to-text engine.
    #[arg(long, value_enum, default_value_t = SttProvider::Local)]
    pub stt: SttProvider,
    /// Whisper model: a name in the data dir (tiny.en) or a folder; for openai, the model name
    /// [default: tiny.en / DUBBER_WHISPER_MODEL; whisper-1]
    #[arg(long, value_name = "MODEL")]
    pub stt_model: Option<String>,
    /// Base URL of an OpenAI-compatible transcription server (else OPENAI_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub stt_base_url: Option<String>,
    /// Spoken language (ISO 639-1, e.g. en); detected when not given (multilingual models).
    #[arg(long = "stt-language", value_name = "LANG")]
    pub stt_language: Option<String>,
}

impl SttArgs {
    pub fn transcriber(&self) -> Result<Box<dyn dubber::stt::Transcriber>> {
        use anyhow::Context;
        Ok(match self.stt {
            SttProvider::Local => {
                let data = dubber::models::DataDir::from_env()?;
                let dir = data.whisper_model_from_env(self.stt_model.as_deref())?;
                let whisper = dubber::stt::LocalWhisper::load(&dir, &Default::default())
                    .with_context(|| format!("loading the Whisper model in {}", dir.display()))?;
                Box::new(whisper)
            }
            SttProvider::Openai => {
                let base = self
                    .stt_base_url
                    .clone()
                    .or_else(|| {
                        std::env::var("OPENAI_BASE_URL")
                            .ok()
                            .filter(|b| !b.is_empty())
                    })
                    .unwrap_or_else(|| "https://api.openai.com/v1".into());
                let key = std::env::var("OPENAI_API_KEY")
                    .ok()
                    .filter(|k| !k.is_empty());
                let model = self.stt_model.clone().unwrap_or_else(|| "whisper-1".into());
                Box::new(dubber::stt::OpenAiTranscriber::new(&base, key, &model))
            }
        })
    }

    pub fn options(&self) -> dubber::stt::TranscribeOptions {
        dubber::stt::TranscribeOptions {
            language: self.stt_language.clone(),
        }
    }
}

/// Which chat model polishes, translates, shortens and writes YouTube assets.
#[derive(Debug, Args, Clone)]
pub struct LlmArgs {
    /// Chat model, as the server names it.
    #[arg(long, value_name = "MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// Base URL of an OpenAI-compatible chat server, e.g. http://localhost:11434/v1 for Ollama
    /// (also OPENAI_BASE_URL) [default: https://api.openai.com/v1]. OPENAI_API_KEY is sent when
    /// set; local servers need none.
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,
}

impl LlmArgs {
    /// The client configuration: the flags, else the environment.
    pub fn config(&self) -> dubber::llm::ChatConfig {
        dubber::llm::ChatConfig::from_env(self.llm_model.clone(), self.llm_base_url.clone())
    }

    /// The model and a reply cache in `workdir`'s llm cache directory.
    pub fn open(
        &self,
        workdir: &dubber::pipeline::Workdir,
    ) -> Result<(dubber::llm::OpenAiChat, dubber::llm::ReplyCache)> {
        let model = dubber::llm::OpenAiChat::new(self.config())?;
        let cache = dubber::llm::ReplyCache::new(workdir.llm_cache_dir())?;
        Ok((model, cache))
    }

    /// The engine for cost estimates: the provider is read from the server's address.
    pub fn engine(&self) -> dubber::cost::Engine {
        let config = self.config();
        dubber::cost::Engine::new(
            dubber::cost::Engine::chat_provider_for(&config.base_url),
            config.model,
        )
    }

    /// Model and server, for input hashes.
    pub fn identity(&self) -> String {
        let config = self.config();
        format!("{}@{}", config.model, config.base_url)
    }
}
