//! `dubber run` in the library: [`dub_one`] takes one video through prep → synth → burn with the
//! same stage functions the staged commands call, and [`dub_all`] runs many videos at once under
//! one provider limit; one failing video does not stop the others.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::Semaphore;

use crate::llm::OpenAiChat;
use crate::media::{self, MediaError};
use crate::pipeline::burn::{Burn, burn, reviewed_tracks};
use crate::pipeline::prep::{PrepError, PrepOptions, PrepSource, Prepared, prepare};
use crate::pipeline::state::sha256_hex;
use crate::pipeline::synth::{SynthContext, SynthOptions, SynthOutcome, SynthStageError, synth_in};
use crate::pipeline::workdir::{Workdir, output_beside, output_name};
use crate::progress::Progress;
use crate::stt::{TranscribeOptions, Transcriber};
use crate::tts::Synthesizer;

/// File extensions taken from a folder.
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mkv", "mov", "webm", "m4v", "avi"];

#[derive(Debug, thiserror::Error)]
pub enum DubError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Prep(#[from] PrepError),
    #[error(transparent)]
    Synth(#[from] SynthStageError),
    #[error("{}: no subtitles beside the video and no transcriber", video.display())]
    NoTranscriber { video: PathBuf },
    #[error("{}: cannot list the folder: {source}", path.display())]
    ListFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no videos found in {0}")]
    NoVideos(String),
    #[error(
        "--subtitles and --workdir name one video's files; with several videos, put <stem>.srt beside each video"
    )]
    OneVideoOnly,
    #[error("{}: cannot create the output folder: {source}", path.display())]
    OutputFolder {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One video's plan: where it works, what it reads, where it writes.
#[derive(Debug, Clone)]
pub struct DubJob {
    pub video: PathBuf,
    pub workdir: Workdir,
    /// Subtitles to import; `None` transcribes the video.
    pub subtitles: Option<PathBuf>,
    pub output: PathBuf,
}

/// Where a run's videos come from and where they go, as the user named them.
#[derive(Debug, Clone, Default)]
pub struct RunInputs {
    /// Videos, or folders of videos.
    pub videos: Vec<PathBuf>,
    /// Subtitles of the one video [default: its sibling `.srt`/`.vtt`/`.json`/`.ass`/`.ssa`/
    /// `.sbv`/`.ttml`/`.dfxp`, else transcribed].
    pub subtitles: Option<PathBuf>,
    /// Work directory of the one video [default: `./<stem>.dub`].
    pub workdir: Option<PathBuf>,
    /// Output file (one video) or folder (several) [default: `<stem>.dubbed.<ext>` beside each].
    pub output: Option<PathBuf>,
}

/// Every setting of one video's dub; the same for every video of a run.
#[derive(Debug, Clone)]
pub struct DubOptions {
    pub prep: PrepOptions,
    pub transcribe: TranscribeOptions,
    /// The synth settings; `output` is set per video.
    pub synth: SynthOptions,
    /// Subtitles into the dubbed video as the last stage.
    pub burn: Option<Burn>,
}

/// What one video became.
#[derive(Debug)]
pub struct Dubbed {
    pub synth: SynthOutcome,
    /// The final video (burned when asked).
    pub output: PathBuf,
}

/// How one video of a run ended.
#[derive(Debug)]
pub struct DubResult {
    pub video: PathBuf,
    pub seconds: f64,
    pub outcome: Result<Dubbed, DubError>,
}

/// Called before a video's synthesis starts, with the lines it will speak (e.g. to announce what
/// it will cost).
pub type BeforeSynth<'a> = &'a (dyn Fn(&Workdir, &[crate::Segment]) + Sync);

/// The engines of a run: the voice, and the transcriber for videos without subtitles.
pub struct Engines<'a, S> {
    pub tts: &'a S,
    pub transcriber: Option<&'a dyn Transcriber>,
}

