//! `dubber batch`: a catalogue dubbed on a cluster, one task per video. `plan` freezes the videos
//! and the `run` options into a manifest, `task` dubs one entry (the index from `--index`,
//! `SLURM_ARRAY_TASK_ID` or `JOB_COMPLETION_INDEX`), `submit --slurm` submits a job array, and
//! `status` says where each entry stands. The run options are kept as arguments and parsed by
//! [`RunArgs`] in every task, so a task runs exactly what `dubber run` runs with them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use dubber::batch::{self, Budget, EntryState, Manifest, Paced, slurm};
use dubber::pipeline::run::Engines;
use dubber::pipeline::{DubJob, DubOptions};
use dubber::tts::Routed;

use super::output::{Event, Output};
use super::run::{RunArgs, burn_of, dub_options, run_inputs};
use super::{config, voices};

#[derive(Debug, Args)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub command: BatchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Freeze a batch into a manifest: the videos (folders expanded as `run` does), their work
    /// directories and outputs, and the `run` options after `--`.
    Plan(PlanArgs),
    /// Dub one entry of the manifest, as `dubber run` would, resuming from its work directory.
    Task(TaskArgs),
    /// Submit the batch as one Slurm job array; prints the job id.
    Submit(SubmitArgs),
    /// Each entry done, running, queued or failed; exits 1 while any entry failed.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    dubber batch plan lectures/ -o /share/batch.json --parallel 8 --tts-concurrency 16 \\\n    \
    -- --tts openai --voice onyx --burn soft")]
pub struct PlanArgs {
    /// Videos, or folders of videos.
    #[arg(value_name = "VIDEO", required = true)]
    pub videos: Vec<PathBuf>,
    /// The manifest to write; work directories go beside it.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Tasks running at once (P).
    #[arg(long, value_name = "P", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    /// TTS requests in flight for the whole batch, shared evenly by the P tasks [default: the run
    /// options' --max-concurrent, 5]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub tts_concurrency: Option<u16>,
    /// TTS requests started per second for the whole batch, shared evenly by the P tasks
    /// [default: no limit]
    #[arg(long, value_name = "PER_SEC")]
    pub tts_rate: Option<f64>,
    /// The `dubber run` options every video is dubbed with (after `--`); their relative paths are
    /// read from the manifest's folder.
    #[arg(last = true, value_name = "RUN OPTIONS")]
    pub run_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    /// The manifest.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// The entry to dub [default: SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX]
    #[arg(long, value_name = "I")]
    pub index: Option<usize>,
    /// Seconds to wait for an earlier task of the same entry (a ghost) to let go of its work
    /// directory before giving up.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub lock_wait: u64,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The manifest.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Submit to Slurm (sbatch).
    #[arg(long, required = true)]
    pub slurm: bool,
    /// Submit only the entries that failed.
    #[arg(long)]
    pub retry_failed: bool,
    /// Options passed on to sbatch (after `--`), e.g. `-- --partition=gpu --time=2:00:00`.
    #[arg(last = true, value_name = "SBATCH OPTIONS")]
    pub sbatch_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The manifest.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
}

pub fn run(args: BatchArgs, out: &Output) -> Result<()> {
    match args.command {
        BatchCommand::Plan(args) => plan(args, out),
        BatchCommand::Task(args) => task(args, out),
        BatchCommand::Submit(args) => submit(args, out),
        BatchCommand::Status(args) => status(args, out),
    }
}

/// The run options parsed as `dubber run VIDEO… OPTIONS` parses them.
fn parse_run_args(videos: &[PathBuf], run_args: &[String]) -> Result<RunArgs> {
    #[derive(Debug, Parser)]
    #[command(name = "dubber run", no_binary_name = true)]
    struct Frozen {
        #[command(flatten)]
        run: RunArgs,
    }
    let argv = run_args
        .iter()
        .map(Into::into)
        .chain(std::iter::once("--".into()))
        .chain(videos.iter().map(|v| v.as_os_str().to_owned()));
    let argv: Vec<std::ffi::OsString> = argv.collect();
    let frozen = Frozen::try_parse_from(argv).map_err(|e| {
        let text = e.render().to_string();
        let text = text.trim().trim_start_matches("error: ");
        let text = text
            .split("\n\nFor more information")
            .next()
            .unwrap_or(text);
        anyhow::anyhow!("the run options after `--`: {text}")
    })?;
    if frozen.run.videos.len() != videos.len() {
        bail!("the run options after `--` name a video: put the videos before `--`");
    }
    Ok(frozen.run)
}

