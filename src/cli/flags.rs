//! Flag groups that several subcommands share, as clap sees them. Only definitions live here: what
//! they become in the library is [`super::config`]'s job, done once per run.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use dubber::cast::EngineKind;
use dubber::speakers::SpeakerCount;

/// The work directory option shared by the stages.
#[derive(Debug, Args, Clone)]
pub struct WorkdirArgs {
    /// Work directory holding every intermediate file [default: ./<video file stem>.dub]
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
}

impl WorkdirArgs {
    /// The work directory of `video`: `--workdir`, else `./<video stem>.dub`.
    pub fn for_video(&self, video: &std::path::Path) -> dubber::pipeline::Workdir {
        dubber::pipeline::Workdir::for_video(video, self.workdir.as_deref())
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
    /// Whisper model: a name in the data dir (base, tiny.en) or a folder; for openai, the model
    /// name [default: DUBBER_WHISPER_MODEL, else base (any language); whisper-1]
    #[arg(long, value_name = "MODEL")]
    pub stt_model: Option<String>,
    /// Base URL of an OpenAI-compatible transcription server (else OPENAI_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub stt_base_url: Option<String>,
    /// Spoken language (ISO 639-1 code or English name: de, German); detected when not given.
    #[arg(long = "stt-language", value_name = "LANG")]
    pub stt_language: Option<String>,
}

/// Who translates the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TranslateWith {
    /// Whisper's own translate task: any spoken language into English, offline.
    Whisper,
    /// The chat model (--llm-model at --llm-base-url): any language into any language.
    Llm,
}

/// The chat model for polish, translation, shortening and YouTube assets.
pub const DEFAULT_CHAT_MODEL: &str = "gpt-4o-mini";

/// Which chat model polishes, translates, shortens and writes YouTube assets.
#[derive(Debug, Args, Clone)]
pub struct LlmArgs {
    /// Chat model, as the server names it.
    #[arg(long, value_name = "MODEL", default_value = DEFAULT_CHAT_MODEL)]
    pub llm_model: String,
    /// Base URL of an OpenAI-compatible chat server, e.g. http://localhost:11434/v1 for Ollama
    /// (also OPENAI_BASE_URL) [default: https://api.openai.com/v1]. OPENAI_API_KEY is sent when
    /// set; local servers need none.
    #[arg(long, value_name = "URL")]
    pub llm_base_url: Option<String>,
}

/// A TTS provider, as `--tts` names it: an entry of the registry ([`dubber::tts::registry`]).
pub type Provider = EngineKind;

/// `--tts NAME`: the providers of the registry, each with its line of help.
pub fn tts_provider() -> impl TypedValueParser<Value = Provider> {
    let values = dubber::tts::registry::all()
        .into_iter()
        .map(|p| PossibleValue::new(p.name).help(p.about));
    PossibleValuesParser::new(values).try_map(|name| {
        EngineKind::parse(&name).ok_or_else(|| format!("no TTS provider is called {name:?}"))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackgroundArg {
    /// Keep the original audio, lowered under speech.
    Duck,
    /// Keep the original audio at a constant level.
    Mix,
    /// A clean voice track.
    None,
    /// Keep music and effects, take the original voice out under the original lines: by the
    /// separation model on any layout (see --separation), else the centre channel of 5.1/7.1
    /// is replaced, a stereo mix loses its centre, and mono is ducked.
    Separate,
}

/// How `--background separate` takes the original voice out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeparationArg {
    /// The trained model (Spleeter, installed by scripts/setup-models.sh) on the voice channels;
    /// the layout method, with a warning, when it is not installed.
    Model,
    /// The channel layout only: the centre channel of 5.1/7.1, the centre of a stereo image.
    Layout,
}

/// Which engine speaks, and how.
#[derive(Debug, Args, Clone)]
pub struct TtsArgs {
    /// The TTS engine.
    #[arg(long = "tts", value_parser = tts_provider(), default_value = "piper")]
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

/// Polish and translation by a chat model.
#[derive(Debug, Args, Clone)]
pub struct WordsArgs {
    /// Have the chat model fix grammar and fluency for voice-over (line count and timing kept).
    #[arg(long)]
    pub polish: bool,
    /// Translate into this language (a name or code: "German", "pt-BR"); subs.srt gets the
    /// translation, subs.orig.srt keeps the original.
    #[arg(long, value_name = "LANG")]
    pub translate_to: Option<String>,
    /// Who translates: Whisper (into English only, offline, from the speech) or the chat model
    /// [default: whisper when translating speech into English with no chat model configured]
    #[arg(long, value_enum, value_name = "ENGINE", requires = "translate_to")]
    pub translate_with: Option<TranslateWith>,
    /// Language of the subtitles [default: the model detects it].
    #[arg(long, value_name = "LANG", requires = "translate_to")]
    pub source_lang: Option<String>,
    /// Terms the translation renders as given: one `term = rendering` a line, or a JSON object.
    #[arg(long, value_name = "FILE", requires = "translate_to")]
    pub glossary: Option<PathBuf>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// The synth settings that `synth` and `run` share.
#[derive(Debug, Args, Clone)]
pub struct SynthFlags {
    #[command(flatten)]
    pub tts: TtsArgs,
    #[command(flatten)]
    pub timeline: TimelineArgs,
    #[command(flatten)]
    pub grouping: GroupingArgs,
    /// The original audio under the new voice.
    #[arg(long, value_enum, default_value_t = BackgroundArg::Duck)]
    pub background: BackgroundArg,
    /// How `--background separate` finds the original voice.
    #[arg(long, value_enum, default_value_t = SeparationArg::Model)]
    pub separation: SeparationArg,
    /// Keep the original audio as a second track.
    #[arg(long)]
    pub keep_original_track: bool,
    /// Language of the dub track (ISO 639-2, e.g. eng, deu, fra).
    #[arg(long, value_name = "LANG")]
    pub language: Option<String>,
    /// Which voice speaks for whom: a cast file (e.g. one shared by a series) read instead of the
    /// work directory's cast.toml; speakers it lacks are cast automatically into cast.toml.
    #[arg(long, value_name = "FILE")]
    pub cast: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BurnMode {
    /// Add subtitle streams (mov_text in MP4/MOV, SRT in MKV, WebVTT in WebM); no re-encode.
    Soft,
    /// Draw the first subtitle file into the picture (re-encodes the video with libx264).
    Hard,
}

/// Who speaks each line, when the lines do not say.
#[derive(Debug, Args, Clone)]
pub struct SpeakersArgs {
    /// Find who speaks each line from the audio, when the subtitles do not name speakers: `auto`
    /// (as many as there are voices; one voice stays one speaker), a number, or `off` (one voice
    /// for every line).
    #[arg(long, value_name = "auto|N|off", default_value = "auto")]
    pub speakers: SpeakerCount,
}

/// `--subtitles-encoding`: a WHATWG encoding label, checked before any work starts.
pub fn encoding_label(label: &str) -> Result<String, String> {
    dubber::subtitles::encoding_for_label(label)
        .map(|_| label.to_string())
        .map_err(|e| e.to_string())
}
