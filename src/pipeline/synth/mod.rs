//! The synth stage: the reviewed `subs.srt` in, a dubbed video out.
//!
//! subs.srt → segments → chunks (regrouped: a person may have edited the lines) → the batch runner
//! through the cache → clips → ([`shorten`]: lines that cannot fit rewritten shorter) →
//! ([`takes`]: faster second takes from voices that speak faster natively) → timeline plan and
//! render (`dub.wav`, exactly the video's length) → ([`output`]: the original audio under it, and
//! the mux). `report.json` records how every chunk was fitted. ([`context`]: what is read, probed,
//! locked and opened once per command; [`timing`]: the video's length, probe and scene cuts;
//! [`fit`]: the clips and their plan, carried from shortening through second takes to the render;
//! [`voices`]: each chunk's request in its speaker's voice.)
//!
//! This module only orchestrates; each step that decides something lives in its own module.

pub mod context;
mod edit;
mod fit;
mod output;
pub mod session;
pub mod shorten;
pub mod takes;
mod timing;
mod voices;

use std::path::{Path, PathBuf};

use crate::audio::{AudioError, Ducking};
use crate::cast::CastError;
use crate::llm::{ChatModel, LineEditor, OpenAiChat};
use crate::media::{MediaError, MuxOptions};
use crate::pipeline::cast::{Casting, chunk_speakers, load_voices};
use crate::pipeline::workdir::{Workdir, WorkdirError};
use crate::progress::Progress;
use crate::subtitles::{self, SubtitleError};
use crate::text::{self, GroupOptions};
use crate::timeline::{self, ClipFiles, Mode, Plan, Policy, Report, TimelineError, TrimSilence};
use crate::tts::{BatchOptions, BatchReport, FailedLine, SynthRequest, Synthesizer, TtsError};
use crate::{Chunk, Segment};

pub use context::SynthContext;
use fit::Fit;
pub use shorten::SHORTEN_ROUNDS;
pub use takes::RETAKE_ROUNDS;
use voices::{cast_for, requests_of};

/// Run blocking work (ffmpeg, rendering, mixing) on a blocking thread, so that the runtime keeps
/// serving other videos' requests meanwhile (`dubber run --jobs`).
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SynthStageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SynthStageError::Worker(e.to_string()))
}

/// What to do with the original audio under the new voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Background {
    /// Keep it, lowered while anyone speaks (music and effects survive).
    #[default]
    Duck,
    /// Keep it at a constant level.
    Mix,
    /// A clean voice track.
    None,
    /// Keep music and effects and take the original voice out: by the trained model where it is
    /// installed ([`crate::separation`]), else as the source's channel layout allows (see
    /// [`crate::background`]; a mono source is ducked instead).
    Separate,
    /// `Separate` by the channel layout only, even where the model is installed
    /// (`--separation layout`).
    SeparateByLayout,
}

impl Background {
    /// The background module's name for this mode.
    pub fn mode(self) -> crate::background::Mode {
        use crate::background::Mode;
        match self {
            Self::Duck => Mode::Duck,
            Self::Mix => Mode::Mix,
            Self::None => Mode::None,
            Self::Separate | Self::SeparateByLayout => Mode::Separate,
        }
    }
}

/// Settings of the synth stage.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub grouping: GroupOptions,
    pub policy: Policy,
    /// Voice, model, instructions, speed and format; the text is set per chunk. Lines whose
    /// speaker the cast names get the speaker's voice ([`crate::pipeline::cast`]).
    pub request: SynthRequest,
    /// How speakers are cast.
    pub casting: Casting,
    pub batch: BatchOptions,
    /// Render lines whose synthesis failed as silence (listed in the report) instead of failing.
    pub allow_silence: bool,
    pub background: Background,
    pub ducking: Ducking,
    pub mux: MuxOptions,
    /// The dubbed video; `None` stops after `dub.wav` and `report.json`.
    pub output: Option<PathBuf>,
}

