//! Flags → library configuration and engines, once per run, and the one place that loads `.env`;
//! keys and servers from the environment come through [`dubber::credentials`]. The library never
//! sees clap; subcommands get typed options and engines from here and call one library function
//! each. The flags' defaults are in [`super::flags`], each TTS engine's default model and voice in
//! [`super::voices`] (which loads the engines), so neither needs this module back.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::data::{data_dir, require_data_dir};
use anyhow::{Context, Result, bail};
use dubber::Segment;
use dubber::cost::{Engine, Estimate, PriceTable, RunPlan};
use dubber::credentials;
use dubber::llm::{ChatConfig, EditOptions, Glossary, OpenAiChat, ReplyCache, Translation};
use dubber::media::MuxOptions;
use dubber::models::{MULTILINGUAL_WHISPER_MODEL, SETUP_COMMAND, WHISPER_MODEL_ENV};
use dubber::pipeline::synth::{Background, SynthOptions};
use dubber::pipeline::{SpeakerFinding, TextEdits, Workdir};
use dubber::speakers::SpeakerCount;
use dubber::stt::{
    LocalStt, LocalWhisper, SileroVad, Task, TranscribeOptions, Transcriber, WhisperConfig,
};
use dubber::text::GroupOptions;
use dubber::timeline::{FitMode, Mode, Policy};
use dubber::tts::{AudioFormat, BatchOptions, SynthRequest};

use super::flags::{
    BackgroundArg, FitModeArg, GroupingArgs, LlmArgs, ModeArg, Provider, SeparationArg,
    SpeakersArgs, SttArgs, SttProvider, SynthFlags, TimelineArgs, TranslateWith, TtsArgs,
    WordsArgs,
};
use super::voices;

/// The model of OpenAI-compatible transcription servers.
pub const DEFAULT_STT_MODEL_OPENAI: &str = "whisper-1";

/// The settings a `.env` file may hold besides the TTS providers' keys and servers (which the
/// registry names): the transcription and chat server, model choices. Never a path the process
/// loads code from (`ORT_DYLIB_PATH`, `DUBBER_HOME` with its `lib/`, `LD_*`): a `.env` is often
/// copied around with a project, and must not be able to run a library.
pub const DOTENV_SETTINGS: &[&str] = &[
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "DUBBER_WHISPER_MODEL",
    "DUBBER_MODELS_HOST",
    "RUST_LOG",
];

/// Every setting a `.env` file may hold: [`DOTENV_SETTINGS`] and the TTS providers' keys and
/// servers.
pub fn dotenv_settings() -> Vec<&'static str> {
    let mut all = DOTENV_SETTINGS.to_vec();
    for name in dubber::tts::registry::env_settings() {
        if !all.contains(&name) {
            all.push(name);
        }
    }
    all
}

/// Read `.env` from the current directory only (never from a parent folder, which another person
/// may control): the settings of [`dotenv_settings`] that the environment does not set already.
/// Returns the names it ignored, for a warning once logging is up. Call it first thing in `main`,
/// before any thread starts.
pub fn load_dotenv() -> Vec<String> {
    let Ok(entries) = dotenvy::from_path_iter(".env") else {
        return Vec::new();
    };
    let allowed = dotenv_settings();
    let mut ignored = Vec::new();
    for (key, value) in entries.flatten() {
        if !allowed.contains(&key.as_str()) {
            ignored.push(key);
        } else if std::env::var_os(&key).is_none() {
            // SAFETY: called from `main` before the runtime or any other thread exists.
            unsafe { std::env::set_var(&key, value) };
        }
    }
    ignored
}

/// Seconds from a flag as whole milliseconds.
fn secs_arg(name: &str, value: f64) -> Result<u64> {
    match dubber::segment::secs_to_ms(value) {
        Some(ms) => Ok(ms),
        None => {
            bail!("--{name} must be a number of seconds from 0 to 360000 (100 hours), got {value}")
        }
    }
}

