//! The synth stage kept open, for editing one line at a time (`dubber studio`).
//!
//! [`super::synth`] starts from nothing each time: it probes the video, finds the scene cuts,
//! opens the cache and loads the engine. A person fixing one line wants the track back in a
//! second, so a [`Session`] does that once, keeps the engine, the lines, the chunks and the plan,
//! and after an [`Session::edit`] runs only what the edit invalidates: subs.srt is saved
//! (atomically, first, so nothing is lost), the chunks are regrouped, the cache answers every
//! chunk but the changed one, and the plan and `dub.wav` are made again. A line given a speaker
//! the cast lacks is cast automatically, as `synth` does. The mix over the original
//! audio and the mux wait for [`Session::export`].
//!
//! A session holds the work directory's lock for its whole life: no `dubber synth` can write the
//! same files meanwhile. Edits take `&mut self`, so whoever shares a session serializes them.

use std::path::{Path, PathBuf};

use super::context::SynthContext;
pub use super::edit::{EditError, LineEdit, MAX_LINE_CHARS};
use super::edit::{apply, as_saved};
use super::voices::{cast_for, requests_of};
use super::{Rendering, SynthOptions, SynthStageError, chunks_for_mode, fit_and_render, output};
use crate::Chunk;
use crate::llm::{ChatModel, LineEditor, char_budget};
use crate::pipeline::cast::{chunk_speakers, load_voices};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::timeline::{self, Plan, Policy, Report};
use crate::tts::{BatchRunner, FailedLine, Synthesizer, TtsError};

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EditOutcome {
    /// Requests made to the engine (the changed chunks; 0 when the cache had them).
    pub requests: usize,
    /// Time spent synthesizing (the cache's answers included), seconds.
    pub synth_secs: f64,
    /// Time spent on second takes, the plan and the render of `dub.wav`, seconds.
    pub render_secs: f64,
}

/// An open synth stage over one work directory. See the module doc.
pub struct Session<S> {
    video: PathBuf,
    workdir: Workdir,
    engine: S,
    opts: SynthOptions,
    /// The probe, timing, policy, cache and lock, made once; its lines are those of the first
    /// render (the session's own, below, follow the edits).
    context: SynthContext,
    runner: BatchRunner,
    segments: Vec<Segment>,
    chunks: Vec<Chunk>,
    report: Report,
    plan: Plan,
    requests: usize,
}

impl<S: Synthesizer> Session<S> {
    /// Open `workdir` (made by `prep`) for `video`: synthesize what the cache lacks, plan, and
    /// render `dub.wav` and `report.json`.
    pub async fn open(
        video: &Path,
        workdir: &Workdir,
        engine: S,
        opts: SynthOptions,
    ) -> Result<Self, SynthStageError> {
        let context = SynthContext::open(video, workdir, &opts).await?;
        Self::in_context(context, video, workdir, engine, opts).await
    }

    /// [`Session::open`] in a context already opened for `video` and `workdir`.
    pub async fn in_context(
        mut context: SynthContext,
        video: &Path,
        workdir: &Workdir,
        engine: S,
        opts: SynthOptions,
    ) -> Result<Self, SynthStageError> {
        let runner = context.runner(&opts.batch, None);
        // Empty until the first render, which replaces both.
        let plan = Plan {
            rate: timeline::RATE,
            track_len: context.track,
            placements: Vec::new(),
        };
        let report = timeline::report(&plan, &[], &context.policy);
        let segments = std::mem::take(&mut context.segments);
        let mut session = Session {
            video: video.to_path_buf(),
            workdir: workdir.clone(),
            engine,
            opts,
            context,
            runner,
            segments: Vec::new(),
            chunks: Vec::new(),
            report,
            plan,
            requests: 0,
        };
        session.render(segments).await?;
        Ok(session)
    }

