//! The batch manifest (`batch.json`): every entry's video, subtitles, work directory and output,
//! the `dubber run` options every entry is dubbed with, and the batch's budget. Written once by
//! `dubber batch plan`, read by every task, never changed by a task: so each task runs exactly the
//! job that was planned, on whichever node it lands.
//!
//! Paths inside the manifest's own folder are stored relative to it (the folder may be mounted at
//! another path in a container); others are stored absolute. [`Manifest::load`] resolves them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BatchError;
use crate::pipeline::{DubJob, Workdir};

/// The manifest's format version; a task refuses a manifest it does not know.
pub const MANIFEST_VERSION: u32 = 1;

/// Environment variables that change what a task does when no flag says otherwise (the server,
/// the default voice and Whisper model). `plan` records them, set or not, and every task runs
/// with them as recorded, whatever its node's environment says. Keys are secrets and are not
/// recorded: they come from the task's environment.
pub const FROZEN_VARIABLES: &[&str] = &[
    "OPENAI_BASE_URL",
    "DUBBER_PIPER_VOICE",
    "DUBBER_WHISPER_MODEL",
];

/// One batch: what to dub, how, and how much of a shared service it may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// Tasks running at once (P): Slurm's `%P`, Kubernetes' `parallelism`.
    pub parallel: usize,
    pub budget: Budget,
    /// The `dubber run` options every entry is dubbed with, as arguments: each task parses them as
    /// `run` does, so every `run` flag works and means the same. Relative paths among them are
    /// read from the manifest's folder.
    pub run_args: Vec<String>,
    /// [`FROZEN_VARIABLES`] as they were at plan time (`null`: not set).
    #[serde(default)]
    pub env: BTreeMap<String, Option<String>>,
    pub entries: Vec<Entry>,
}

/// The TTS budget of the whole batch, divided evenly over the tasks that run at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// TTS requests in flight at most, all tasks together.
    pub tts_concurrency: usize,
    /// TTS requests started per second at most, all tasks together (`None`: no pacing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts_rate: Option<f64>,
}

impl Budget {
    /// One task's share when `parallel` tasks run at once: `tts_concurrency / parallel` requests in
    /// flight (rounded down, so the sum never exceeds the budget) and `tts_rate / parallel`
    /// requests a second.
    pub fn per_task(&self, parallel: usize) -> Budget {
        let parallel = parallel.max(1);
        Budget {
            tts_concurrency: (self.tts_concurrency / parallel).max(1),
            tts_rate: self.tts_rate.map(|r| r / parallel as f64),
        }
    }

    /// Refuse a budget that cannot be split over `parallel` tasks.
    pub fn check(&self, parallel: usize) -> Result<(), BatchError> {
        if parallel == 0 || self.tts_concurrency < parallel {
            return Err(BatchError::Budget(format!(
                "a TTS concurrency of {} cannot be shared by {parallel} parallel tasks (each needs \
                 at least 1): raise --tts-concurrency or lower --parallel",
                self.tts_concurrency
            )));
        }
        if let Some(rate) = self.tts_rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(BatchError::Budget(format!(
                "--tts-rate must be a positive number of requests a second, got {rate}"
            )));
        }
        Ok(())
    }
}

/// One video of the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub video: PathBuf,
    /// Subtitles to import; `None`: the video is transcribed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitles: Option<PathBuf>,
    pub workdir: PathBuf,
    pub output: PathBuf,
}

impl Entry {
    /// The entry as `dubber run` plans a video (paths resolved).
    pub fn job(&self) -> DubJob {
        DubJob {
            video: self.video.clone(),
            workdir: Workdir::new(&self.workdir),
            subtitles: self.subtitles.clone(),
            output: self.output.clone(),
        }
    }
}

