//! After the render: the original audio under the new voice ([`Background`]), and the mux into
//! the dubbed video, skipped when the output was made from this very track, video and settings.

use std::path::{Path, PathBuf};

use super::{Background, SynthOptions, SynthStageError, off_runtime};
use crate::audio::{self, Ducking};
use crate::media;
use crate::pipeline::state::{Fingerprint, State, Step, sha256_file};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::timeline::{self, Plan};

/// The track to mux: `dub.wav` alone, or mixed over the original audio in `mix.wav`.
pub(super) async fn with_background(
    video: &Path,
    workdir: &Workdir,
    opts: &SynthOptions,
    has_audio: bool,
    plan: &Plan,
    segments: &[Segment],
) -> Result<PathBuf, SynthStageError> {
    let track = workdir.dub_wav();
    if opts.background == Background::None || !has_audio {
        return Ok(track);
    }
    let mut intervals = plan.speech_intervals();
    // Duck under the original lines too: the original voice is in the background.
    let to_samples = |ms| timeline::ms_to_samples(ms, timeline::RATE);
    intervals.extend(
        segments
            .iter()
            .map(|s| (to_samples(s.start_ms), to_samples(s.end_ms))),
    );
    intervals.sort_unstable();
    let ducking = match opts.background {
        Background::Mix => Ducking {
            depth_db: 0.0,
            ..opts.ducking
        },
        _ => opts.ducking,
    };
    let mixed = workdir.mix_wav();
    let (video, background, out) = (video.to_path_buf(), workdir.background_wav(), mixed.clone());
    off_runtime(move || -> Result<(), SynthStageError> {
        media::extract_background(&video, &background, timeline::RATE)?;
        Ok(audio::duck_mix_files(
            &track,
            &background,
            &intervals,
            &ducking,
            &out,
        )?)
    })
    .await??;
    Ok(mixed)
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