    pub fn video(&self) -> &Path {
        &self.video
    }
    pub fn workdir(&self) -> &Workdir {
        &self.workdir
    }
    /// The video's length in seconds (the track's).
    pub fn video_secs(&self) -> f64 {
        self.context.video_secs
    }
    /// The lines, as subs.srt holds them; line `id` is `segments()[id - 1]`.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
    /// The chunks spoken, each naming the lines it covers.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }
    /// How the chunks were fitted (`report.json`), in the chunks' order.
    pub fn report(&self) -> &Report {
        &self.report
    }
    pub fn policy(&self) -> &Policy {
        &self.context.policy
    }
    /// The voice lines are spoken with.
    pub fn voice(&self) -> &str {
        &self.opts.request.voice
    }
    /// The voice track: `dub.wav`, exactly as long as the video.
    pub fn track(&self) -> PathBuf {
        self.workdir.dub_wav()
    }
    /// Requests this session made to the engine, over its whole life.
    pub fn requests(&self) -> usize {
        self.requests
    }
    /// Where `export` writes the dubbed video by default.
    pub fn default_output(&self) -> Option<&Path> {
        self.opts.output.as_deref()
    }

    /// The index of line `id` (1-based, as subs.srt numbers them).
    fn index_of(&self, id: usize) -> Result<usize, EditError> {
        id.checked_sub(1)
            .filter(|&i| i < self.segments.len())
            .ok_or(EditError::NoLine {
                id,
                lines: self.segments.len(),
            })
    }

    /// Apply `edit` to line `id`: save subs.srt, synthesize what changed, re-plan and re-render
    /// the voice track. An invalid edit changes nothing, and one that subs.srt would read back
    /// otherwise (moved, merged, split, dropped) is invalid: line `id` is always the `id`-th cue
    /// of subs.srt. An edit whose synthesis fails is undone (subs.srt and the track are as
    /// before) and the error names the lines that failed.
    pub async fn edit(&mut self, id: usize, edit: &LineEdit) -> Result<EditOutcome, EditError> {
        let index = self.index_of(id)?;
        let mut edited = self.segments.clone();
        apply(&mut edited, index, edit, self.context.video_secs)?;
        let (srt, segments) = as_saved(&edited, id, edit.speaker.is_some())?;
        let path = self.workdir.subs_srt();
        let io = |source| SynthStageError::Io {
            path: path.clone(),
            source,
        };
        crate::fsutil::write_atomic(&path, srt.as_bytes()).map_err(io)?;
        let before = self.requests;
        match self.render(segments.clone()).await {
            Ok((synth_secs, render_secs)) => Ok(EditOutcome {
                requests: self.requests - before,
                synth_secs,
                render_secs,
            }),
            Err(e) => {
                self.save_subtitles()?;
                Err(match e {
                    SynthStageError::LinesFailed { failed, .. } => {
                        self.failed_lines(&segments, failed)
                    }
                    SynthStageError::Tts(TtsError::Fatal {
                        index,
                        text,
                        source,
                    }) => {
                        let failed = FailedLine {
                            index,
                            text,
                            error: source,
                            attempts: 1,
                        };
                        self.failed_lines(&segments, vec![failed])
                    }
                    e => e.into(),
                })
            }
        }
    }

    /// Write subs.srt from the session's lines: what undoes an edit that was saved and then
    /// failed (or stopped).
    pub fn save_subtitles(&self) -> Result<(), SynthStageError> {
        let path = self.workdir.subs_srt();
        crate::subtitles::write_file(&path, &self.segments).map_err(SynthStageError::from)
    }

    /// The lines (1-based ids) each failed request spoke: a request is a chunk, which may speak
    /// several lines.
    fn failed_lines(&self, segments: &[Segment], failed: Vec<FailedLine>) -> EditError {
        let chunks = chunks_for_mode(segments, &self.opts.grouping, self.context.policy.mode);
        let failed = failed
            .into_iter()
            .map(|f| {
                let ids = chunks
                    .get(f.index)
                    .map(|c| c.segments.iter().map(|i| i + 1).collect())
                    .unwrap_or_default();
                (ids, f)
            })
            .collect();
        EditError::NotSynthesized { failed }
    }

