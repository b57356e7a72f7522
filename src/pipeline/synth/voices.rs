//! Synth's side of the cast: every speaker of the lines gets a voice ([`cast_speakers`], off the
//! async threads: it may extract audio and measure voices), and every chunk a request in its
//! speaker's voice. Shared by [`super::synth_with_shortening`] and the studio's
//! [`super::session`].

use std::path::Path;

use super::{SynthOptions, SynthStageError, off_runtime};
use crate::pipeline::cast::{Casting, SpeakerVoices, cast_speakers, request_for};
use crate::pipeline::workdir::Workdir;
use crate::tts::SynthRequest;
use crate::{Chunk, Segment};

/// The cast of `segments`' speakers ([`cast_speakers`]).
pub(crate) async fn cast_for(
    workdir: &Workdir,
    video: Option<&Path>,
    casting: &Casting,
    segments: &[Segment],
) -> Result<SpeakerVoices, SynthStageError> {
    let (workdir, video, casting, segments) = (
        workdir.clone(),
        video.map(Path::to_path_buf),
        casting.clone(),
        segments.to_vec(),
    );
    Ok(
        off_runtime(move || cast_speakers(&workdir, video.as_deref(), &casting, &segments))
            .await??,
    )
}

/// One request per chunk, each with its speaker's voice (`speakers` in the chunks' order).
pub(crate) fn requests_of(
    opts: &SynthOptions,
    voices: &SpeakerVoices,
    speakers: &[Option<String>],
    chunks: &[Chunk],
) -> Vec<SynthRequest> {
    chunks
        .iter()
        .zip(speakers)
        .map(|(c, speaker)| {
            request_for(
                &opts.request,
                &opts.casting,
                voices,
                speaker.as_deref(),
                &c.text,
            )
        })
        .collect()
}