/// Work in the manifest's folder: the run options' relative paths are read from there.
fn enter_folder(manifest: &Path) -> Result<PathBuf> {
    let folder = Manifest::folder(manifest)?;
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    std::env::set_current_dir(&folder).with_context(|| format!("entering {}", folder.display()))?;
    Ok(folder)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| path.display().to_string())
}

fn plan(args: PlanArgs, out: &Output) -> Result<()> {
    let manifest_path = absolute(&args.output)?;
    let videos = args
        .videos
        .iter()
        .map(|v| absolute(v))
        .collect::<Result<Vec<_>>>()?;
    enter_folder(&manifest_path)?;
    let run = match parse_run_args(&videos, &args.run_args) {
        Ok(run) => run,
        // A usage error, as a bad flag of `run` itself would be.
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    };
    if run.jobs != 1 {
        out.warn(
            "batch plan",
            "--jobs is left to the scheduler: each task dubs one video, --parallel at once",
        );
    }
    // Settings that cannot work fail here, not in every task.
    dub_options(&run)?;
    let jobs = dubber::pipeline::plan_jobs(&run_inputs(&run), burn_of(&run).as_ref())?;
    let budget = Budget {
        tts_concurrency: usize::from(args.tts_concurrency.unwrap_or(run.synth.tts.max_concurrent)),
        tts_rate: args.tts_rate,
    };
    let parallel = usize::from(args.parallel);
    let manifest = Manifest::new(&jobs, &manifest_path, args.run_args, parallel, budget)?;
    manifest.save(&manifest_path)?;
    let share = budget.per_task(parallel);
    if !out.is_json() {
        eprintln!(
            "{}: {} entries, {parallel} tasks at once, each with up to {} TTS requests in flight{}",
            manifest_path.display(),
            manifest.entries.len(),
            share.tts_concurrency,
            share
                .tts_rate
                .map_or_else(String::new, |r| format!(" and {r:.3} a second")),
        );
    }
    match out.is_json() {
        true => dubber::progress::emit(serde_json::json!({
            "event": "batch_planned", "manifest": manifest_path,
            "entries": manifest.entries.len(), "parallel": parallel,
            "task_tts_concurrency": share.tts_concurrency, "task_tts_rate": share.tts_rate,
        })),
        false => println!("{}", manifest_path.display()),
    }
    Ok(())
}