/// Expand folders into the video files they hold (sorted; dubbed outputs left out), keep files
/// as given, and plan each video's work directory, subtitles and output.
pub fn plan_jobs(inputs: &RunInputs, burn: Option<&Burn>) -> Result<Vec<DubJob>, DubError> {
    let videos = expand_videos(&inputs.videos)?;
    let several = videos.len() > 1;
    if several && (inputs.subtitles.is_some() || inputs.workdir.is_some()) {
        return Err(DubError::OneVideoOnly);
    }
    if let Some(out) = inputs.output.as_ref().filter(|_| several) {
        std::fs::create_dir_all(out).map_err(|source| DubError::OutputFolder {
            path: out.clone(),
            source,
        })?;
    }
    let ext = burn.and_then(Burn::output_extension);
    let names = distinct_names(&videos);
    let mut jobs: Vec<DubJob> = videos
        .into_iter()
        .zip(&names)
        .map(|(video, name)| DubJob {
            workdir: match &inputs.workdir {
                Some(dir) => Workdir::new(dir),
                None => Workdir::named(name),
            },
            subtitles: inputs
                .subtitles
                .clone()
                .or_else(|| sibling_subtitles(&video)),
            output: match &inputs.output {
                Some(dir) if several => dir.join(output_name(name, &video, "dubbed", ext)),
                Some(file) => file.clone(),
                None => output_beside(&video, "dubbed", ext),
            },
            video,
        })
        .collect();
    // Two outputs beside their videos can still meet (`ep.mp4` and `ep.mkv` burned hard, both to
    // `ep.dubbed.mp4`): those take the distinct name.
    let outputs: Vec<PathBuf> = jobs.iter().map(|j| j.output.clone()).collect();
    for (job, name) in jobs.iter_mut().zip(&names) {
        if outputs.iter().filter(|o| **o == job.output).count() > 1 {
            job.output = job
                .video
                .with_file_name(output_name(name, &job.video, "dubbed", ext));
        }
    }
    Ok(jobs)
}

/// Names that tell a run's videos apart, for their work directories and for outputs gathered in
/// one folder: the file stem (`ep`); where videos share a stem, the parent folder and the stem
/// (`s1-ep`); where even that repeats, the stem and a hash of the path. The same inputs always
/// get the same names, so a resumed run finds its work again.
fn distinct_names(videos: &[PathBuf]) -> Vec<String> {
    let stem = |v: &Path| {
        v.file_stem()
            .map_or_else(|| "video".to_string(), |s| s.to_string_lossy().into_owned())
    };
    let with_parent = |v: &Path| {
        let parent = std::path::absolute(v).ok().and_then(|p| {
            p.parent()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        });
        match parent {
            Some(parent) => format!("{parent}-{}", stem(v)),
            None => stem(v),
        }
    };
    let with_hash = |v: &Path| {
        let path = std::path::absolute(v).unwrap_or_else(|_| v.to_path_buf());
        let hash = sha256_hex(path.to_string_lossy().as_bytes());
        format!("{}-{}", stem(v), &hash[..8])
    };
    let count = |names: &[String], name: &str| names.iter().filter(|n| *n == name).count();
    let stems: Vec<String> = videos.iter().map(|v| stem(v)).collect();
    let parents: Vec<String> = videos.iter().map(|v| with_parent(v)).collect();
    videos
        .iter()
        .enumerate()
        .map(
            |(i, v)| match (count(&stems, &stems[i]), count(&parents, &parents[i])) {
                (1, _) => stems[i].clone(),
                (_, 1) => parents[i].clone(),
                _ => with_hash(v),
            },
        )
        .collect()
}

fn expand_videos(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, DubError> {
    let mut videos = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            videos.push(input.clone());
            continue;
        }
        let entries = std::fs::read_dir(input).map_err(|source| DubError::ListFolder {
            path: input.clone(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            })
            .filter(|p| !p.to_string_lossy().contains(".dubbed."))
            .collect();
        found.sort();
        videos.extend(found);
    }
    // The same file named twice is dubbed once.
    let mut seen = std::collections::HashSet::new();
    videos.retain(|v| seen.insert(std::fs::canonicalize(v).unwrap_or_else(|_| v.clone())));
    if videos.is_empty() {
        let named: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        return Err(DubError::NoVideos(named.join(", ")));
    }
    Ok(videos)
}

/// A subtitle file beside the video: `<stem>.srt`, `.vtt`, `.json`, `.ass`, `.ssa`, `.sbv`,
/// `.ttml` or `.dfxp`, the first that exists (not `.xml`, which may be anything).
fn sibling_subtitles(video: &Path) -> Option<PathBuf> {
    ["srt", "vtt", "json", "ass", "ssa", "sbv", "ttml", "dfxp"]
        .iter()
        .map(|ext| video.with_extension(ext))
        .find(|p| p.is_file())
}

