//! Where each entry of a batch stands: done, running, queued, failed, or not started, from its
//! work directory (`task.json`, whether `.task.lock` is held, the output) and, where the batch was
//! submitted to Slurm, from Slurm's own view of the array task.
//!
//! The work directory is the truth about work ("done" needs the record and the output); Slurm is
//! the truth about what waits. A record saying "running" whose lock nobody holds is a task that
//! was killed: failed, until the scheduler says it is queued again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::manifest::Manifest;
use super::slurm::{self, SlurmTask};
use super::task::{TaskLock, TaskRecord, TaskState};
use crate::pipeline::Workdir;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    Done,
    Running,
    Queued,
    Failed,
    NotStarted,
}

impl EntryState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Running => "running",
            Self::Queued => "queued",
            Self::Failed => "failed",
            Self::NotStarted => "not started",
        }
    }
}

/// One entry's status.
#[derive(Debug, Clone, Serialize)]
pub struct EntryStatus {
    pub index: usize,
    pub video: PathBuf,
    pub output: PathBuf,
    pub state: EntryState,
    /// Tasks started on the entry.
    pub attempts: u32,
    /// Why it failed, for a failed entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Slurm's array task and its state (`1234_2 PENDING`), when Slurm knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slurm: Option<String>,
}

/// The status of every entry of the batch at `path`; Slurm is asked only where the batch was
/// submitted to it.
pub fn batch_status(path: &Path, manifest: &Manifest) -> Vec<EntryStatus> {
    let submissions = slurm::submissions(path);
    let view = match submissions.is_empty() {
        true => BTreeMap::new(),
        false => slurm::view(&submissions),
    };
    manifest
        .entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let workdir = Workdir::new(&entry.workdir);
            let seen = Seen {
                record: TaskRecord::read(&workdir),
                lock_held: TaskLock::is_held(&workdir),
                output_exists: entry.output.is_file(),
                slurm: view.get(&index),
            };
            let (state, error) = seen.judge();
            let error = match (state, error) {
                (EntryState::Failed, None) => last_log_line(&slurm::entry_log(path, index)),
                (_, error) => error,
            };
            EntryStatus {
                index,
                video: entry.video.clone(),
                output: entry.output.clone(),
                state,
                attempts: seen.record.as_ref().map_or(0, |r| r.attempts),
                error,
                slurm: seen.slurm.map(|t| format!("{} {}", t.id, t.state)),
            }
        })
        .collect()
}

/// What was seen of one entry.
struct Seen<'a> {
    record: Option<TaskRecord>,
    lock_held: bool,
    output_exists: bool,
    slurm: Option<&'a SlurmTask>,
}

impl Seen<'_> {
    /// The entry's state, and the error of a failed one.
    fn judge(&self) -> (EntryState, Option<String>) {
        let recorded = self.record.as_ref().map(|r| r.state);
        if recorded == Some(TaskState::Done) && self.output_exists {
            return (EntryState::Done, None);
        }
        if self.lock_held {
            return (EntryState::Running, None);
        }
        let recorded_error = self.record.as_ref().and_then(|r| r.last_error.clone());
        let stopped = "the task stopped without finishing (killed, or its node was lost)";
        match (self.slurm, recorded) {
            (Some(task), _) if task.is_queued() => (EntryState::Queued, None),
            (Some(task), _) if task.is_running() => (EntryState::Running, None),
            (Some(task), recorded) => {
                let why = match recorded {
                    Some(TaskState::Failed) => recorded_error,
                    Some(TaskState::Running) => Some(stopped.to_string()),
                    Some(TaskState::Done) => Some("the output is missing".into()),
                    None => None,
                };
                let slurm = format!("Slurm: {} {}", task.state, task.detail);
                let error = match why {
                    Some(why) => format!("{why} ({})", slurm.trim()),
                    None => slurm.trim().to_string(),
                };
                (EntryState::Failed, Some(error))
            }
            (None, None) => (EntryState::NotStarted, None),
            (None, Some(TaskState::Failed)) => (EntryState::Failed, recorded_error),
            (None, Some(TaskState::Running)) => (EntryState::Failed, Some(stopped.into())),
            (None, Some(TaskState::Done)) => {
                (EntryState::Failed, Some("the output is missing".into()))
            }
        }
    }
}

/// The last line of a task's log: what a killed task said last.
fn last_log_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| format!("log: {l}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: TaskState) -> TaskRecord {
        TaskRecord {
            state,
            attempts: 1,
            last_error: (state == TaskState::Failed).then(|| "no voice".into()),
            host: "n1".into(),
            pid: 1,
            started_at: 0,
            finished_at: None,
            scheduler_id: None,
        }
    }

    fn slurm(state: &str) -> SlurmTask {
        SlurmTask {
            id: "7_1".into(),
            state: state.into(),
            detail: String::new(),
        }
    }

    #[test]
    fn the_workdir_says_what_was_done_and_slurm_what_waits() {
        let seen = |record: Option<TaskRecord>, held, output, slurm: Option<&SlurmTask>| {
            Seen {
                record,
                lock_held: held,
                output_exists: output,
                slurm,
            }
            .judge()
            .0
        };
        use EntryState::*;
        let (pending, failed) = (slurm("PENDING"), slurm("FAILED"));
        assert_eq!(seen(Some(record(TaskState::Done)), false, true, None), Done);
        assert_eq!(
            seen(Some(record(TaskState::Done)), false, false, None),
            Failed
        );
        assert_eq!(
            seen(Some(record(TaskState::Running)), true, false, None),
            Running
        );
        // Killed: the record says running, nobody holds the lock.
        assert_eq!(
            seen(Some(record(TaskState::Running)), false, false, None),
            Failed
        );
        assert_eq!(
            seen(
                Some(record(TaskState::Running)),
                false,
                false,
                Some(&failed)
            ),
            Failed
        );
        // ... until it is queued again.
        assert_eq!(
            seen(
                Some(record(TaskState::Running)),
                false,
                false,
                Some(&pending)
            ),
            Queued
        );
        assert_eq!(seen(None, false, false, Some(&pending)), Queued);
        assert_eq!(seen(None, false, false, None), NotStarted);
        let (_, error) = Seen {
            record: Some(record(TaskState::Failed)),
            lock_held: false,
            output_exists: false,
            slurm: Some(&failed),
        }
        .judge();
        assert_eq!(error.as_deref(), Some("no voice (Slurm: FAILED)"));
    }
}