pub fn grouping(args: &GroupingArgs) -> Result<GroupOptions> {
    Ok(GroupOptions {
        join_gap_ms: secs_arg("sentence-join-gap", args.sentence_join_gap)?,
        max_sentence_ms: secs_arg("max-sentence-secs", args.max_sentence_secs)?,
        max_sentence_segments: args.max_segments.max(1),
        sentences_per_chunk: usize::from(args.sentences_per_chunk),
        max_chunk_ms: secs_arg("max-chunk-secs", args.max_chunk_secs)?,
        ..GroupOptions::default()
    })
}

pub fn policy(args: &TimelineArgs) -> Result<Policy> {
    let policy = Policy {
        mode: match args.mode {
            ModeArg::Sentence => Mode::Sentence,
            ModeArg::Segment => Mode::Segment,
            ModeArg::Block => Mode::Block,
        },
        strict_timing: args.strict_timing,
        tolerance_ms: args.tolerance_ms,
        fit_mode: match args.fit_mode {
            FitModeArg::PadOrSpeedup => FitMode::PadOrSpeedup,
            FitModeArg::StretchBoth => FitMode::StretchBoth,
        },
        min_speed: args.min_speed,
        max_speed: args.max_speed,
        max_drift_ms: args.max_drift_ms,
        breath_pad_ms: args.breath_pad_ms,
        ..Policy::default()
    };
    if let Err(e) = policy.validate() {
        bail!("{e} (--min-speed / --max-speed)");
    }
    Ok(policy)
}

/// The synth stage's settings; `output` is the dubbed video.
pub fn synth_options(flags: &SynthFlags, output: Option<PathBuf>) -> Result<SynthOptions> {
    let tts = &flags.tts;
    let provider = tts.provider.provider();
    let mut request = SynthRequest::new(
        "",
        tts.voice
            .clone()
            .unwrap_or_else(|| provider.default_voice.into()),
        tts.tts_model
            .clone()
            .unwrap_or_else(|| provider.default_model.into()),
    );
    request.instructions = tts.instructions.clone();
    // Raw PCM at the timeline's rate: nothing to decode or resample.
    request.format = AudioFormat::Pcm16 {
        sample_rate: dubber::timeline::RATE,
    };
    Ok(SynthOptions {
        grouping: grouping(&flags.grouping)?,
        policy: policy(&flags.timeline)?,
        request,
        casting: voices::casting(
            tts.provider,
            tts.voice.as_deref(),
            tts.tts_model.as_deref(),
            flags.cast.as_deref(),
            None,
        ),
        batch: BatchOptions {
            max_concurrent: usize::from(tts.max_concurrent),
            timeout: Duration::from_secs(tts.request_timeout.max(1)),
            cache_only: tts.no_tts,
            ..BatchOptions::default()
        },
        allow_silence: tts.allow_silence,
        background: match flags.background {
            BackgroundArg::Duck => Background::Duck,
            BackgroundArg::Mix => Background::Mix,
            BackgroundArg::None => Background::None,
            BackgroundArg::Separate => match flags.separation {
                SeparationArg::Model => Background::Separate,
                SeparationArg::Layout => Background::SeparateByLayout,
            },
        },
        ducking: Default::default(),
        mux: MuxOptions {
            language: flags.language.clone(),
            keep_original_track: flags.keep_original_track,
            original_language: None,
            channel_layout: None,
        },
        output,
    })
}

/// How prep finds speakers: `--speakers`, and the speaker model when one is needed and installed
/// (a missing one is prep's to report: a warning with `auto`, an error with a number).
pub fn speaker_finding(args: &SpeakersArgs) -> SpeakerFinding {
    let model = match args.speakers {
        SpeakerCount::Off => None,
        _ => data_dir().and_then(|d| d.ecapa_model().ok()),
    };
    SpeakerFinding {
        count: args.speakers,
        model,
    }
}