/// What synth produced.
#[derive(Debug, Clone)]
pub struct SynthOutcome {
    pub report: Report,
    pub chunks: usize,
    /// Requests made to the engine (0 when everything came from the cache).
    pub requests: usize,
    pub cache_hits: usize,
    /// Lines rendered as silence because synthesis failed (`allow_silence`).
    pub silenced: Vec<FailedLine>,
    pub track: PathBuf,
    pub output: Option<PathBuf>,
    /// (speaker, `engine:voice`) for every speaker of the video, in the order they first speak.
    pub cast: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthStageError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Subtitles(#[from] SubtitleError),
    #[error("{}: no subtitles to speak; run `dubber prep` first", path.display())]
    NoSubtitles { path: PathBuf },
    #[error(transparent)]
    Tts(#[from] TtsError),
    #[error(
        "{} of {} lines could not be synthesized (the others are cached; run again to retry, or pass --allow-silence):\n{}",
        failed.len(), total, failed.iter().map(|f| format!("  line {}: {:?}: {}", f.index + 1, f.text, f.error)).collect::<Vec<_>>().join("\n")
    )]
    LinesFailed {
        failed: Vec<FailedLine>,
        total: usize,
    },
    #[error(transparent)]
    Timeline(#[from] TimelineError),
    #[error(transparent)]
    Separation(#[from] crate::separation::SeparationError),
    #[error(transparent)]
    Cast(#[from] CastError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Background(#[from] crate::background::BackgroundError),
    #[error(transparent)]
    Workdir(#[from] WorkdirError),
    #[error("a rendering thread stopped: {0}")]
    Worker(String),
    #[error("invalid timeline settings: {0}")]
    Policy(String),
}

/// Read the segments of the work directory's `subs.srt`, normalised.
pub fn read_reviewed_subtitles(workdir: &Workdir) -> Result<Vec<Segment>, SynthStageError> {
    let path = workdir.subs_srt();
    if !path.exists() {
        return Err(SynthStageError::NoSubtitles { path });
    }
    let (segments, fixes) = subtitles::normalize(subtitles::read_file(&path)?);
    for fix in fixes {
        tracing::warn!("{}:{fix}", path.display());
    }
    if segments.is_empty() {
        return Err(SynthStageError::NoSubtitles { path });
    }
    Ok(segments)
}

/// The chunks the policy's mode speaks: one per segment in `segment` mode, sentence groups packed
/// into chunks otherwise.
pub fn chunks_for_mode(segments: &[Segment], grouping: &GroupOptions, mode: Mode) -> Vec<Chunk> {
    match mode {
        Mode::Segment => text::chunk_per_segment(segments),
        _ => text::chunks_for(segments, grouping),
    }
}

/// The clips of every chunk, trimmed of the silence engines pad them with: the voice itself
/// starts on the window.
pub type Clips = TrimSilence<ClipFiles>;

fn clips_of(result: &BatchReport) -> Clips {
    TrimSilence::new(ClipFiles {
        paths: result
            .outcomes
            .iter()
            .map(|o| o.clip().map(|c| c.path.clone()))
            .collect(),
    })
}

/// True when the plan could not fit the line under the maximum speed: it overflows into the next
/// line, ends beyond its window under strict timing, or is cut at the video's end.
fn did_not_fit(p: &timeline::Placement) -> bool {
    p.warnings.iter().any(|w| {
        matches!(
            w,
            timeline::Warning::Overflow { .. }
                | timeline::Warning::BeyondWindow { .. }
                | timeline::Warning::CutAtVideoEnd { .. }
        )
    })
}

/// How badly a plan fits, to compare two plans of the same lines: the lines it could not fit,
/// then how late its lines start in total (samples). Lower is better.
fn misfit(plan: &Plan) -> (usize, u64) {
    let unfit = plan.placements.iter().filter(|p| did_not_fit(p)).count();
    let late = plan.placements.iter().map(|p| p.shift.max(0) as u64).sum();
    (unfit, late)
}

/// Run the synth stage for `video` over `workdir` with `engine`.
pub async fn synth<S: Synthesizer>(
    video: &Path,
    workdir: &Workdir,
    engine: &S,
    opts: &SynthOptions,
    progress: &Progress,
) -> Result<SynthOutcome, SynthStageError> {
    synth_with_shortening::<S, OpenAiChat>(video, workdir, engine, opts, progress, None).await
}

/// [`synth`], and when `shortener` is given, lines the plan could not fit under the policy's
/// `max_speed` are rewritten shorter by the model ([`shorten`]), re-synthesized and re-planned
/// ([`SHORTEN_ROUNDS`] at most); the report keeps their original text.
pub async fn synth_with_shortening<S: Synthesizer, M: ChatModel>(
    video: &Path,
    workdir: &Workdir,
    engine: &S,
    opts: &SynthOptions,
    progress: &Progress,
    shortener: Option<&LineEditor<M>>,
) -> Result<SynthOutcome, SynthStageError> {
    let context = SynthContext::open(video, workdir, opts).await?;
    synth_in(context, video, workdir, engine, opts, progress, shortener).await
}

/// [`synth_with_shortening`] in a context already opened for `video` and `workdir` (by the CLI,
/// which also prices the lines it read).
pub async fn synth_in<S: Synthesizer, M: ChatModel>(
    context: SynthContext,
    video: &Path,
    workdir: &Workdir,
    engine: &S,
    opts: &SynthOptions,
    progress: &Progress,
    shortener: Option<&LineEditor<M>>,
) -> Result<SynthOutcome, SynthStageError> {
    let (segments, track) = (&context.segments, context.track);
    let policy = &context.policy;
    let voices = cast_for(workdir, Some(video), &opts.casting, segments).await?;
    load_voices(engine, &opts.request, &opts.casting, &voices).await?;
    let mut chunks = chunks_for_mode(segments, &opts.grouping, policy.mode);
    let speakers = chunk_speakers(segments, &chunks);
    let requests_for =
        |chunks: &[Chunk]| -> Vec<SynthRequest> { requests_of(opts, &voices, &speakers, chunks) };

    let label = video
        .file_name()
        .map_or_else(|| "video".into(), |n| n.to_string_lossy().into_owned());
    let stage = progress.stage(&label, "synthesize", chunks.len() as u64);
    let runner = context.runner(&opts.batch, Some(stage.clone()));
    let mut requests = requests_for(&chunks);
    let mut result = runner.run(engine, &requests).await?;
    stage.finish();
    let mut originals: Vec<Option<String>> = vec![None; chunks.len()];
    // The fit of the clips as they are, carried through the rounds (and on to the render).
    let mut fit = None;
    if let Some(editor) = shortener {
        let mut current = Fit::of(&chunks, clips_of(&result), track, policy).await?;
        for round in 1..=SHORTEN_ROUNDS {
            let shortened =
                shorten::shorten_round(editor, &mut chunks, &current.plan, policy, &mut originals)
                    .await?;
            if shortened == 0 {
                break;
            }
            tracing::info!("shortening round {round}: {shortened} lines rewritten");
            requests = requests_for(&chunks);
            // Unchanged lines come from the cache; only the rewritten ones are requested.
            let again = runner.run(engine, &requests).await?;
            let (made, hits) = (result.requests + again.requests, result.cache_hits);
            result = again;
            (result.requests, result.cache_hits) = (made, hits);
            current = Fit::of(&chunks, clips_of(&result), track, policy).await?;
        }
        fit = Some(current);
    }

    let (failed, requests_made, cache_hits) =
        (result.failed.clone(), result.requests, result.cache_hits);
    let (mut report, plan) = fit_and_render(
        engine,
        Rendering {
            workdir,
            opts,
            context: &context,
            originals: &originals,
            fit,
        },
        &requests,
        &mut chunks,
        result,
        &speakers,
    )
    .await?;

    let (voice_track, background) =
        output::with_background(video, workdir, opts, &context.info, &plan, segments).await?;
    let mut mux = opts.mux.clone();
    if background.channels > 1 {
        mux.channel_layout = Some(background.layout.clone());
    }
    report.background = Some(background);
    report.write_json(&workdir.report_json())?;
    if let Some(out) = &opts.output {
        output::mux_unless_current(video, workdir, &voice_track, out, &mux).await?;
    }
    Ok(SynthOutcome {
        report,
        chunks: chunks.len(),
        requests: requests_made,
        cache_hits,
        silenced: failed,
        track: voice_track,
        output: opts.output.clone(),
        cast: voices.ids(),
    })
}

/// What rendering the voice track needs besides the chunks and their clips.
struct Rendering<'a> {
    pub workdir: &'a Workdir,
    pub opts: &'a SynthOptions,
    /// The track's length, the policy and the clip cache.
    pub context: &'a SynthContext,
    /// The first text of each chunk that was shortened.
    pub originals: &'a [Option<String>],
    /// The fit of these chunks and clips, when a step before (shortening) made it.
    pub fit: Option<Fit>,
}

/// The synthesized chunks to `dub.wav` and `report.json`: failed lines silenced (or the run
/// refused, without `allow_silence`), second takes for voices that speak faster natively, the
/// plan and the render. Shared by [`synth_with_shortening`] and the studio's [`session`].
async fn fit_and_render<S: Synthesizer>(
    engine: &S,
    r: Rendering<'_>,
    requests: &[SynthRequest],
    chunks: &mut [Chunk],
    result: BatchReport,
    speakers: &[Option<String>],
) -> Result<(Report, Plan), SynthStageError> {
    let originals = r.originals;
    let (workdir, opts, track, policy) = (r.workdir, r.opts, r.context.track, &r.context.policy);
    if !result.failed.is_empty() && !opts.allow_silence {
        return Err(SynthStageError::LinesFailed {
            failed: result.failed,
            total: requests.len(),
        });
    }
    // A failed line (with allow_silence) is rendered as silence: its chunk speaks nothing.
    for failed in &result.failed {
        chunks[failed.index].text.clear();
    }
    let clips = clips_of(&result);
    // A chunk with text has its clip: a failed one was silenced above.
    if let Some(index) = (0..chunks.len())
        .find(|&i| !chunks[i].is_empty() && clips.inner.paths.get(i).is_none_or(Option::is_none))
    {
        let id = chunks[index].id;
        return Err(TimelineError::MissingClip { id, index }.into());
    }
    // The carried fit is this one unless failed lines were silenced since it was made.
    let mut fit = match r.fit {
        Some(fit) if result.failed.is_empty() => fit,
        _ => Fit::of(chunks, clips, track, policy).await?,
    };
    let retake_runner = r.context.runner(&opts.batch, None);
    let voice_speeds = takes::second_takes(
        engine,
        &retake_runner,
        requests,
        chunks,
        &mut fit,
        track,
        policy,
    )
    .await?;
    let (mut report, plan) = fit.render(chunks, policy, workdir.dub_wav()).await?;
    for ((c, original), speed) in report.chunks.iter_mut().zip(originals).zip(&voice_speeds) {
        c.original_text.clone_from(original);
        c.voice_speed = *speed;
    }
    let voices: Vec<String> = requests
        .iter()
        .map(|r| {
            r.route
                .clone()
                .unwrap_or_else(|| opts.casting.default_voice.clone())
        })
        .collect();
    report.set_voices(speakers, &voices);
    report.language = crate::manifest::Manifest::read_language(&workdir.manifest_json());
    for failed in &result.failed {
        if let Some(c) = report.chunks.get_mut(failed.index) {
            c.text = requests[failed.index].text.clone();
            c.warnings.push(timeline::Warning::SynthesisFailed {
                error: failed.error.to_string(),
            });
        }
    }
    report.write_json(&workdir.report_json())?;
    Ok((report, plan))
}
