//! What the binary says on stdout: the only reader of `--json` and `--quiet`.
//!
//! Each subcommand ends with one [`Event`]: under `--json` it is one JSON object a line
//! (`{"event": "...", ...}`), otherwise a few lines for a person, and nothing under `--quiet`.
//! Progress goes through the library's [`Progress`], whose mode is decided here too.

use std::path::PathBuf;

use dubber::cost::Estimate;
use dubber::pipeline::synth::SynthOutcome;
use dubber::progress::{OutputMode, Progress};
use serde_json::{Value, json};

use super::GlobalArgs;

/// How the run talks: decided once from the global flags.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    mode: OutputMode,
}

/// What a subcommand reports.
pub enum Event<'a> {
    /// What paid work costs, before it starts (`estimate`, and `synth`/`run` before their first
    /// request). `audio_minutes` is the length priced.
    Estimate {
        estimate: &'a Estimate,
        audio_minutes: f64,
    },
    /// `prep` wrote the reviewed subtitles (and the original lines when it translated).
    PrepDone {
        segments: usize,
        sentences: usize,
        chunks: usize,
        subs: &'a std::path::Path,
        original: Option<&'a std::path::Path>,
        /// What the transcriber did, when prep transcribed.
        transcription: Option<&'a dubber::stt::SttReport>,
        /// Said when the language detection was unsure.
        language_warning: Option<&'a str>,
        /// The lines' speakers in the order they first speak (none: one voice).
        speakers: &'a [String],
    },
    /// A file was written: `burn`'s video, or a model `models fetch` installed.
    Wrote {
        event: &'static str,
        path: &'a std::path::Path,
    },
    /// What `models list` found installed.
    Models { installed: &'a [String] },
    /// `synth` finished.
    SynthDone {
        outcome: &'a SynthOutcome,
        report: PathBuf,
    },
    /// One video of `run` finished (`output`) or failed (`error`).
    VideoDone {
        video: &'a std::path::Path,
        seconds: f64,
        result: Result<&'a std::path::Path, String>,
        /// (speaker, `engine:voice`) of each speaker, for a video that finished.
        cast: &'a [(String, String)],
        /// Said when the language detection was unsure, for a video that finished.
        language_warning: Option<&'a str>,
    },
    /// `youtube` wrote its files; `source` says who wrote them (offline, model, offline_fallback).
    YoutubeDone {
        description: &'a std::path::Path,
        chapters: &'a std::path::Path,
        tags: &'a std::path::Path,
        source: &'static str,
    },
}

impl Event<'_> {
    fn to_json(&self) -> Value {
        match self {
            Event::Estimate {
                estimate,
                audio_minutes,
            } => json!({
                "event": "estimate",
                "audio_minutes": audio_minutes,
                "total_usd": estimate.total_usd(),
                "stages": estimate.stages.iter().map(|s| json!({
                    "stage": s.stage,
                    "engine": s.engine,
                    "chars": s.usage.chars,
                    "minutes": s.usage.minutes,
                    "input_tokens": s.usage.input_tokens,
                    "output_tokens": s.usage.output_tokens,
                    "usd": s.usd,
                })).collect::<Vec<_>>(),
            }),
            Event::PrepDone {
                segments,
                sentences,
                chunks,
                subs,
                original,
                transcription,
                language_warning,
                speakers,
            } => json!({
                "event": "prep_done",
                "speakers": speakers,
                "segments": segments,
                "sentences": sentences,
                "chunks": chunks,
                "subs": subs,
                "original": original,
                "language": transcription.and_then(|t| t.language.as_deref()),
                "transcription": transcription,
                "language_warning": language_warning,
            }),
            Event::Wrote { event, path } => json!({ "event": event, "output": path }),
            Event::Models { installed } => json!({ "event": "models", "installed": installed }),
            Event::SynthDone { outcome, report } => json!({
                "event": "synth_done",
                "output": outcome.output,
                "report": report,
                "chunks": outcome.chunks,
                "requests": outcome.requests,
                "cache_hits": outcome.cache_hits,
                "summary": outcome.report.summary,
                "language": outcome.report.language,
                "cast": cast_json(&outcome.cast),
            }),
            Event::VideoDone {
                video,
                seconds,
                result,
                cast,
                language_warning,
            } => {
                let (status, detail) = match result {
                    Ok(out) => ("ok", out.display().to_string()),
                    Err(e) => ("failed", e.clone()),
                };
                json!({
                    "event": "video_done", "video": video, "status": status, "detail": detail,
                    "seconds": seconds, "cast": cast_json(cast),
                    "language_warning": language_warning,
                })
            }
            Event::YoutubeDone {
                description,
                chapters,
                tags,
                source,
            } => json!({
                "event": "youtube_done",
                "description": description,
                "chapters": chapters,
                "tags": tags,
                "source": source,
            }),
        }
    }
}

impl Output {
    pub fn new(global: &GlobalArgs) -> Self {
        let mode = match (global.json, global.quiet) {
            (true, _) => OutputMode::Json,
            (false, true) => OutputMode::Quiet,
            _ => OutputMode::Auto,
        };
        Self { mode }
    }

    /// The progress display for the run's stages.
    pub fn progress(&self) -> Progress {
        Progress::new(self.mode)
    }

    pub fn is_json(&self) -> bool {
        self.mode == OutputMode::Json
    }

    pub fn is_quiet(&self) -> bool {
        self.mode == OutputMode::Quiet
    }

    /// Report `event`: a JSON line under `--json`; otherwise, unless `--quiet`, what `human`
    /// prints (it is not called at all under `--json` or `--quiet`).
    pub fn event(&self, event: Event<'_>, human: impl FnOnce()) {
        match self.mode {
            OutputMode::Json => dubber::progress::emit(event.to_json()),
            OutputMode::Quiet => {}
            _ => human(),
        }
    }

    /// A warning about `video` that is no error: a `warning` event under `--json`, a line on
    /// stderr otherwise, nothing under `--quiet`.
    pub fn warn(&self, video: &str, message: &str) {
        self.progress().warn(video, message);
    }

    /// Announce what paid work will cost before it starts: the table on stderr (stdout stays the
    /// command's), or an `estimate` event; nothing under `--quiet` or when every stage is free.
    pub fn announce_cost(&self, estimate: &Estimate, audio_minutes: f64) {
        let free = estimate.total_usd() == 0.0 && estimate.unpriced().next().is_none();
        if free {
            return;
        }
        self.event(
            Event::Estimate {
                estimate,
                audio_minutes,
            },
            || eprint!("Estimated cost before synthesis:\n{estimate}"),
        );
    }
}

/// Log lines on stderr: warnings and dubber's own info by default, more with `-v`, errors only
/// with `-q`; `RUST_LOG` overrides.
pub fn init_logging(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn,dubber=info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

/// A cast as the JSON events show it: `[{"speaker", "voice"}]`.
fn cast_json(cast: &[(String, String)]) -> serde_json::Value {
    cast.iter()
        .map(|(speaker, voice)| json!({ "speaker": speaker, "voice": voice }))
        .collect()
}

/// A cast as the human summaries show it: one `cast: NAME → engine:voice` line per speaker.
pub fn print_cast(cast: &[(String, String)]) {
    for (speaker, voice) in cast {
        println!("cast: {speaker} → {voice}");
    }
}
