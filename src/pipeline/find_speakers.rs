//! Prep's step that finds who speaks each line from the audio, when the lines do not say.
//!
//! Subtitles that name their speakers (voice spans, labels, a JSON `speaker`) are taken at their
//! word: diarization runs only when no line has a speaker. A dialogue dash names nobody, so a
//! cue of dashes is two lines whose speakers come from the audio. It reads the video's speech
//! track (`speech.wav`, 16 kHz mono: transcription extracted it already; for imported subtitles
//! it is extracted here) and runs [`crate::speakers::diarize`] on a blocking thread. One speaker
//! found means one voice: the lines keep no speaker, exactly as before diarization existed (same
//! `subs.srt`, same cache keys), so a talk is never split into invented speakers.
//!
//! Why in the pipeline: this is where the work directory, the video and the lines meet; the
//! diarization itself is [`crate::speakers`]'.

use std::path::{Path, PathBuf};

use crate::media::{self, MediaError};
use crate::pipeline::workdir::Workdir;
use crate::segment::Segment;
use crate::speakers::{DiarizeOptions, EcapaEncoder, SpeakerCount, SpeakerError, diarize};

/// How prep finds speakers (`dubber prep --speakers auto|N|off`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeakerFinding {
    /// How many speakers to find; `Off` keeps the lines as they are.
    pub count: SpeakerCount,
    /// The speaker encoder's weights (`DataDir::ecapa_model`: SpeechBrain's ECAPA-TDNN
    /// checkpoint); `None` when not installed: with `Auto`, prep then warns and keeps one voice;
    /// asking for a number of speakers fails.
    pub model: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum FindSpeakersError {
    #[error(transparent)]
    Speakers(#[from] SpeakerError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("--speakers {count}: the speaker model is not installed (run scripts/setup-models.sh)")]
    NoModel { count: usize },
    #[error("the diarization thread stopped: {0}")]
    Worker(String),
}

/// `segments` with their speakers found from the audio when they have none (see the module
/// doc), saying in the log what was done. `video` supplies `speech.wav` when it is missing
/// (imported subtitles).
pub async fn find_speakers(
    workdir: &Workdir,
    video: Option<&Path>,
    segments: Vec<Segment>,
    finding: &SpeakerFinding,
) -> Result<Vec<Segment>, FindSpeakersError> {
    if finding.count == SpeakerCount::Off {
        return Ok(segments);
    }
    if segments.iter().any(|s| s.speaker.is_some()) {
        tracing::info!("the subtitles name the speakers: diarization not run");
        return Ok(segments);
    }
    let Some(model) = finding.model.clone() else {
        return match finding.count {
            SpeakerCount::Exactly(count) => Err(FindSpeakersError::NoModel { count }),
            _ => {
                tracing::warn!(
                    "the speaker model is not installed, so every line keeps one voice; \
                     run scripts/setup-models.sh to find speakers"
                );
                Ok(segments)
            }
        };
    };
    let (speech, root) = (workdir.speech_wav(), workdir.root().to_path_buf());
    let video = video.map(Path::to_path_buf);
    let options = DiarizeOptions {
        speakers: finding.count,
        ..DiarizeOptions::default()
    };
    let work = move || -> Result<Vec<Segment>, FindSpeakersError> {
        if !speech.is_file() {
            // Subtitles prepare without the video; only a number of speakers asked for makes its
            // speech a requirement.
            let Some(video) = video else {
                return Ok(segments);
            };
            if let Err(e) = media::extract_audio(&video, &speech, None) {
                if let SpeakerCount::Exactly(_) = options.speakers {
                    return Err(e.into());
                }
                tracing::warn!("cannot read the speech to find speakers ({e}): one voice");
                return Ok(segments);
            }
        }
        let encoder = EcapaEncoder::load(&model)?;
        let found = diarize(&encoder, &speech, &segments, &options)?;
        let count = found.speakers.len();
        let plural = if count == 1 { "" } else { "s" };
        tracing::info!("{}: {count} speaker{plural} found", root.display());
        let mut lines = found.segments;
        if count <= 1 {
            for line in &mut lines {
                line.speaker = None;
            }
        }
        Ok(lines)
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| FindSpeakersError::Worker(e.to_string()))?
}
