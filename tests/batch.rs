//! `dubber batch` on a real single-node Slurm cluster (`scripts/slurm-local.sh`), with a local TTS
//! server speaking OpenAI's wire format: four videos as one job array with P = 2 tasks sharing a
//! budget of 4 requests in flight; a task killed mid-synthesis (`scancel --signal=KILL`) and
//! requeued; and the index from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job), a failed entry
//! in the status, and `submit --retry-failed`.

mod common;
mod common_batch;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Faults, TestServer};
use common_batch::{
    assert_dubbed, count, dubber, lines, slurm_cluster, state_of, status, videos, wait_for, walk,
};

/// The server, on a runtime of its own that keeps serving while the test blocks.
fn tts_server(latency: Duration) -> (tokio::runtime::Runtime, TestServer) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let faults = Faults {
        latency,
        ..Faults::default()
    };
    let server = runtime.block_on(TestServer::start(faults));
    (runtime, server)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `dubber batch plan videos -o batch.json --parallel P --tts-concurrency C -- <run options>`.
fn plan(dir: &Path, server: &TestServer, parallel: &str, budget: &str) {
    let base = server.openai_base();
    let out = dubber(
        dir,
        &[
            "batch",
            "plan",
            "videos",
            "-o",
            "batch.json",
            "--parallel",
            parallel,
            "--tts-concurrency",
            budget,
            "--",
            "--tts",
            "openai",
            "--base-url",
            &base,
            "--speakers",
            "off",
            "--sentences-per-chunk",
            "1",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
}

fn submit(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["batch", "submit", "batch.json", "--slurm"];
    args.extend_from_slice(extra);
    let out = dubber(dir, &args, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let job = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        job.chars().all(|c| c.is_ascii_digit()) && !job.is_empty(),
        "{job:?}"
    );
    job
}

/// How many times the server was asked for each text.
fn asked(server: &TestServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for input in server.stats.inputs() {
        *counts.entry(input).or_default() += 1;
    }
    counts
}

#[test]
fn four_videos_as_a_job_array_with_two_tasks_sharing_four_requests() {
    let _cluster = slurm_cluster();
    // Long enough requests that each task keeps its share of the budget busy.
    let (_rt, server) = tts_server(Duration::from_millis(400));
    let dir = tempfile::tempdir().unwrap();
    let names = ["a", "b", "c", "d"];
    let videos = videos(dir.path(), &names, 5);
    plan(dir.path(), &server, "2", "4");
    let job = submit(dir.path(), &[]);

    let (doc, ok) = wait_for(dir.path(), "batch.json", Duration::from_secs(150), |d| {
        count(d, "done") == 4 || count(d, "failed") > 0
    });
    assert_eq!(
        count(&doc, "done"),
        4,
        "{doc:#}\n{}",
        common_batch::logs(dir.path())
    );
    assert!(ok, "status exits 0 when every entry is done");
    for video in &videos {
        assert_dubbed(&video.with_extension("dubbed.mp4"));
    }
    // One job array of four tasks, two at a time, logs beside the manifest.
    let submissions: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("batch.logs/submissions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(submissions[0]["job_id"], job.as_str());
    assert_eq!(submissions[0]["indices"], serde_json::json!([0, 1, 2, 3]));
    for i in 0..4 {
        let log = std::fs::read_to_string(dir.path().join(format!("batch.logs/entry-{i}.log")));
        assert!(log.unwrap().contains(&format!("batch task {i} of 4")));
    }
    // Every line once, and never more than the batch's budget in flight at the server.
    let asked = asked(&server);
    for name in names {
        for line in lines(name, 5) {
            assert_eq!(asked.get(&line), Some(&1), "{line}");
        }
    }
    let most = server.stats.max_in_flight();
    assert!(most <= 4, "the server saw {most} requests at once");
    assert!(most >= 2, "each task used its share: {most}");
    eprintln!("most requests in flight at once: {most} (budget 4, 2 tasks)");
}

#[test]
fn a_task_killed_mid_synthesis_is_requeued_and_the_batch_finishes() {
    let _cluster = slurm_cluster();
    let (_rt, server) = tts_server(Duration::from_millis(500));
    let dir = tempfile::tempdir().unwrap();
    let names = ["a", "b", "c", "d"];
    let videos = videos(dir.path(), &names, 6);
    // Four tasks at once, one request in flight each.
    plan(dir.path(), &server, "4", "4");
    let job = submit(dir.path(), &[]);
    let victim = 2;
    let victim_lines = lines(names[victim], 6);

    // Mid-synthesis: two of the victim's lines asked for, four to go.
    let started = std::time::Instant::now();
    loop {
        let asked = asked(&server);
        let seen = victim_lines
            .iter()
            .filter(|l| asked.contains_key(*l))
            .count();
        if seen >= 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the victim never started synthesizing\n{}",
            common_batch::logs(dir.path())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let task = format!("{job}_{victim}");
    let kill = Command::new("scancel")
        .args(["--signal=KILL", &task])
        .output()
        .unwrap();
    assert!(kill.status.success(), "{kill:?}");

    // Killed, it shows as failed (the others may still run), and status exits non-zero.
    let (doc, ok) = wait_for(dir.path(), "batch.json", Duration::from_secs(60), |d| {
        state_of(d, victim) == "failed"
    });
    assert!(!ok, "status exits non-zero while an entry failed: {doc:#}");
    assert!(doc["entries"][victim]["error"].is_string(), "{doc:#}");

    // Requeued by Slurm, it waits, then finishes from where it was.
    let requeue = Command::new("scontrol")
        .args(["requeue", &task])
        .output()
        .unwrap();
    assert!(requeue.status.success(), "{requeue:?}");
    // Now, rather than after the requeue delay Slurm gives the node to clean up.
    let now = Command::new("scontrol")
        .args(["update", &format!("jobid={task}"), "StartTime=now"])
        .output()
        .unwrap();
    assert!(now.status.success(), "{now:?}");
    let (doc, _) = wait_for(dir.path(), "batch.json", Duration::from_secs(30), |d| {
        state_of(d, victim) != "failed"
    });
    assert!(
        ["queued", "running", "done"].contains(&state_of(&doc, victim).as_str()),
        "{doc:#}"
    );
    let (doc, ok) = wait_for(dir.path(), "batch.json", Duration::from_secs(150), |d| {
        count(d, "done") == 4
    });
    assert!(ok, "{doc:#}");
    assert_eq!(doc["entries"][victim]["attempts"], 2, "{doc:#}");
    for video in &videos {
        assert_dubbed(&video.with_extension("dubbed.mp4"));
    }
    let partial: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".part-"))
        .collect();
    assert!(partial.is_empty(), "partial files left: {partial:?}");

    // No line synthesized twice, but for the one request in flight at the kill (one per task).
    let asked = asked(&server);
    for (i, name) in names.iter().enumerate() {
        for line in lines(name, 6) {
            let times = asked.get(&line).copied().unwrap_or(0);
            let most = if i == victim { 2 } else { 1 };
            assert!((1..=most).contains(&times), "{line}: asked {times} times");
        }
    }
    let again: usize = victim_lines.iter().map(|l| asked[l] - 1).sum();
    assert!(again <= 1, "{again} of the victim's lines asked again");
    eprintln!("after the kill, {again} of the victim's lines were asked again");
}

#[test]
fn the_index_comes_from_job_completion_index_and_failed_entries_are_retried() {
    let _cluster = slurm_cluster();
    let (_rt, server) = tts_server(Duration::from_millis(5));
    let dir = tempfile::tempdir().unwrap();
    let videos = videos(dir.path(), &["a", "b", "c"], 2);
    // Entry 1 is no video.
    std::fs::write(&videos[1], b"\x00\x00\x00\x18ftypmp42 not really a video").unwrap();
    plan(dir.path(), &server, "2", "4");

    // As a Kubernetes Indexed Job runs it: the index from JOB_COMPLETION_INDEX only.
    let out = dubber(
        dir.path(),
        &["batch", "task", "batch.json"],
        &[("JOB_COMPLETION_INDEX", "2")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_dubbed(&videos[2].with_extension("dubbed.mp4"));
    assert!(!videos[0].with_extension("dubbed.mp4").exists());
    let mut asked = server.stats.inputs();
    asked.sort();
    assert_eq!(asked, lines("c", 2), "entry 2's lines, and only those");

    let out = dubber(
        dir.path(),
        &["batch", "task", "batch.json", "--index", "1"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (doc, ok) = status(dir.path(), "batch.json");
    assert!(!ok);
    assert_eq!(state_of(&doc, 0), "not_started");
    assert_eq!(state_of(&doc, 1), "failed");
    assert_eq!(state_of(&doc, 2), "done");
    let error = doc["entries"][1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("not a media file"), "{doc:#}");

    // Only the failed entry goes back to Slurm (and fails there again, saying so).
    let job = submit(dir.path(), &["--retry-failed"]);
    let submissions: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("batch.logs/submissions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(submissions[0]["job_id"], job.as_str());
    assert_eq!(submissions[0]["indices"], serde_json::json!([1]));
    let (doc, _) = wait_for(dir.path(), "batch.json", Duration::from_secs(60), |d| {
        d["entries"][1]["attempts"] == 2 && state_of(d, 1) == "failed"
    });
    let error = doc["entries"][1]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("not a media file") && error.contains("Slurm: FAILED"),
        "{doc:#}"
    );
    assert_eq!(
        server.stats.requests(),
        2,
        "the bad entry asked for nothing"
    );
}

/// The server named by OPENAI_BASE_URL when the batch was planned is the one every task uses,
/// whatever the node's environment says.
#[test]
fn the_manifest_freezes_the_server_the_environment_named() {
    let (_rt, server) = tts_server(Duration::from_millis(5));
    let dir = tempfile::tempdir().unwrap();
    let videos = videos(dir.path(), &["a"], 2);
    let base = server.openai_base();
    let out = dubber(
        dir.path(),
        &[
            "batch",
            "plan",
            "videos",
            "-o",
            "batch.json",
            "--parallel",
            "1",
            "--",
            "--tts",
            "openai",
            "--speakers",
            "off",
        ],
        &[("OPENAI_BASE_URL", &base)],
    );
    assert!(out.status.success(), "{}", text(&out));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("batch.json")).unwrap()).unwrap();
    assert_eq!(manifest["env"]["OPENAI_BASE_URL"], base.as_str());
    assert_eq!(
        manifest["env"]["DUBBER_PIPER_VOICE"],
        serde_json::Value::Null
    );
    // The node names a server where nothing listens.
    let out = dubber(
        dir.path(),
        &["batch", "task", "batch.json", "--index", "0"],
        &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_dubbed(&videos[0].with_extension("dubbed.mp4"));
    assert_eq!(server.stats.requests(), 2);
}

/// A bad run option fails the plan; a task whose voice cannot load (no key on this node) fails
/// before it dubs, and the status shows why.
#[test]
fn a_task_that_cannot_load_its_voice_shows_why_in_the_status() {
    let dir = tempfile::tempdir().unwrap();
    videos(dir.path(), &["a"], 1);
    // A run option that `run` would refuse is a usage error at plan time, and no manifest.
    let out = dubber(
        dir.path(),
        &[
            "batch",
            "plan",
            "videos",
            "-o",
            "batch.json",
            "--",
            "--tts",
            "nope",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the run options after `--`"),
        "{}",
        text(&out)
    );
    assert!(!dir.path().join("batch.json").exists());
    let out = dubber(
        dir.path(),
        &[
            "batch",
            "plan",
            "videos",
            "-o",
            "batch.json",
            "--parallel",
            "1",
            "--",
            "--tts",
            "elevenlabs",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_dubber"))
        .args(["batch", "task", "batch.json", "--index", "0"])
        .current_dir(dir.path())
        .env_remove("ELEVENLABS_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (doc, ok) = status(dir.path(), "batch.json");
    assert!(!ok);
    assert_eq!(state_of(&doc, 0), "failed");
    assert_eq!(doc["entries"][0]["attempts"], 1);
    let error = doc["entries"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("ELEVENLABS_API_KEY is not set"), "{doc:#}");
}
