//! The synth stage: the reviewed `subs.srt` in, a dubbed video out.
//!
//! subs.srt → segments → chunks (regrouped: a person may have edited the lines) → the batch runner
//! through the cache → clips → timeline plan and render (`dub.wav`, exactly the video's length) →
//! the original audio ducked under it → mux. `report.json` records how every chunk was fitted.

use std::path::{Path, PathBuf};

use crate::audio::Ducking;
use crate::llm::{ChatModel, LineEditor, OpenAiChat, char_budget};
use crate::media::{self, MediaError, MuxOptions};
use crate::pipeline::state::{State, sha256_file, sha256_hex};
use crate::pipeline::workdir::Workdir;
use crate::progress::Progress;
use crate::subtitles::{self, SubtitleError};
use crate::text::{self, GroupOptions};
use crate::timeline::{
    self, ClipFiles, ClipSource, Mode, Placement, Policy, Report, TimelineError, TrimSilence,
};
use crate::tts::{
    BatchOptions, BatchReport, BatchRunner, Cache, FailedLine, SynthRequest, Synthesizer, TtsError,
};
use crate::{Chunk, Segment};

/// Run blocking work (ffmpeg, rendering, mixing) on a blocking thread, so that the runtime keeps
/// serving other videos' requests meanwhile (`dubber run --jobs`).
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SynthStageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SynthStageError::Worker(e.to_string()))
}

/// How much the picture must change to count as a scene cut (ffmpeg's `scene` score, 0–1).
const SCENE_THRESHOLD: f64 = 0.4;

/// State key of the hash of what the last mux was made from.
const MUX_HASH: &str = "synth.mux";

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
}

/// Settings of the synth stage.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub grouping: GroupOptions,
    pub policy: Policy,
    /// Voice, model, instructions, speed and format; the text is set per chunk.
    pub request: SynthRequest,
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
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Wav { path: PathBuf, source: hound::Error },
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