/// The transcriber the flags name.
pub fn transcriber(stt: &SttArgs) -> Result<Box<dyn Transcriber>> {
    Ok(match stt.stt {
        SttProvider::Local => Box::new(local_stt(stt)?),
        SttProvider::Openai => {
            let base = credentials::openai_server(stt.stt_base_url.as_deref());
            let key = credentials::openai_api_key().map(|k| k.expose().to_string());
            let model = stt
                .stt_model
                .clone()
                .unwrap_or_else(|| DEFAULT_STT_MODEL_OPENAI.into());
            Box::new(dubber::stt::OpenAiTranscriber::new(&base, key, &model))
        }
    })
}

/// Local Whisper as the flags (or `DUBBER_WHISPER_MODEL`) ask. With no model named: the
/// multilingual model for every language (tiny.en when it is not installed); a named
/// English-only model gets the multilingual one as its language check. Silero VAD in front when
/// installed.
fn local_stt(stt: &SttArgs) -> Result<LocalStt> {
    let data = require_data_dir()?;
    let load = |dir: &std::path::Path| {
        LocalWhisper::load(dir, &WhisperConfig::default())
            .with_context(|| format!("loading the Whisper model in {}", dir.display()))
    };
    let named = stt
        .stt_model
        .clone()
        .or_else(|| std::env::var(WHISPER_MODEL_ENV).ok())
        .filter(|s| !s.is_empty());
    let multilingual = data.installed_whisper_model(MULTILINGUAL_WHISPER_MODEL);
    let local = match named {
        Some(name) => {
            let model = load(&data.whisper_model(Some(&name), None)?)?;
            match (model.is_multilingual(), &multilingual) {
                (false, Some(dir)) => LocalStt::new(model).with_language_detector(load(dir)?),
                (false, None) => {
                    tracing::warn!(
                        "Whisper model '{name}' knows only English and no multilingual model is \
                         installed to check the language: run {SETUP_COMMAND}"
                    );
                    LocalStt::new(model)
                }
                (true, _) => LocalStt::new(model),
            }
        }
        None => match multilingual {
            // One model for every language, English too: on a 3-minute English talk it makes a
            // fifth of tiny.en's word errors for twice the time (README, `--bench transcribe`).
            Some(dir) => LocalStt::new(load(&dir)?),
            None => {
                tracing::warn!(
                    "the multilingual Whisper model ({MULTILINGUAL_WHISPER_MODEL}) is not \
                     installed: only English speech can be transcribed; run {SETUP_COMMAND}"
                );
                let english = load(&data.whisper_model(None, None)?)?;
                LocalStt::new(english)
            }
        },
    };
    Ok(match data.vad_model() {
        Ok(path) => local.with_vad(Arc::new(SileroVad::load(&path)?)),
        Err(missing) => {
            tracing::warn!(
                "{missing}\n  without it Whisper hears the whole recording, silence and music \
                 included, and may invent lines there"
            );
            local
        }
    })
}

pub fn transcribe_options(stt: &SttArgs) -> TranscribeOptions {
    TranscribeOptions {
        language: stt.stt_language.clone(),
        task: Task::Transcribe,
    }
}

/// True when a chat model is configured: a server named by flag or `OPENAI_BASE_URL`, or an
/// OpenAI key (else translation into English is Whisper's, offline).
pub fn chat_configured(llm: &LlmArgs) -> bool {
    llm.llm_base_url.is_some()
        || credentials::openai_base_url().is_some()
        || credentials::openai_api_key().is_some()
}

