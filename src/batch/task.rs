//! One batch task: one manifest entry dubbed as `dubber run` would, under a lock that lasts the
//! whole task, with its state written to the work directory for `dubber batch status`.
//!
//! Why a lock of its own: prep and synth each lock the work directory while they run, but between
//! them it is free, and a scheduler may start a task again (a requeue after a node was lost) while
//! the first run, a ghost, still writes. `.task.lock` is held from start to end, so the second run
//! waits for it (`--lock-wait`) and then gives up rather than write beside the first. It is an
//! `flock`, released by the kernel however the holder ends, and honoured across nodes where the
//! file system supports it (NFS, where Linux maps it to a POSIX lock; CephFS; GPFS; Lustre mounted
//! with `-o flock`): see the README on what the shared storage must provide.
//!
//! Holding the lock, the task is the only writer of its work directory and its output, so it
//! removes the temporary files a killed run left there (`.<name>.part-<pid>-<n>.<ext>`): outputs
//! only ever appear by rename, and no half-written file outlives the run that wrote it.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::BatchError;
use crate::pipeline::run::{BeforeSynth, DubError, Dubbed, Engines};
use crate::pipeline::{DubJob, DubOptions, Workdir, dub_one};
use crate::progress::Progress;
use crate::tts::Synthesizer;

/// The variables a scheduler sets to a task's index, in the order they are read.
pub const INDEX_VARIABLES: &[&str] = &["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

/// Where a task stands, as its work directory records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Running,
    Done,
    Failed,
}

/// `task.json`: the state of an entry's last task, its attempts and its last error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub state: TaskState,
    /// Tasks started on this entry, this one included.
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Host and process of the last task to start.
    pub host: String,
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<u64>,
    /// The scheduler's name for the task (`1234_2` on Slurm), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_id: Option<String>,
}

impl TaskRecord {
    /// `task.json` of `workdir`, if a task ever started there (an unreadable one counts as none).
    pub fn read(workdir: &Workdir) -> Option<Self> {
        let bytes = std::fs::read(workdir.task_json()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The record of a task starting now in `workdir`: one more attempt than the last one.
    fn start(workdir: &Workdir) -> Self {
        let previous = Self::read(workdir);
        Self {
            state: TaskState::Running,
            attempts: previous.as_ref().map_or(0, |r| r.attempts) + 1,
            last_error: previous.and_then(|r| r.last_error),
            host: hostname(),
            pid: std::process::id(),
            started_at: now_secs(),
            finished_at: None,
            scheduler_id: scheduler_id(),
        }
    }

    fn write(&self, workdir: &Workdir) -> Result<(), BatchError> {
        let path = workdir.task_json();
        crate::fsutil::write_json_atomic(&path, self)
            .map_err(|source| BatchError::Io { path, source })
    }
}

/// The index of the task to run: `explicit`, else the first of [`INDEX_VARIABLES`] that is set.
pub fn task_index(explicit: Option<usize>) -> Result<usize, BatchError> {
    if let Some(index) = explicit {
        return Ok(index);
    }
    for name in INDEX_VARIABLES {
        if let Ok(value) = std::env::var(name) {
            return value.trim().parse().map_err(|_| BatchError::Index {
                message: format!("{name}={value:?} is not an index"),
            });
        }
    }
    Err(BatchError::Index {
        message: format!("pass --index, or set {}", INDEX_VARIABLES.join(" or ")),
    })
}

/// `.task.lock`, held for the task's whole run; released when dropped or when the process ends.
#[derive(Debug)]
pub struct TaskLock {
    _file: std::fs::File,
}

impl TaskLock {
    /// Take the task lock of `workdir`, trying again every 200 ms for up to `wait`.
    pub fn acquire(workdir: &Workdir, wait: Duration) -> Result<Self, BatchError> {
        workdir.create().map_err(|source| BatchError::Io {
            path: workdir.root().to_path_buf(),
            source,
        })?;
        let path = workdir.task_lock();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| BatchError::Io {
                path: path.clone(),
                source,
            })?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(BatchError::Busy {
                        lock: path,
                        waited: wait,
                    });
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(BatchError::Io { path, source });
                }
            }
        }
    }

    /// Whether a task holds `workdir`'s lock now (a probe that takes and drops a shared lock; a
    /// task starting at that instant waits for it, as for any holder).
    pub fn is_held(workdir: &Workdir) -> bool {
        let Ok(file) = std::fs::File::open(workdir.task_lock()) else {
            return false;
        };
        matches!(
            file.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        )
    }
}