/// Rounds of shortening at most: lines still too long after two rewrites are left as they are.
pub const SHORTEN_ROUNDS: usize = 2;

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
/// `max_speed` are rewritten shorter by the model, to the characters the voice can say in their
/// time, re-synthesized and re-planned ([`SHORTEN_ROUNDS`] at most); the report keeps their
/// original text.
pub async fn synth_with_shortening<S: Synthesizer, M: ChatModel>(
    video: &Path,
    workdir: &Workdir,
    engine: &S,
    opts: &SynthOptions,
    progress: &Progress,
    shortener: Option<&LineEditor<M>>,
) -> Result<SynthOutcome, SynthStageError> {
    opts.policy.validate().map_err(SynthStageError::Policy)?;
    let info = media::probe(video)?;
    let video_secs = info.target_duration_secs();
    // Block mode starts a new block at every scene cut of the picture.
    let mut policy = opts.policy.clone();
    if policy.mode == Mode::Block && policy.scene_cuts_ms.is_empty() && info.has_video() {
        let owned = video.to_path_buf();
        policy.scene_cuts_ms =
            off_runtime(move || media::scene_cuts(&owned, SCENE_THRESHOLD)).await??;
        tracing::info!(
            "{}: {} scene cuts",
            video.display(),
            policy.scene_cuts_ms.len()
        );
    }
    let segments = read_reviewed_subtitles(workdir)?;
    let mut chunks = chunks_for_mode(&segments, &opts.grouping, policy.mode);

    let requests: Vec<SynthRequest> = chunks
        .iter()
        .map(|c| opts.request.with_text(c.text.clone()))
        .collect();
    let label = video
        .file_name()
        .map_or_else(|| "video".into(), |n| n.to_string_lossy().into_owned());
    let stage = progress.stage(&label, "synthesize", requests.len() as u64);
    let batch = BatchOptions {
        progress: Some(stage.clone()),
        ..opts.batch.clone()
    };
    let cache = Cache::open(workdir.tts_cache_dir())?;
    let runner = BatchRunner::new(cache, batch);
    let mut result = runner.run(engine, &requests).await?;
    stage.finish();
    let mut requests = requests;
    let mut originals: Vec<Option<String>> = vec![None; chunks.len()];
    if let Some(editor) = shortener {
        for round in 1..=SHORTEN_ROUNDS {
            let shortened = shorten_round(
                editor,
                &mut chunks,
                &result,
                video_secs,
                &policy,
                &mut originals,
            )
            .await?;
            if shortened == 0 {
                break;
            }
            tracing::info!("shortening round {round}: {shortened} lines rewritten");
            requests = chunks
                .iter()
                .map(|c| opts.request.with_text(c.text.clone()))
                .collect();
            // Unchanged lines come from the cache; only the rewritten ones are requested.
            let again = runner.run(engine, &requests).await?;
            let (made, hits) = (result.requests + again.requests, result.cache_hits);
            result = again;
            (result.requests, result.cache_hits) = (made, hits);
        }
    }

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
    // Engines pad their clips with silence; trimmed, the voice itself starts on the window.
    let mut clips = TrimSilence::new(ClipFiles {
        paths: result
            .outcomes
            .iter()
            .map(|o| o.clip().map(|c| c.path.clone()))
            .collect(),
    });
    let retake_runner = BatchRunner::new(
        Cache::open(workdir.tts_cache_dir())?,
        BatchOptions {
            progress: None,
            ..opts.batch.clone()
        },
    );
    let voice_speeds = second_takes(
        engine,
        &retake_runner,
        &requests,
        &chunks,
        &mut clips,
        video_secs,
        &policy,
    )
    .await?;
    let track = workdir.dub_wav();
    let (mut report, plan) = {
        let (chunks, policy, track) = (chunks.clone(), policy.clone(), track.clone());
        off_runtime(move || {
            timeline::build_track_with_plan(&chunks, &mut clips, video_secs, &policy, &track)
        })
        .await??
    };
    for ((c, original), speed) in report.chunks.iter_mut().zip(&originals).zip(&voice_speeds) {
        c.original_text.clone_from(original);
        c.voice_speed = *speed;
    }
    for failed in &result.failed {
        if let Some(c) = report.chunks.get_mut(failed.index) {
            c.text = requests[failed.index].text.clone();
            c.warnings.push(timeline::Warning::SynthesisFailed {
                error: failed.error.to_string(),
            });
        }
    }
    report.write_json(&workdir.report_json())?;

    let mut voice_track = track.clone();
    if opts.background != Background::None && info.has_audio() {
        let background = workdir.background_wav();
        let mut intervals = plan.speech_intervals();
        // Duck under the original lines too: the original voice is in the background.
        intervals.extend(segments.iter().map(|s| {
            (
                s.start_ms * u64::from(timeline::RATE) / 1000,
                s.end_ms * u64::from(timeline::RATE) / 1000,
            )
        }));
        intervals.sort_unstable();
        let ducking = match opts.background {
            Background::Mix => Ducking {
                depth_db: 0.0,
                ..opts.ducking
            },
            _ => opts.ducking,
        };
        let mixed = workdir.root().join("mix.wav");
        let (video, track, out) = (video.to_path_buf(), track.clone(), mixed.clone());
        off_runtime(move || {
            media::extract_background(&video, &background, timeline::RATE)?;
            mix_background(&track, &background, &intervals, &ducking, &out)
        })
        .await??;
        voice_track = mixed;
    }

    if let Some(out) = &opts.output {
        // Muxing is skipped when the output exists and was made from this very track and video.
        let track_hash = sha256_file(&voice_track).map_err(|source| SynthStageError::Io {
            path: voice_track.clone(),
            source,
        })?;
        let key = format!(
            "{}|{}|{:?}|{track_hash}",
            video.display(),
            out.display(),
            opts.mux,
        );
        let key = sha256_hex(key.as_bytes());
        let state_path = workdir.state_json();
        let mut state = State::load(&state_path);
        if out.exists() && state.get(MUX_HASH) == Some(key.as_str()) {
            tracing::info!("{}: up to date", out.display());
        } else {
            let (video, track, out, mux) = (
                video.to_path_buf(),
                voice_track.clone(),
                out.clone(),
                opts.mux.clone(),
            );
            off_runtime(move || media::mux(&video, &track, &out, &mux)).await??;
            state.set(MUX_HASH, key);
            state
                .save(&state_path)
                .map_err(|source| SynthStageError::Io {
                    path: state_path.clone(),
                    source,
                })?;
        }
    }
    Ok(SynthOutcome {
        report,
        chunks: chunks.len(),
        requests: result.requests,
        cache_hits: result.cache_hits,
        silenced: result.failed,
        track: voice_track,
        output: opts.output.clone(),
    })
}

/// True when the plan could not fit the line under the maximum speed: it overflows into the next
/// line, ends beyond its window under strict timing, or is cut at the video's end.
fn did_not_fit(p: &Placement) -> bool {
    p.warnings.iter().any(|w| {
        matches!(
            w,
            timeline::Warning::Overflow { .. }
                | timeline::Warning::BeyondWindow { .. }
                | timeline::Warning::CutAtVideoEnd { .. }
        )
    })
}

