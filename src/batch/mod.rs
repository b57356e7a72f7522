//! Batches on a cluster: a catalogue of videos dubbed as one Slurm job array or one Kubernetes
//! Indexed Job, one task per video. dubber schedules nothing itself; it makes each task a good
//! citizen of the scheduler the cluster has:
//! - [`manifest`]: `batch.json`, written once by `dubber batch plan`: every entry's paths, the
//!   `run` options, and the batch's TTS budget, so every task runs exactly the planned job.
//! - [`task`]: one entry dubbed by the same [`crate::pipeline::dub_one`] as `dubber run`, under a
//!   lock held for the whole task (a requeued task never writes beside a ghost of itself), with
//!   its state in the work directory.
//! - [`pace`]: a task's share of the batch's request rate.
//! - [`slurm`]: `sbatch --array`, and Slurm's view of the tasks.
//! - [`status`]: each entry done, running, queued or failed.
//!
//! Shared storage is the contract: the manifest, the media and the work directories live on a file
//! system every node mounts, and a task writes only in its work directory and to its output.

pub mod manifest;
pub mod pace;
pub mod slurm;
pub mod status;
pub mod task;

use std::path::PathBuf;
use std::time::Duration;

pub use manifest::{Budget, Entry, MANIFEST_VERSION, Manifest};
pub use pace::Paced;
pub use status::{EntryState, EntryStatus, batch_status};
pub use task::{TaskLock, TaskRecord, TaskState, run_task, task_index};

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a dubber batch manifest: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error("{0}")]
    Budget(String),
    #[error("no task index: {message}")]
    Index { message: String },
    #[error("the batch has {count} entries (0 to {}); there is no entry {index}", count.saturating_sub(1))]
    NoEntry { index: usize, count: usize },
    #[error(
        "{}: another task of this entry is still running (a ghost of a requeued task?); waited {}s for it to finish",
        lock.display(), waited.as_secs()
    )]
    Busy { lock: PathBuf, waited: Duration },
    #[error("{0}")]
    Slurm(String),
    #[error(transparent)]
    Dub(#[from] crate::pipeline::run::DubError),
    #[error("a worker thread failed: {0}")]
    Worker(String),
}
