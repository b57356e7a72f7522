//! For the `dubber batch` tests: the single-node Slurm cluster of `scripts/slurm-local.sh` (started
//! once per test binary; a machine without Slurm fails the test, saying so), a folder of short
//! videos each with its own lines, and polling `dubber batch status --json`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Start the local Slurm cluster (once per process) and hold the cluster for one test: the tests
/// take turns, so one test's tasks never wait behind another's.
pub fn slurm_cluster() -> MutexGuard<'static, ()> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    static TURN: Mutex<()> = Mutex::new(());
    let started = STARTED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-local.sh");
        match Command::new("bash").arg(script).arg("start").output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        }
    });
    if let Err(message) = started {
        panic!(
            "the local Slurm cluster did not start, so this test cannot run: {message}\n\
             It needs root and Debian's slurm-wlm and munge (scripts/setup.sh installs them)."
        );
    }
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// The lines of video `name`: `count` one-second lines 2.2 s apart (a pause long enough to end a
/// TTS chunk), each naming the video, so the server's log tells the videos apart.
pub fn lines(name: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("Video {name} says line number {i} of the lecture."))
        .collect()
}

fn srt(lines: &[String]) -> String {
    let ts = |ms: u64| {
        format!(
            "{:02}:{:02}:{:02},{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let start = 500 + 2200 * i as u64;
            format!(
                "{}\n{} --> {}\n{line}\n\n",
                i + 1,
                ts(start),
                ts(start + 1000)
            )
        })
        .collect()
}

/// Video length of [`videos`].
pub const VIDEO_SECS: f64 = 12.0;

/// `names.len()` 12-second videos in `dir/videos`, each with a sibling `.srt` of `per_video` lines
/// ([`lines`]).
pub fn videos(dir: &Path, names: &[&str], per_video: usize) -> Vec<PathBuf> {
    let folder = dir.join("videos");
    std::fs::create_dir_all(&folder).unwrap();
    let first = folder.join(format!("{}.mp4", names[0]));
    let status = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-demo-video.sh"))
        .arg(&first)
        .arg("12")
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    names
        .iter()
        .map(|name| {
            let video = folder.join(format!("{name}.mp4"));
            if video != first {
                std::fs::copy(&first, &video).unwrap();
            }
            std::fs::write(video.with_extension("srt"), srt(&lines(name, per_video))).unwrap();
            video
        })
        .collect()
}

/// Run `dubber ARGS` in `dir` (blocking; call from a blocking thread or a sync test).
pub fn dubber(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dubber"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run dubber")
}

/// `dubber batch status MANIFEST --json`: the document and whether it exited 0.
pub fn status(dir: &Path, manifest: &str) -> (serde_json::Value, bool) {
    let out = dubber(dir, &["batch", "status", manifest, "--json"], &[]);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, out.status.success())
}

/// Poll the status every 300 ms until `done` says so; fails after `limit`, showing the last status
/// and the tasks' logs.
pub fn wait_for(
    dir: &Path,
    manifest: &str,
    limit: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> (serde_json::Value, bool) {
    let started = Instant::now();
    loop {
        let (doc, ok) = status(dir, manifest);
        if done(&doc) {
            return (doc, ok);
        }
        if started.elapsed() > limit {
            panic!("waited {limit:?}; status: {doc:#}\n{}", logs(dir));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Every task log beside the manifests in `dir`.
pub fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in walk(dir) {
        if entry.extension().is_some_and(|e| e == "log") {
            text.push_str(&format!("--- {}\n", entry.display()));
            text.push_str(&std::fs::read_to_string(&entry).unwrap_or_default());
        }
    }
    text
}

/// Every file under `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// The count of entries in `state` in a status document.
pub fn count(doc: &serde_json::Value, state: &str) -> u64 {
    doc["counts"][state].as_u64().unwrap_or(0)
}

/// The entry's state in a status document.
pub fn state_of(doc: &serde_json::Value, index: usize) -> String {
    doc["entries"][index]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The output is a valid video as long as the original.
pub fn assert_dubbed(output: &Path) {
    let info = dubber::media::probe(output)
        .unwrap_or_else(|e| panic!("{}: not a valid video: {e}", output.display()));
    assert!(
        (info.duration_secs - VIDEO_SECS).abs() < 0.1,
        "{}: {} s",
        output.display(),
        info.duration_secs
    );
    let kinds: Vec<_> = info.streams.iter().map(|s| s.kind).collect();
    assert!(
        kinds.contains(&dubber::media::StreamKind::Audio),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&dubber::media::StreamKind::Video),
        "{kinds:?}"
    );
}