/// One round of shortening: plan the clips in `result`, and rewrite the text of every chunk that
/// did not fit to the characters its voice says in the chunk's time at the maximum speed (the
/// voice's pace measured on its own clip). Returns how many chunks changed; `originals` gets the
/// first text of each. A line the model cannot shorten is kept as it is, with a warning.
async fn shorten_round<M: ChatModel>(
    editor: &LineEditor<M>,
    chunks: &mut [Chunk],
    result: &BatchReport,
    video_secs: f64,
    policy: &Policy,
    originals: &mut [Option<String>],
) -> Result<usize, SynthStageError> {
    let rate = timeline::RATE;
    let mut clips = TrimSilence::new(ClipFiles {
        paths: result
            .outcomes
            .iter()
            .map(|o| o.clip().map(|c| c.path.clone()))
            .collect(),
    });
    let mut natural = Vec::with_capacity(chunks.len());
    for (index, chunk) in chunks.iter().enumerate() {
        let len = if chunk.is_empty() {
            0
        } else {
            // A clip that is missing (a failed line) counts as silence here; the render says so.
            clips.natural_len(index, rate).ok().flatten().unwrap_or(0)
        };
        natural.push(len);
    }
    let track = timeline::track_len(video_secs, rate)?;
    let plan =
        timeline::plan(chunks, &natural, track, rate, policy).map_err(TimelineError::from)?;
    let mut todo: Vec<(usize, String, usize)> = Vec::new();
    for p in plan.placements.iter().filter(|p| did_not_fit(p)) {
        let chunk = &chunks[p.index];
        let chars = chunk.text.chars().count();
        let secs = natural[p.index] as f64 / f64::from(rate);
        if chars == 0 || secs <= 0.0 {
            continue;
        }
        let available = chunk.end_ms().saturating_sub(chunk.start_ms());
        let budget = char_budget(available, chars as f64 / secs, policy.max_speed);
        if budget < chars {
            todo.push((p.index, chunk.text.clone(), budget));
        }
    }
    let asks: Vec<(String, usize)> = todo.iter().map(|(_, t, b)| (t.clone(), *b)).collect();
    let replies = editor.shorten_all(&asks).await;
    let mut changed = 0;
    for ((index, before, _), reply) in todo.into_iter().zip(replies) {
        match reply {
            Ok(after) if !after.trim().is_empty() && after != before => {
                originals[index].get_or_insert(before);
                chunks[index].text = after;
                changed += 1;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("line {:?} kept as it is: {e}", before),
        }
    }
    Ok(changed)
}

/// Natural length (samples at the timeline rate) of every chunk's clip; 0 for silent chunks.
fn natural_lengths<C: ClipSource>(
    chunks: &[Chunk],
    clips: &mut C,
) -> Result<Vec<u64>, SynthStageError> {
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| match chunk.is_empty() {
            true => Ok(0),
            false => Ok(clips
                .natural_len(i, timeline::RATE)
                .map_err(|source| TimelineError::Clip {
                    id: chunk.id,
                    index: i,
                    source,
                })?
                .unwrap_or(0)),
        })
        .collect()
}