/// Remove the temporary files a killed run left in the work directory and beside the output:
/// `.<name>.part-<pid>-<n>[.<ext>]` ([`crate::fsutil::TempFile`]'s names). Call it holding the
/// task lock. Returns how many it removed.
pub fn remove_stale_parts(workdir: &Workdir, output: &Path) -> usize {
    let mut removed = 0;
    let mut dirs = vec![workdir.root().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else if is_part(&path, None) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned());
    if let (Some(folder), Some(stem)) = (output.parent(), stem)
        && let Ok(entries) = std::fs::read_dir(folder)
    {
        for path in entries.flatten().map(|e| e.path()) {
            if is_part(&path, Some(&stem)) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// A temporary file's name, of any target or of the target named `stem`.
fn is_part(path: &Path, stem: Option<&str>) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some((head, _)) = name.split_once(".part-") else {
        return false;
    };
    match stem {
        Some(stem) => head.strip_prefix('.') == Some(stem),
        None => head.starts_with('.'),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The scheduler's name for this task, from its environment: `JOB_TASK` on Slurm, the pod's name
/// (its `HOSTNAME`) on a Kubernetes Indexed Job.
fn scheduler_id() -> Option<String> {
    let var = |n: &str| std::env::var(n).ok();
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(job), Some(task)) => Some(format!("{job}_{task}")),
        _ => var("SLURM_JOB_ID")
            .or_else(|| var("HOSTNAME").filter(|_| var("JOB_COMPLETION_INDEX").is_some())),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Dub one entry as `dubber run` would ([`dub_one`]), holding its task lock (waiting up to
/// `lock_wait` for a previous run to let go), with `task.json` saying running, then done or failed
/// with the error.
pub async fn run_task<S: Synthesizer>(
    job: &DubJob,
    engines: &Engines<'_, S>,
    opts: &DubOptions,
    progress: &Progress,
    before_synth: Option<BeforeSynth<'_>>,
    lock_wait: Duration,
) -> Result<Dubbed, BatchError> {
    let workdir = job.workdir.clone();
    let _lock = tokio::task::spawn_blocking(move || TaskLock::acquire(&workdir, lock_wait))
        .await
        .map_err(|e| BatchError::Worker(e.to_string()))??;
    let removed = remove_stale_parts(&job.workdir, &job.output);
    if removed > 0 {
        tracing::info!(
            "{}: removed {removed} partial file(s) of an earlier run",
            job.workdir.root().display()
        );
    }
    let mut record = TaskRecord::start(&job.workdir);
    record.write(&job.workdir)?;
    let outcome = dub_one(job, engines, opts, progress, before_synth).await;
    record.finished_at = Some(now_secs());
    match &outcome {
        Ok(_) => {
            record.state = TaskState::Done;
            record.last_error = None;
        }
        Err(e) => {
            record.state = TaskState::Failed;
            record.last_error = Some(error_chain(e));
        }
    }
    record.write(&job.workdir)?;
    outcome.map_err(BatchError::Dub)
}

/// Record a task that failed before it could dub (an engine that would not load, a missing key),
/// so that `status` shows its error. Nothing is written while another task holds the entry.
pub fn record_failure(workdir: &Workdir, error: &str) -> Result<(), BatchError> {
    let _lock = TaskLock::acquire(workdir, Duration::ZERO)?;
    let mut record = TaskRecord::start(workdir);
    record.state = TaskState::Failed;
    record.last_error = Some(error.to_string());
    record.finished_at = Some(record.started_at);
    record.write(workdir)
}

fn error_chain(e: &DubError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_task_lock_makes_the_second_run_wait_then_give_up() {
        let dir = tempfile::tempdir().unwrap();
        let w = Workdir::new(dir.path().join("a.dub"));
        assert!(!TaskLock::is_held(&w));
        let held = TaskLock::acquire(&w, Duration::ZERO).unwrap();
        assert!(TaskLock::is_held(&w));
        let started = Instant::now();
        let err = TaskLock::acquire(&w, Duration::from_millis(500)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(500));
        assert!(matches!(err, BatchError::Busy { .. }), "{err}");
        drop(held);
        assert!(!TaskLock::is_held(&w));
        TaskLock::acquire(&w, Duration::ZERO).unwrap();
    }

    #[test]
    fn stale_parts_of_the_entry_go_and_other_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let w = Workdir::new(dir.path().join("a.dub"));
        std::fs::create_dir_all(w.tts_cache_dir()).unwrap();
        let out = dir.path().join("a.dubbed.mp4");
        let files = [
            (w.root().join(".mix.part-77-0.wav"), false),
            (w.tts_cache_dir().join(".ab12.part-77-3.wav"), false),
            (w.root().join("report.json"), true),
            (dir.path().join(".a.dubbed.part-77-1.mp4"), false),
            (dir.path().join(".b.dubbed.part-77-2.mp4"), true),
        ];
        for (path, _) in &files {
            std::fs::write(path, b"x").unwrap();
        }
        assert_eq!(remove_stale_parts(&w, &out), 3);
        for (path, kept) in &files {
            assert_eq!(path.exists(), *kept, "{}", path.display());
        }
    }
}
