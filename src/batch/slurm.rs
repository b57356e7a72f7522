//! Slurm: a batch becomes one job array (`sbatch --array=0-(N-1)%P --requeue`), each array task
//! running `dubber batch task MANIFEST` with its index from `SLURM_ARRAY_TASK_ID`; and Slurm's own
//! view of those tasks (`squeue`, then `sacct` where accounting is on) for `dubber batch status`.
//!
//! Every submission is recorded in `<manifest stem>.logs/submissions.json` beside the manifest
//! (job id and the entries it ran), the same folder that gets each entry's log
//! (`entry-<index>.log`, appended to by every attempt), so status can ask Slurm about the right jobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::BatchError;

/// One `sbatch` of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub job_id: String,
    /// The manifest entries (array indices) it runs.
    pub indices: Vec<usize>,
    /// Seconds since the Unix epoch.
    pub submitted_at: u64,
}

/// How Slurm sees one array task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmTask {
    /// `JOBID_INDEX`.
    pub id: String,
    /// PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, REQUEUED, TIMEOUT, NODE_FAIL, ...
    pub state: String,
    /// Why it waits, or its exit code, when Slurm says.
    pub detail: String,
}

impl SlurmTask {
    /// Waiting to run (or to run again).
    pub fn is_queued(&self) -> bool {
        matches!(
            self.state.as_str(),
            "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "CONFIGURING" | "SUSPENDED"
        )
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state.as_str(), "RUNNING" | "COMPLETING")
    }

    /// Ended without success.
    pub fn has_failed(&self) -> bool {
        !self.is_queued() && !self.is_running() && self.state != "COMPLETED"
    }
}

/// The folder beside the manifest that holds the tasks' logs and the submissions.
pub fn logs_dir(manifest: &Path) -> PathBuf {
    let stem = manifest
        .file_stem()
        .map_or_else(|| "batch".into(), |s| s.to_string_lossy().into_owned());
    manifest.with_file_name(format!("{stem}.logs"))
}

/// Entry `index`'s log.
pub fn entry_log(manifest: &Path, index: usize) -> PathBuf {
    logs_dir(manifest).join(format!("entry-{index}.log"))
}

/// The submissions of the batch at `manifest`, oldest first.
pub fn submissions(manifest: &Path) -> Vec<Submission> {
    std::fs::read(logs_dir(manifest).join("submissions.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// `--array`'s value: the indices as ranges (`0-3`, `1,4-6`), at most `parallel` at once.
pub fn array_spec(indices: &[usize], parallel: usize) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(match end > start {
            true => format!("{start}-{end}"),
            false => start.to_string(),
        });
        i += 1;
    }
    format!("{}%{}", parts.join(","), parallel.max(1))
}

/// What to submit: the batch at `manifest` (absolute), its entries `indices`, each task running
/// `dubber` (absolute), with `extra` options passed to sbatch last (they win).
#[derive(Debug)]
pub struct SubmitRequest<'a> {
    pub manifest: &'a Path,
    pub indices: &'a [usize],
    pub parallel: usize,
    pub dubber: &'a Path,
    pub extra: &'a [String],
}