/// Who translates what prep transcribes: Whisper (into English only, offline) or the chat model.
/// `--translate-with` decides; by default Whisper when the target is English, the lines come from
/// the speech and no chat model is configured.
pub fn translate_with(words: &WordsArgs, transcribing: bool) -> Result<Option<TranslateWith>> {
    let Some(target) = &words.translate_to else {
        return Ok(None);
    };
    let into_english = dubber::stt::languages::code(target) == Some("en")
        || target.to_ascii_lowercase().starts_with("en-");
    let chosen = match words.translate_with {
        Some(chosen) => chosen,
        None if into_english && transcribing && !chat_configured(&words.llm) => {
            TranslateWith::Whisper
        }
        None => TranslateWith::Llm,
    };
    if chosen == TranslateWith::Whisper {
        if !into_english {
            bail!(
                "--translate-with whisper translates into English only (asked: {target}); use \
                 --translate-with llm and a chat model"
            );
        }
        if !transcribing {
            bail!(
                "--translate-with whisper translates speech, not imported subtitles: leave out \
                 --subtitles, or use --translate-with llm"
            );
        }
    }
    Ok(Some(chosen))
}

/// The chat client's configuration: the flags, else the environment.
pub fn chat_config(llm: &LlmArgs) -> ChatConfig {
    ChatConfig::from_env(llm.llm_model.clone(), llm.llm_base_url.clone())
}

/// The chat model, and a reply cache in `workdir`.
pub fn chat(llm: &LlmArgs, workdir: &Workdir) -> Result<(OpenAiChat, ReplyCache)> {
    let model = OpenAiChat::new(chat_config(llm))?;
    let cache = ReplyCache::new(workdir.llm_cache_dir())?;
    Ok((model, cache))
}

/// Model and server, for prep's input fingerprint.
pub fn chat_identity(llm: &LlmArgs) -> String {
    let config = chat_config(llm);
    format!("{}@{}", config.model, config.base_url)
}

/// The chat engine as prices name it: the provider is read from the server's address.
pub fn chat_cost_engine(llm: &LlmArgs) -> Engine {
    let config = chat_config(llm);
    Engine::new(Engine::chat_provider_for(&config.base_url), config.model)
}

/// The voice as prices name it: the provider's price key and model (any model of a local one),
/// and a server on this machine (`base_url`) costs nothing, whatever API it speaks.
pub fn tts_cost_engine(provider: Provider, model: Option<&str>, base_url: Option<&str>) -> Engine {
    let provider = provider.provider();
    let name = match base_url {
        Some(base) if Engine::chat_provider_for(base) == "local" => "local".into(),
        _ => provider.price_key.to_string(),
    };
    let model = model.map_or_else(
        || match provider.local {
            true => "*".to_string(),
            false => provider.default_model.to_string(),
        },
        str::to_string,
    );
    Engine::new(name, model)
}

/// The edits `prep` asks of the chat model.
pub fn text_edits(words: &WordsArgs) -> Result<TextEdits> {
    let translation = match &words.translate_to {
        None => None,
        Some(target) => Some(Translation {
            target_language: target.clone(),
            source_language: words.source_lang.clone(),
            glossary: match &words.glossary {
                Some(path) => Glossary::load(path)?,
                None => Glossary::default(),
            },
        }),
    };
    Ok(TextEdits {
        polish: words.polish,
        translation,
    })
}

/// What synthesizing `segments` (subs.srt, as the synth context read it) costs at most with the
/// voice `tts` names, and the minutes of audio it covers.
pub fn synth_estimate(tts: &TtsArgs, segments: &[Segment]) -> (Estimate, f64) {
    let server_var = tts.provider.provider().base_url_var;
    let base = tts.base_url.clone().or_else(|| {
        server_var
            .and_then(|var| std::env::var(var).ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    });
    let engine = tts_cost_engine(tts.provider, tts.tts_model.as_deref(), base.as_deref());
    let audio_ms = segments.last().map_or(0, |s| s.end_ms);
    let plan = RunPlan {
        segments: Some(segments),
        audio_ms,
        stt: None,
        chat: None,
        polish: false,
        translate_to: None,
        tts: Some(engine),
        edit_options: EditOptions::default(),
    };
    let estimate = dubber::cost::estimate(&plan, &PriceTable::default());
    (estimate, audio_ms as f64 / 60_000.0)
}