/// A voice whose speed is native (Piper's `length_scale`) speaks a line that needs speeding up a
/// second time, at the speed the plan asked for, instead of having its first take stretched:
/// listeners find that much more natural. A voice's takes vary in length, so a take that still
/// needs stretching is asked for again, faster, up to [`RETAKE_ROUNDS`] times. The cap holds on the
/// combined speed: a take that would still need stretching past `max_speed / voice speed` is
/// dropped for the first take (stretched within the cap as usual). Returns each chunk's voice
/// speed (1 = first take).
async fn second_takes<S: Synthesizer>(
    engine: &S,
    runner: &BatchRunner,
    requests: &[SynthRequest],
    chunks: &[Chunk],
    clips: &mut TrimSilence<ClipFiles>,
    video_secs: f64,
    policy: &Policy,
) -> Result<Vec<f64>, SynthStageError> {
    let mut voice = vec![1.0; chunks.len()];
    if !engine.native_speed() || runner.options().cache_only {
        return Ok(voice);
    }
    let track = timeline::track_len(video_secs, timeline::RATE)?;
    let plan_now = |clips: &mut TrimSilence<ClipFiles>| -> Result<timeline::Plan, SynthStageError> {
        let natural = natural_lengths(chunks, clips)?;
        Ok(
            timeline::plan(chunks, &natural, track, timeline::RATE, policy)
                .map_err(TimelineError::from)?,
        )
    };
    let limits = engine.limits();
    // Every take of every chunk, (voice speed, clip), the first take first.
    let mut takes: Vec<Vec<(f64, Option<PathBuf>)>> = clips
        .inner
        .paths
        .iter()
        .map(|p| vec![(1.0, p.clone())])
        .collect();
    for _ in 0..RETAKE_ROUNDS {
        let plan = plan_now(clips)?;
        // Speeds in steps of 0.01 (rounded up): a re-run with slightly different timing hits the
        // cache, and a line near the cap still gets a take that fits without stretching past it.
        let wanted: Vec<(usize, f64)> = plan
            .placements
            .iter()
            .filter(|p| p.speed > 1.01 && !chunks[p.index].is_empty())
            .map(|p| {
                (
                    p.index,
                    ((voice[p.index] * p.speed * 100.0).ceil() / 100.0).min(policy.max_speed),
                )
            })
            .filter(|&(i, s)| s > voice[i] + 0.005 && limits.speed.contains(&s))
            .collect();
        if wanted.is_empty() {
            break;
        }
        tracing::debug!("second takes (chunk index, voice speed): {wanted:?}");
        let retakes: Vec<SynthRequest> = wanted
            .iter()
            .map(|&(i, speed)| SynthRequest {
                speed,
                ..requests[i].clone()
            })
            .collect();
        let result = runner.run(engine, &retakes).await?;
        for (&(i, speed), outcome) in wanted.iter().zip(&result.outcomes) {
            if let Some(clip) = outcome.clip() {
                clips.inner.paths[i] = Some(clip.path.clone());
                voice[i] = speed;
                takes[i].push((speed, Some(clip.path.clone())));
            }
        }
    }
    // A take that would need stretching past the cap goes back to the chunk's previous take,
    // which needed less from the voice (the first take never exceeds the cap: the plan caps it).
    loop {
        let plan = plan_now(clips)?;
        let over: Vec<usize> = plan
            .placements
            .iter()
            .filter(|p| {
                voice[p.index] * p.speed > policy.max_speed + 1e-6 && takes[p.index].len() > 1
            })
            .map(|p| p.index)
            .collect();
        if over.is_empty() {
            return Ok(voice);
        }
        tracing::debug!("takes too long for the speed cap, back to the previous take: {over:?}");
        for i in over {
            takes[i].pop();
            if let Some((speed, path)) = takes[i].last() {
                voice[i] = *speed;
                clips.inner.paths[i] = path.clone();
            }
        }
    }
}

/// How many times a line is asked for again, faster.
const RETAKE_ROUNDS: usize = 3;

/// Stream `speech` and `background` (both mono WAV at the same rate) into `out`, the background
/// ducked under `intervals`; block by block, so memory stays flat.
fn mix_background(
    speech: &Path,
    background: &Path,
    intervals: &[(u64, u64)],
    ducking: &Ducking,
    out: &Path,
) -> Result<(), SynthStageError> {
    const BLOCK: usize = 16_384;
    let wav_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthStageError::Wav { path, source }
    };
    let mut speech_reader = hound::WavReader::open(speech).map_err(wav_err(speech))?;
    let mut bg_reader = hound::WavReader::open(background).map_err(wav_err(background))?;
    let spec = speech_reader.spec();
    let bg_scale = 1.0 / f32::from(i16::MAX);
    let tmp = out.with_extension("wav.part");
    let mut writer = hound::WavWriter::create(&tmp, spec).map_err(wav_err(&tmp))?;
    let mut speech_samples = speech_reader.samples::<i16>();
    let mut bg_samples = bg_reader.samples::<i16>();
    let mut offset = 0u64;
    let mut block = Vec::with_capacity(BLOCK);
    let mut bg_block = Vec::with_capacity(BLOCK);
    loop {
        block.clear();
        bg_block.clear();
        for s in speech_samples.by_ref().take(BLOCK) {
            block.push(f32::from(s.map_err(wav_err(speech))?) * bg_scale);
        }
        if block.is_empty() {
            break;
        }
        for s in bg_samples.by_ref().take(block.len()) {
            bg_block.push(f32::from(s.map_err(wav_err(background))?) * bg_scale);
        }
        crate::audio::duck_mix_into(
            &mut block,
            offset,
            &bg_block,
            intervals,
            spec.sample_rate,
            ducking,
        );
        for &v in &block {
            let v = (v.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
            writer.write_sample(v).map_err(wav_err(&tmp))?;
        }
        offset += block.len() as u64;
    }
    writer.finalize().map_err(wav_err(&tmp))?;
    std::fs::rename(&tmp, out).map_err(|source| SynthStageError::Io {
        path: out.to_path_buf(),
        source,
    })
}