/// Submit one job array through `sbatch`, record it, and return its job id.
pub fn submit(request: &SubmitRequest<'_>) -> Result<String, BatchError> {
    let manifest = request.manifest;
    let logs = logs_dir(manifest);
    std::fs::create_dir_all(&logs).map_err(|source| BatchError::Io {
        path: logs.clone(),
        source,
    })?;
    let folder = manifest.parent().unwrap_or(Path::new("/"));
    let stem = manifest
        .file_stem()
        .map_or_else(|| "batch".into(), |s| s.to_string_lossy().into_owned());
    let script = format!(
        "#!/bin/sh\n# dubber batch: array task I dubs entry I of the manifest\n\
         # Plain logs: they go to a file.\nexport NO_COLOR=1\nexec {} batch task {}\n",
        shell_quote(&request.dubber.to_string_lossy()),
        shell_quote(&manifest.to_string_lossy()),
    );
    let mut args: Vec<String> = vec![
        "--parsable".into(),
        format!("--job-name=dubber-{stem}"),
        format!("--array={}", array_spec(request.indices, request.parallel)),
        "--requeue".into(),
        "--open-mode=append".into(),
        format!("--output={}", logs.join("entry-%a.log").display()),
        format!("--chdir={}", folder.display()),
    ];
    args.extend(request.extra.iter().cloned());
    let mut child = Command::new("sbatch")
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| BatchError::Slurm(format!("cannot run sbatch: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| BatchError::Slurm(format!("writing the job script to sbatch: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| BatchError::Slurm(format!("sbatch: {e}")))?;
    if !out.status.success() {
        return Err(BatchError::Slurm(format!(
            "sbatch {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job_id = stdout
        .trim()
        .split(';')
        .next()
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| BatchError::Slurm(format!("sbatch printed no job id: {stdout:?}")))?
        .to_string();
    let mut all = submissions(manifest);
    all.push(Submission {
        job_id: job_id.clone(),
        indices: request.indices.to_vec(),
        submitted_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    });
    let path = logs.join("submissions.json");
    crate::fsutil::write_json_atomic(&path, &all)
        .map_err(|source| BatchError::Io { path, source })?;
    Ok(job_id)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Slurm's view of every entry of `submissions` (the latest submission of an entry wins), or an
/// empty map where Slurm's commands are missing or no longer know the jobs.
pub fn view(submissions: &[Submission]) -> BTreeMap<usize, SlurmTask> {
    let mut tasks = BTreeMap::new();
    for submission in submissions {
        let known = squeue(&submission.job_id);
        let known = match known.is_empty() {
            true => sacct(&submission.job_id),
            false => known,
        };
        for index in &submission.indices {
            let id = format!("{}_{index}", submission.job_id);
            // A newer submission the scheduler has forgotten says nothing.
            if let Some(task) = known.get(&id) {
                tasks.insert(*index, task.clone());
            }
        }
    }
    tasks
}

/// `squeue`'s lines for one job array, one per task (finished ones while Slurm keeps them).
fn squeue(job_id: &str) -> BTreeMap<String, SlurmTask> {
    let out = Command::new("squeue")
        .args(["-h", "-r", "-t", "all", "-j", job_id, "-o", "%i|%T|%r"])
        .output();
    parse_lines(out)
}

/// `sacct`'s lines for one job array, where accounting is on.
fn sacct(job_id: &str) -> BTreeMap<String, SlurmTask> {
    let out = Command::new("sacct")
        .args(["-n", "-P", "-X", "-j", job_id, "-o", "JobID,State,ExitCode"])
        .output();
    parse_lines(out)
}

fn parse_lines(out: std::io::Result<std::process::Output>) -> BTreeMap<String, SlurmTask> {
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        return BTreeMap::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('|');
            let id = fields.next()?.trim().to_string();
            // sacct says `CANCELLED by 0`.
            let state = fields.next()?.split_whitespace().next()?.to_string();
            let detail = fields.next().unwrap_or_default().trim().to_string();
            Some((id.clone(), SlurmTask { id, state, detail }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_are_ranges_with_the_parallel_limit() {
        assert_eq!(array_spec(&[0, 1, 2, 3], 2), "0-3%2");
        assert_eq!(array_spec(&[4, 1, 5, 6], 3), "1,4-6%3");
        assert_eq!(array_spec(&[2], 1), "2%1");
    }

    #[test]
    fn logs_sit_beside_the_manifest() {
        let m = Path::new("/share/b/batch.json");
        assert_eq!(logs_dir(m), Path::new("/share/b/batch.logs"));
        assert_eq!(
            entry_log(m, 3),
            Path::new("/share/b/batch.logs/entry-3.log")
        );
    }

    #[test]
    fn slurm_states_sort_into_queued_running_and_failed() {
        let task = |state: &str| SlurmTask {
            id: "1_0".into(),
            state: state.into(),
            detail: String::new(),
        };
        assert!(task("PENDING").is_queued());
        assert!(task("RUNNING").is_running());
        assert!(task("NODE_FAIL").has_failed());
        assert!(task("CANCELLED").has_failed());
        assert!(!task("COMPLETED").has_failed());
    }
}