fn task(args: TaskArgs, out: &Output) -> Result<()> {
    let manifest_path = absolute(&args.manifest)?;
    let manifest = Manifest::load(&manifest_path)?;
    let index = batch::task_index(args.index)?;
    let entry = manifest.entry(index)?;
    enter_folder(&manifest_path)?;
    let frozen = manifest
        .env
        .iter()
        .filter(|(name, _)| batch::manifest::FROZEN_VARIABLES.contains(&name.as_str()));
    for (name, value) in frozen {
        // SAFETY: no other thread exists yet (the runtime and progress start below).
        unsafe {
            match value {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
    }
    let job = entry.job();
    if !out.is_json() && !out.is_quiet() {
        eprintln!(
            "dubber batch task {index} of {}: {} -> {}",
            manifest.entries.len(),
            job.video.display(),
            job.output.display()
        );
    }
    let (opts, tts, transcriber) = match task_setup(&manifest, &job) {
        Ok(setup) => setup,
        Err(e) => {
            // Shown by `status` as the entry's error (a bad key, a voice missing on this node).
            if let Err(not_recorded) = batch::task::record_failure(&job.workdir, &format!("{e:#}"))
            {
                tracing::warn!("{not_recorded}");
            }
            return Err(e.context(format!("entry {index} ({})", job.video.display())));
        }
    };
    let engines = Engines {
        tts: &tts,
        transcriber: transcriber.as_deref(),
    };
    let progress = out.progress();
    let lock_wait = Duration::from_secs(args.lock_wait);
    let started = std::time::Instant::now();
    let outcome = super::block_on(batch::run_task(
        &job, &engines, &opts, &progress,
        // No cost announcement per task: `dubber estimate` prices the batch's videos up front.
        None, lock_wait,
    ))?;
    let result = match &outcome {
        Ok(dubbed) => Ok(dubbed.output.as_path()),
        Err(e) => Err(e.to_string()),
    };
    let finished = outcome.as_ref().ok();
    out.event(
        Event::VideoDone {
            video: &job.video,
            seconds: started.elapsed().as_secs_f64(),
            result,
            cast: finished.map_or(&[], |d| d.synth.cast.as_slice()),
            language_warning: finished
                .and_then(|d| d.synth.report.language.as_ref())
                .and_then(|l| l.warning.as_deref()),
        },
        || {
            if let Some(dubbed) = finished {
                println!("{}", dubbed.synth.report.human_summary());
                println!("{}", dubbed.output.display());
            }
        },
    );
    outcome.with_context(|| format!("entry {index} ({})", job.video.display()))?;
    Ok(())
}

/// What one entry is dubbed with: the run options (parsed as `run` parses them) with this task's
/// share of the budget, the voice (paced to the task's share of the rate), and the transcriber for
/// a video without subtitles.
type TaskSetup = (
    DubOptions,
    Paced<Routed>,
    Option<Box<dyn dubber::stt::Transcriber>>,
);

fn task_setup(manifest: &Manifest, job: &DubJob) -> Result<TaskSetup> {
    let run = parse_run_args(std::slice::from_ref(&job.video), &manifest.run_args)?;
    let mut opts = dub_options(&run)?;
    let share = manifest.budget.per_task(manifest.parallel);
    opts.synth.batch.max_concurrent = share.tts_concurrency;
    let tts = Paced::new(
        voices::tts_engine(&run.synth.tts, &opts.synth.casting.default_voice)?,
        share.tts_rate.unwrap_or(f64::INFINITY),
    );
    let transcriber = match job.subtitles {
        None => Some(config::transcriber(&run.stt)?),
        Some(_) => None,
    };
    Ok((opts, tts, transcriber))
}

fn submit(args: SubmitArgs, out: &Output) -> Result<()> {
    let manifest_path = absolute(&args.manifest)?;
    let manifest = Manifest::load(&manifest_path)?;
    let indices: Vec<usize> = match args.retry_failed {
        true => batch::batch_status(&manifest_path, &manifest)
            .iter()
            .filter(|s| s.state == EntryState::Failed)
            .map(|s| s.index)
            .collect(),
        false => (0..manifest.entries.len()).collect(),
    };
    if indices.is_empty() {
        if !out.is_json() {
            eprintln!("no entry failed: nothing to submit");
        }
        return Ok(());
    }
    let dubber = std::env::current_exe().context("finding the dubber binary")?;
    let job_id = slurm::submit(&slurm::SubmitRequest {
        manifest: &manifest_path,
        indices: &indices,
        parallel: manifest.parallel,
        dubber: &dubber,
        extra: &args.sbatch_args,
    })?;
    if !out.is_json() {
        eprintln!(
            "submitted {} task(s) as Slurm job array {job_id} ({} at once); logs in {}",
            indices.len(),
            manifest.parallel,
            slurm::logs_dir(&manifest_path).display()
        );
    }
    match out.is_json() {
        true => dubber::progress::emit(serde_json::json!({
            "event": "batch_submitted", "job_id": job_id, "entries": indices,
        })),
        false => println!("{job_id}"),
    }
    Ok(())
}

fn status(args: StatusArgs, out: &Output) -> Result<()> {
    let manifest_path = absolute(&args.manifest)?;
    let manifest = Manifest::load(&manifest_path)?;
    let statuses = batch::batch_status(&manifest_path, &manifest);
    let count = |state: EntryState| statuses.iter().filter(|s| s.state == state).count();
    let states = [
        EntryState::Done,
        EntryState::Running,
        EntryState::Queued,
        EntryState::Failed,
        EntryState::NotStarted,
    ];
    if out.is_json() {
        let counts: serde_json::Map<String, serde_json::Value> = states
            .iter()
            .map(|s| (s.name().replace(' ', "_"), count(*s).into()))
            .collect();
        let doc = serde_json::json!({
            "manifest": manifest_path,
            "counts": counts,
            "entries": statuses,
        });
        println!("{doc}");
    } else {
        println!(
            "{:>5}  {:<12} {:>8}  video / error",
            "entry", "state", "attempts"
        );
        for s in &statuses {
            let name = s.video.file_name().map_or_else(
                || s.video.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            println!(
                "{:>5}  {:<12} {:>8}  {name}",
                s.index,
                s.state.name(),
                s.attempts
            );
            if let Some(error) = &s.error {
                println!("{:>29}{error}", "");
            }
        }
        let summary: Vec<String> = states
            .iter()
            .filter(|s| count(**s) > 0)
            .map(|s| format!("{} {}", count(*s), s.name()))
            .collect();
        println!("{}", summary.join(", "));
    }
    let failed = count(EntryState::Failed);
    if failed > 0 {
        bail!(
            "{failed} of {} entries failed; resubmit them with `dubber batch submit {} --slurm --retry-failed`",
            statuses.len(),
            manifest_path.display()
        );
    }
    Ok(())
}
