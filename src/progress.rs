//! Progress and machine-readable events for long runs: one multi-progress display on a terminal,
//! plain log lines when output is not a terminal, nothing with `-q`, JSON lines with `--json`.
//!
//! Stages report through a [`Stage`] handle and never ask which mode is on; that is decided once,
//! at the CLI edge.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Progress bars on a terminal; plain lines otherwise.
    Auto,
    /// Log lines only (what `Auto` does when stderr is not a terminal).
    Plain,
    /// Errors only.
    Quiet,
    /// One JSON object a line on stdout: `{"event": "...", ...}`.
    Json,
}

/// The progress display shared by every stage and video of one run.
#[derive(Clone)]
pub struct Progress {
    mode: OutputMode,
    multi: Option<MultiProgress>,
}

impl Progress {
    pub fn new(mode: OutputMode) -> Self {
        let mode = match mode {
            OutputMode::Auto if !std::io::stderr().is_terminal() => OutputMode::Plain,
            m => m,
        };
        let multi = (mode == OutputMode::Auto)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        Self { mode, multi }
    }

    /// A display that shows nothing (library use, tests).
    pub fn hidden() -> Self {
        Self {
            mode: OutputMode::Quiet,
            multi: None,
        }
    }

    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    /// Start a stage of `total` items (0 when unknown) for the video `video`.
    pub fn stage(&self, video: &str, name: &str, total: u64) -> Stage {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:.bold} {msg:12} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(video.to_string());
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let stage = Stage {
            inner: Arc::new(StageInner {
                mode: self.mode,
                video: video.to_string(),
                name: name.to_string(),
                total,
                done: AtomicU64::new(0),
                started: Instant::now(),
                bar,
                last_note: std::sync::Mutex::new(None),
            }),
        };
        stage.event("stage_start", json!({ "total": total }));
        if self.mode == OutputMode::Plain {
            tracing::info!("{video}: {name} started ({total} items)");
        }
        stage
    }

    /// A warning that belongs to no stage bar: printed above the bars, or as a JSON event.
    pub fn warn(&self, video: &str, message: &str) {
        match self.mode {
            OutputMode::Json => {
                emit(json!({ "event": "warning", "video": video, "message": message }))
            }
            OutputMode::Quiet => {}
            _ => match &self.multi {
                Some(m) => drop(m.println(format!("warning: {video}: {message}"))),
                None => tracing::warn!("{video}: {message}"),
            },
        }
    }
}

/// One stage's progress; cheap to clone into concurrent tasks.
#[derive(Clone)]
pub struct Stage {
    inner: Arc<StageInner>,
}

impl std::fmt::Debug for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stage")
            .field("video", &self.inner.video)
            .field("name", &self.inner.name)
            .field("done", &self.done())
            .field("total", &self.inner.total)
            .finish()
    }
}

struct StageInner {
    mode: OutputMode,
    video: String,
    name: String,
    total: u64,
    done: AtomicU64,
    started: Instant,
    bar: Option<ProgressBar>,
    last_note: std::sync::Mutex<Option<String>>,
}

impl Stage {
    /// Count `n` items done.
    pub fn inc(&self, n: u64) {
        let done = self.inner.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &self.inner.bar {
            bar.inc(n);
        }
        match self.inner.mode {
            OutputMode::Json => self.event(
                "progress",
                json!({ "done": done, "total": self.inner.total }),
            ),
            OutputMode::Plain
                if self.inner.total >= 10
                    && done.is_multiple_of((self.inner.total / 10).max(1)) =>
            {
                tracing::info!(
                    "{}: {} {done}/{}",
                    self.inner.video,
                    self.inner.name,
                    self.inner.total
                )
            }
            _ => {}
        }
    }

    pub fn done(&self) -> u64 {
        self.inner.done.load(Ordering::Relaxed)
    }

    /// A passing condition worth seeing while the stage goes on (`"openai is rate limiting: 2
    /// requests at once"`): on the bar's line on a terminal, as a `note` event under `--json`, as
    /// a log line otherwise (at most once per distinct note, so a long wait does not flood the log).
    pub fn note(&self, note: &str) {
        if let Some(bar) = &self.inner.bar {
            bar.set_message(format!("{} ({note})", self.inner.name));
        }
        let mut last = self
            .inner
            .last_note
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if last.as_deref() == Some(note) {
            return;
        }
        *last = Some(note.to_string());
        match self.inner.mode {
            OutputMode::Json => self.event("note", json!({ "note": note })),
            OutputMode::Plain => tracing::warn!("{}: {note}", self.inner.video),
            _ => {}
        }
    }

    /// End the stage.
    pub fn finish(&self) {
        let elapsed = self.inner.started.elapsed().as_secs_f64();
        if let Some(bar) = &self.inner.bar {
            bar.finish();
        }
        self.event(
            "stage_done",
            json!({ "done": self.done(), "seconds": elapsed }),
        );
        if self.inner.mode == OutputMode::Plain {
            tracing::info!(
                "{}: {} done in {elapsed:.1} s",
                self.inner.video,
                self.inner.name
            );
        }
    }

    fn event(&self, event: &str, fields: serde_json::Value) {
        if self.inner.mode != OutputMode::Json {
            return;
        }
        let mut obj =
            json!({ "event": event, "video": self.inner.video, "stage": self.inner.name });
        if let (Some(o), Some(f)) = (obj.as_object_mut(), fields.as_object()) {
            o.extend(f.clone());
        }
        emit(obj);
    }
}

/// Write one JSON event line to stdout.
pub fn emit(value: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
}