/// prep (unless its inputs are unchanged) → synth → burn, for one video.
pub async fn dub_one<S: Synthesizer>(
    job: &DubJob,
    engines: &Engines<'_, S>,
    opts: &DubOptions,
    progress: &Progress,
    before_synth: Option<BeforeSynth<'_>>,
) -> Result<Dubbed, DubError> {
    let label = job.video.display().to_string();
    // A file that is no video fails here, before anything is written.
    {
        let video = job.video.clone();
        tokio::task::spawn_blocking(move || media::probe(&video))
            .await
            .map_err(|e| SynthStageError::Worker(e.to_string()))??;
    }
    let prep_opts = PrepOptions {
        skip_when_current: true,
        casting: Some(opts.synth.casting.clone()),
        video: Some(job.video.clone()),
        ..opts.prep.clone()
    };
    let source = match (&job.subtitles, engines.transcriber) {
        (Some(subtitles), _) => PrepSource::Subtitles(subtitles),
        (None, Some(transcriber)) => PrepSource::Transcript {
            video: &job.video,
            transcriber,
            options: &opts.transcribe,
        },
        (None, None) => {
            return Err(DubError::NoTranscriber {
                video: job.video.clone(),
            });
        }
    };
    match prepare::<OpenAiChat>(&job.workdir, source, &prep_opts, None).await? {
        Prepared::UpToDate => tracing::info!("{label}: prep is up to date"),
        Prepared::Written(outcome) => {
            for fix in &outcome.fixes {
                let from = job.subtitles.as_deref().unwrap_or(&job.video);
                progress.warn(&label, &format!("{}:{fix}", from.display()));
            }
            // Also in report.json and the run's summary, from manifest.json.
            if let Some(warning) = outcome.manifest.language.and_then(|l| l.warning) {
                progress.warn(&label, &warning);
            }
        }
    }
    // With --burn, the dubbed video is an intermediate in the work directory.
    let dubbed = match &opts.burn {
        Some(_) => {
            let ext = job.video.extension().and_then(|e| e.to_str());
            job.workdir.dubbed_video(ext.unwrap_or("mp4"))
        }
        None => job.output.clone(),
    };
    let synth_opts = SynthOptions {
        output: Some(dubbed.clone()),
        ..opts.synth.clone()
    };
    let context = SynthContext::open(&job.video, &job.workdir, &synth_opts).await?;
    if let Some(hook) = before_synth {
        hook(&job.workdir, context.segments());
    }
    let outcome = synth_in::<S, OpenAiChat>(
        context,
        &job.video,
        &job.workdir,
        engines.tts,
        &synth_opts,
        progress,
        None,
    )
    .await?;
    if let Some(how) = &opts.burn {
        let tracks = reviewed_tracks(&job.workdir, opts.synth.mux.language.clone());
        let (how, out) = (how.clone(), job.output.clone());
        tokio::task::spawn_blocking(move || burn(&dubbed, &tracks, &how, &out))
            .await
            .map_err(|e| SynthStageError::Worker(e.to_string()))??;
    }
    Ok(Dubbed {
        synth: outcome,
        output: job.output.clone(),
    })
}

/// [`dub_one`] for every job, `parallel` videos at once, all sharing one limit of
/// `max_concurrent` requests in flight to the voice (the batch runner's `shared_limit`). Results
/// come back in the jobs' order.
pub async fn dub_all<S: Synthesizer>(
    jobs: &[DubJob],
    engines: &Engines<'_, S>,
    opts: &DubOptions,
    parallel: usize,
    progress: &Progress,
    before_synth: Option<BeforeSynth<'_>>,
) -> Vec<DubResult> {
    // One limit for every video's requests; the runner takes a permit outside its timeout.
    let mut opts = opts.clone();
    let limit = opts.synth.batch.max_concurrent.max(1);
    opts.synth.batch.shared_limit = Some(Arc::new(Semaphore::new(limit)));
    let opts = &opts;
    futures_util::stream::iter(jobs)
        .map(|job| async move {
            let started = Instant::now();
            let outcome = dub_one(job, engines, opts, progress, before_synth).await;
            DubResult {
                video: job.video.clone(),
                seconds: started.elapsed().as_secs_f64(),
                outcome,
            }
        })
        .buffered(parallel.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tell_videos_apart_and_stay_the_same() {
        let videos: Vec<PathBuf> = ["a/x/ep.mp4", "b/x/ep.mp4", "s1/ep.mp4", "talk.mp4"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let names = distinct_names(&videos);
        assert_eq!(names[2], "s1-ep");
        assert_eq!(names[3], "talk");
        // Same stem and same folder name: a hash of the path tells them apart.
        assert!(names[0].starts_with("ep-") && names[1].starts_with("ep-"));
        assert_ne!(names[0], names[1]);
        assert_eq!(names, distinct_names(&videos));
        assert_eq!(distinct_names(&videos[2..3]), ["ep"]);
    }

    #[test]
    fn sibling_subtitles_of_every_format_read() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("talk.mp4");
        assert_eq!(sibling_subtitles(&video), None);
        std::fs::write(dir.path().join("talk.ass"), "[Events]\n").unwrap();
        assert_eq!(sibling_subtitles(&video), Some(dir.path().join("talk.ass")));
        std::fs::write(dir.path().join("talk.srt"), "").unwrap();
        assert_eq!(sibling_subtitles(&video), Some(dir.path().join("talk.srt")));
    }
}
