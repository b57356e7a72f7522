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

use super::timing::VideoTiming;
use super::voices::{cast_for, requests_of};
use super::{
    Rendering, SynthOptions, SynthStageError, chunks_for_mode, fit_and_render, output,
    read_reviewed_subtitles,
};
use crate::Chunk;
use crate::llm::{ChatModel, LineEditor, LlmError, char_budget};
use crate::media::Probe;
use crate::pipeline::cast::{chunk_speakers, load_voices};
use crate::pipeline::workdir::{Workdir, WorkdirLock};
use crate::segment::{MAX_MEDIA_MS, Segment};
use crate::subtitles;
use crate::timeline::{self, Plan, Policy, Report};
use crate::tts::{BatchOptions, BatchRunner, Cache, Synthesizer};

/// A change to one line; fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    pub text: Option<String>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// `Some(None)` (or an empty name) clears the speaker.
    pub speaker: Option<Option<String>>,
}

/// Why an edit was refused or failed. Refused edits change nothing.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("there is no line {id}: lines are numbered 1 to {lines}")]
    NoLine { id: usize, lines: usize },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Stage(#[from] SynthStageError),
    #[error(transparent)]
    Llm(#[from] LlmError),
}

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
    info: Probe,
    video_secs: f64,
    track: u64,
    policy: Policy,
    runner: BatchRunner,
    segments: Vec<Segment>,
    chunks: Vec<Chunk>,
    report: Report,
    plan: Plan,
    requests: usize,
    _lock: WorkdirLock,
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
        let segments = read_reviewed_subtitles(workdir)?;
        let lock = workdir.lock()?;
        let VideoTiming {
            info,
            video_secs,
            track,
            policy,
        } = VideoTiming::of(video, &opts.policy).await?;
        let runner = BatchRunner::new(
            Cache::open(workdir.tts_cache_dir())?,
            BatchOptions {
                progress: None,
                ..opts.batch.clone()
            },
        );
        // Empty until the first render, which replaces both.
        let plan = Plan {
            rate: timeline::RATE,
            track_len: track,
            placements: Vec::new(),
        };
        let report = timeline::report(&plan, &[], &policy);
        let mut session = Session {
            video: video.to_path_buf(),
            workdir: workdir.clone(),
            engine,
            opts,
            info,
            video_secs,
            track,
            policy,
            runner,
            segments: Vec::new(),
            chunks: Vec::new(),
            report,
            plan,
            requests: 0,
            _lock: lock,
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
        self.video_secs
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
        &self.policy
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
    /// the voice track. An invalid edit changes nothing; one whose synthesis fails is undone
    /// (subs.srt and the track are as before) and the error says what to fix.
    pub async fn edit(&mut self, id: usize, edit: &LineEdit) -> Result<EditOutcome, EditError> {
        let index = self.index_of(id)?;
        let mut segments = self.segments.clone();
        apply(&mut segments[index], edit, self.video_secs)?;
        let path = self.workdir.subs_srt();
        subtitles::write_file(&path, &segments).map_err(SynthStageError::from)?;
        let before = self.requests;
        let result = match read_reviewed_subtitles(&self.workdir) {
            Ok(segments) => self.render(segments).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((synth_secs, render_secs)) => Ok(EditOutcome {
                requests: self.requests - before,
                synth_secs,
                render_secs,
            }),
            Err(e) => {
                subtitles::write_file(&path, &self.segments).map_err(SynthStageError::from)?;
                Err(e.into())
            }
        }
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
        let mut chunks = chunks_for_mode(&segments, &self.opts.grouping, self.policy.mode);
        let speakers = chunk_speakers(&segments, &chunks);
        let requests = requests_of(&self.opts, &voices, &speakers, &chunks);
        let result = self.runner.run(&self.engine, &requests).await?;
        let made = result.requests;
        let synthesized = started.elapsed().as_secs_f64();
        let originals = vec![None; chunks.len()];
        let rendering = Rendering {
            workdir: &self.workdir,
            opts: &self.opts,
            track: self.track,
            video_secs: self.video_secs,
            policy: &self.policy,
        };
        let (report, plan) = fit_and_render(
            &self.engine,
            &rendering,
            &requests,
            &mut chunks,
            result,
            &originals,
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
            &self.info,
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
        let fits = char_budget(segment.duration_ms(), pace, self.policy.max_speed);
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

/// Apply `edit` to `segment`, or say why it cannot be applied.
fn apply(segment: &mut Segment, edit: &LineEdit, video_secs: f64) -> Result<(), EditError> {
    if let Some(text) = &edit.text {
        let text = clean_text(text);
        if text.is_empty() {
            return Err(EditError::Invalid(
                "text is empty: a line needs something to say".into(),
            ));
        }
        segment.text = text;
    }
    let start = edit.start_ms.unwrap_or(segment.start_ms);
    let end = edit.end_ms.unwrap_or(segment.end_ms);
    let secs = crate::segment::ms_to_secs;
    if end <= start {
        return Err(EditError::Invalid(format!(
            "end ({} s) must be after start ({} s)",
            secs(end),
            secs(start)
        )));
    }
    let video_ms = (video_secs * 1000.0).round().min(MAX_MEDIA_MS as f64) as u64;
    if end > video_ms {
        return Err(EditError::Invalid(format!(
            "end ({} s) is past the video's end ({} s)",
            secs(end),
            secs(video_ms)
        )));
    }
    (segment.start_ms, segment.end_ms) = (start, end);
    if let Some(speaker) = &edit.speaker {
        segment.speaker = speaker
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    Ok(())
}

/// A line's text as subs.srt can hold it: no blank lines (they would end the cue), no
/// carriage returns, no white space at the ends.
fn clean_text(text: &str) -> String {
    text.replace('\r', "")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_before_the_start_is_refused_and_changes_nothing() {
        let mut s = Segment::new(1000, 2000, "Hello.");
        let err = apply(
            &mut s,
            &LineEdit {
                end_ms: Some(500),
                text: Some("Changed.".into()),
                ..LineEdit::default()
            },
            10.0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be after start"), "{err}");
        assert_eq!(s.end_ms, 2000);
    }

    #[test]
    fn text_loses_blank_lines_and_an_empty_speaker_clears_it() {
        let mut s = Segment::new(0, 1000, "a").with_speaker(Some("ANN".into()));
        let edit = LineEdit {
            text: Some(" One.\r\n\r\n Two. ".into()),
            speaker: Some(Some(" ".into())),
            ..LineEdit::default()
        };
        apply(&mut s, &edit, 10.0).unwrap();
        assert_eq!(s.text, "One.\nTwo.");
        assert_eq!(s.speaker, None);
        let past = LineEdit {
            end_ms: Some(11_000),
            ..LineEdit::default()
        };
        assert!(apply(&mut s, &past, 10.0).is_err());
    }
}