impl Manifest {
    /// A manifest for `jobs` (as `dubber run` planned them), to be written at `path`.
    pub fn new(
        jobs: &[DubJob],
        path: &Path,
        run_args: Vec<String>,
        parallel: usize,
        budget: Budget,
    ) -> Result<Self, BatchError> {
        budget.check(parallel)?;
        let base = folder_of(&absolute(path)?);
        let store = |p: &Path| -> Result<PathBuf, BatchError> {
            let abs = absolute(p)?;
            Ok(match abs.strip_prefix(&base) {
                Ok(rel) => rel.to_path_buf(),
                Err(_) => abs,
            })
        };
        let entries = jobs
            .iter()
            .map(|job| {
                Ok(Entry {
                    video: store(&job.video)?,
                    subtitles: job.subtitles.as_deref().map(store).transpose()?,
                    workdir: store(job.workdir.root())?,
                    output: store(&job.output)?,
                })
            })
            .collect::<Result<_, BatchError>>()?;
        let env = FROZEN_VARIABLES
            .iter()
            .map(|name| (name.to_string(), std::env::var(name).ok()))
            .collect();
        Ok(Self {
            version: MANIFEST_VERSION,
            parallel,
            budget,
            run_args,
            env,
            entries,
        })
    }

    /// Write the manifest atomically.
    pub fn save(&self, path: &Path) -> Result<(), BatchError> {
        crate::fsutil::write_json_atomic(path, self).map_err(|source| BatchError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Read the manifest at `path`, with every entry's paths resolved against its folder.
    pub fn load(path: &Path) -> Result<Self, BatchError> {
        let bytes = std::fs::read(path).map_err(|source| BatchError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| BatchError::Manifest {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        if manifest.version != MANIFEST_VERSION {
            return Err(BatchError::Manifest {
                path: path.to_path_buf(),
                message: format!(
                    "version {} (this dubber reads version {MANIFEST_VERSION})",
                    manifest.version
                ),
            });
        }
        manifest.budget.check(manifest.parallel)?;
        let base = Self::folder(path)?;
        for entry in &mut manifest.entries {
            for p in [&mut entry.video, &mut entry.workdir, &mut entry.output] {
                *p = base.join(&*p);
            }
            if let Some(subtitles) = &mut entry.subtitles {
                *subtitles = base.join(&*subtitles);
            }
        }
        Ok(manifest)
    }

    /// The folder holding the manifest at `path` (absolute): where its relative paths start, and
    /// where tasks run.
    pub fn folder(path: &Path) -> Result<PathBuf, BatchError> {
        Ok(folder_of(&absolute(path)?))
    }

    /// Entry `index`, or an error naming how many there are.
    pub fn entry(&self, index: usize) -> Result<&Entry, BatchError> {
        self.entries.get(index).ok_or(BatchError::NoEntry {
            index,
            count: self.entries.len(),
        })
    }
}

fn absolute(path: &Path) -> Result<PathBuf, BatchError> {
    std::path::absolute(path).map_err(|source| BatchError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn folder_of(abs: &Path) -> PathBuf {
    abs.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_splits_without_exceeding_the_whole() {
        let budget = Budget {
            tts_concurrency: 5,
            tts_rate: Some(8.0),
        };
        let share = budget.per_task(2);
        assert_eq!(share.tts_concurrency, 2);
        assert_eq!(share.tts_rate, Some(4.0));
        assert!(budget.check(5).is_ok());
        assert!(budget.check(6).is_err());
    }

    #[test]
    fn paths_in_the_manifest_folder_are_stored_relative_and_load_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let job = DubJob {
            video: dir.path().join("videos/a.mp4"),
            workdir: Workdir::new(dir.path().join("a.dub")),
            subtitles: Some(dir.path().join("videos/a.srt")),
            output: PathBuf::from("/elsewhere/a.dubbed.mp4"),
        };
        let path = dir.path().join("batch.json");
        let budget = Budget {
            tts_concurrency: 4,
            tts_rate: None,
        };
        let manifest = Manifest::new(
            std::slice::from_ref(&job),
            &path,
            vec!["--tts".into()],
            2,
            budget,
        )
        .unwrap();
        assert_eq!(manifest.entries[0].video, Path::new("videos/a.mp4"));
        assert_eq!(manifest.entries[0].workdir, Path::new("a.dub"));
        assert_eq!(
            manifest.entries[0].output,
            Path::new("/elsewhere/a.dubbed.mp4")
        );
        manifest.save(&path).unwrap();
        let loaded = Manifest::load(&path).unwrap();
        let resolved = loaded.entry(0).unwrap().job();
        assert_eq!(resolved.video, job.video);
        assert_eq!(resolved.workdir, job.workdir);
        assert_eq!(resolved.subtitles, job.subtitles);
        assert!(loaded.entry(1).is_err());
    }
}