    /// Chunks for `segments`, their clips through the cache, the plan and `dub.wav`; the session
    /// takes all of them only when everything succeeded. Returns the seconds spent synthesizing
    /// and rendering.
    async fn render(&mut self, segments: Vec<Segment>) -> Result<(f64, f64), SynthStageError> {
        let started = std::time::Instant::now();
        let voices = cast_for(
            &self.workdir,
            Some(&self.video),
            &self.opts.casting,
            &segments,
        )
        .await?;
        load_voices(
            &self.engine,
            &self.opts.request,
            &self.opts.casting,
            &voices,
        )
        .await?;
        let mut chunks = chunks_for_mode(&segments, &self.opts.grouping, self.context.policy.mode);
        let speakers = chunk_speakers(&segments, &chunks);
        let requests = requests_of(&self.opts, &voices, &speakers, &chunks);
        let result = self.runner.run(&self.engine, &requests).await?;
        let made = result.requests;
        let synthesized = started.elapsed().as_secs_f64();
        let originals = vec![None; chunks.len()];
        let rendering = Rendering {
            workdir: &self.workdir,
            opts: &self.opts,
            context: &self.context,
            originals: &originals,
            fit: None,
        };
        let (report, plan) = fit_and_render(
            &self.engine,
            rendering,
            &requests,
            &mut chunks,
            result,
            &speakers,
        )
        .await?;
        (self.segments, self.chunks, self.report, self.plan) = (segments, chunks, report, plan);
        self.requests += made;
        Ok((synthesized, started.elapsed().as_secs_f64() - synthesized))
    }

    /// Mix the voice track over the original audio and mux the dubbed video into `out`, as
    /// `synth` does (skipped when `out` was made from this very track). Returns `out`.
    pub async fn export(&mut self, out: &Path) -> Result<PathBuf, SynthStageError> {
        let (voice_track, background) = output::with_background(
            &self.video,
            &self.workdir,
            &self.opts,
            &self.context.info,
            &self.plan,
            &self.segments,
        )
        .await?;
        let mut mux = self.opts.mux.clone();
        if background.channels > 1 {
            mux.channel_layout = Some(background.layout.clone());
        }
        self.report.background = Some(background);
        self.report.write_json(&self.workdir.report_json())?;
        output::mux_unless_current(&self.video, &self.workdir, &voice_track, out, &mux).await?;
        Ok(out.to_path_buf())
    }

    /// A shorter wording of line `id` from the chat model, as `synth --shorten` asks for it:
    /// what the voice says in the line's window at the speed cap, at the pace it spoke the line's
    /// chunk (and at most 85 % of the line when that already fits). Nothing is changed.
    pub async fn suggest_shorter<M: ChatModel>(
        &self,
        id: usize,
        editor: &LineEditor<M>,
    ) -> Result<String, EditError> {
        let index = self.index_of(id)?;
        let segment = &self.segments[index];
        let text = segment.spoken_text();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(EditError::Invalid(format!(
                "line {id} has nothing to say to shorten"
            )));
        }
        let (chunk_chars, natural) = self
            .chunk_of(index)
            .map(|(c, r)| (c.text.chars().count(), r.natural))
            .unwrap_or((chars, 0.0));
        // The voice's pace on the line's chunk; 15 characters a second when it has no clip.
        let pace = match natural > 0.0 {
            true => chunk_chars as f64 / natural,
            false => 15.0,
        };
        let fits = char_budget(segment.duration_ms(), pace, self.context.policy.max_speed);
        let budget = fits.min(chars * 85 / 100).max(1);
        Ok(editor.shorten(&text, budget).await?)
    }

    /// The chunk speaking line `index`, with its report.
    pub fn chunk_of(&self, index: usize) -> Option<(&Chunk, &timeline::ChunkReport)> {
        let at = self
            .chunks
            .iter()
            .position(|c| c.segments.contains(&index))?;
        Some((&self.chunks[at], self.report.chunks.get(at)?))
    }
}
