//! After the render: the original audio under the new voice ([`Background`], mixed by
//! [`crate::background`] in the source's channel layout), and the mux into the dubbed video,
//! skipped when the output was made from this very track, video and settings.

use std::path::{Path, PathBuf};

use super::{Background, SynthOptions, SynthStageError, off_runtime};
use crate::background::{self, BackgroundReport, Method, MixJob};
use crate::media::{self, Probe};
use crate::models::DataDir;
use crate::pipeline::state::{Fingerprint, State, Step, sha256_file};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::separation;
use crate::timeline::{self, Plan};

/// The track to mux (`dub.wav` alone, or mixed over the original audio in `mix.wav`) and how the
/// original audio was treated.
pub(super) async fn with_background(
    video: &Path,
    workdir: &Workdir,
    opts: &SynthOptions,
    info: &Probe,
    plan: &Plan,
    segments: &[Segment],
) -> Result<(PathBuf, BackgroundReport), SynthStageError> {
    let track = workdir.dub_wav();
    let audio = info.audio();
    if opts.background == Background::None || audio.is_none() {
        let report = BackgroundReport {
            mode: opts.background.mode(),
            method: Method::None,
            reason: audio
                .is_none()
                .then(|| "the video has no audio".to_string()),
            channels: 1,
            layout: "mono".into(),
            rate: timeline::RATE,
            dialogue_lufs: None,
            dub_lufs: None,
            dub_gain_db: 0.0,
        };
        return Ok((track, report));
    }
    let layout_name = audio.and_then(|a| a.channel_layout.clone());
    let to_samples = |ms| timeline::ms_to_samples(ms, timeline::RATE);
    let lines: Vec<(u64, u64)> = segments
        .iter()
        .map(|s| (to_samples(s.start_ms), to_samples(s.end_ms)))
        .collect();
    let dub_speech = plan.speech_intervals();
    let mut ducking = opts.ducking;
    if opts.background == Background::Mix {
        ducking.depth_db = 0.0;
    }
    let mode = opts.background.mode();
    let by_model = opts.background == Background::Separate;
    let mixed = workdir.mix_wav();
    let (video, bg, out) = (video.to_path_buf(), workdir.background_wav(), mixed.clone());
    let voice = workdir.voice_wav();
    let report = off_runtime(move || -> Result<BackgroundReport, SynthStageError> {
        media::extract_background(&video, &bg, background::MIX_RATE)?;
        let (separator, missing) = match by_model {
            true => model_separator(&bg, layout_name.as_deref(), &lines, &voice)?,
            false => (None, None),
        };
        let mut report = background::render(MixJob {
            dub: &track,
            background: &bg,
            layout_name: layout_name.as_deref(),
            mode,
            ducking,
            dub_speech: &dub_speech,
            original_lines: &lines,
            separator,
            out: &out,
        })?;
        if report.reason.is_none() {
            report.reason = missing;
        }
        Ok(report)
    })
    .await??;
    // The summary line says it for the user; this is for the log.
    tracing::debug!(
        "background: {:?} via {:?}, {} ({} channels)",
        report.mode,
        report.method,
        report.layout,
        report.channels
    );
    Ok((mixed, report))
}
/// A model separator, or why there is none.
type ModelChoice = (Option<Box<dyn background::Separator>>, Option<String>);

/// The separation model's separator for `separate`, or why there is none (the model is missing:
/// the layout method then runs, with a warning that says how to install it).
fn model_separator(
    bg: &Path,
    layout_name: Option<&str>,
    lines: &[(u64, u64)],
    voice: &Path,
) -> Result<ModelChoice, SynthStageError> {
    let model = DataDir::from_env().and_then(|d| d.separation_model());
    let model = match model {
        Ok(model) => model,
        Err(e) => {
            let reason = format!("{e}; separated by the channel layout instead");
            tracing::warn!("--background separate: {reason}");
            return Ok((None, Some(reason)));
        }
    };
    // The lines' windows at the mix rate (twice the timeline's).
    let lines = lines.iter().map(|&(s, e)| (2 * s, 2 * e)).collect();
    let separator = separation::for_background(&model, bg, layout_name, lines, Some(voice))?;
    Ok((
        separator.map(|s| Box::new(s) as Box<dyn background::Separator>),
        None,
    ))
}

/// Mux `track` into `video` as `out`, unless `out` exists and was made from this very track,
/// video and mux settings (the track is hashed in blocks, never read whole).
pub(super) async fn mux_unless_current(
    video: &Path,
    workdir: &Workdir,
    track: &Path,
    out: &Path,
    mux: &media::MuxOptions,
) -> Result<(), SynthStageError> {
    let track_hash = {
        let track = track.to_path_buf();
        off_runtime(move || {
            sha256_file(&track).map_err(|source| SynthStageError::Io {
                path: track.clone(),
                source,
            })
        })
        .await??
    };
    let key = Fingerprint::new()
        .text(&video.to_string_lossy())
        .text(&out.to_string_lossy())
        .value(mux)
        .text(&track_hash)
        .finish();
    let state_path = workdir.state_json();
    let mut state = State::load(&state_path);
    if out.exists() && state.is(Step::Mux, &key) {
        tracing::info!("{}: up to date", out.display());
        return Ok(());
    }
    let (video, track, out, mux) = (
        video.to_path_buf(),
        track.to_path_buf(),
        out.to_path_buf(),
        mux.clone(),
    );
    off_runtime(move || media::mux(&video, &track, &out, &mux)).await??;
    state.set(Step::Mux, key);
    state
        .save(&state_path)
        .map_err(|source| SynthStageError::Io {
            path: state_path.clone(),
            source,
        })
}
