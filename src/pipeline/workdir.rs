//! The work directory of one video: every file a stage reads or writes has its path here, and
//! nowhere else, so that stages, tests and users agree on the layout.
//!
//! ```text
//! <stem>.dub/
//!   subs.srt            the subtitles synth speaks; a person may edit them between prep and synth
//!   subs.orig.srt       the original-language subtitles when prep translated
//!   cast.toml           which voice speaks for whom, when the lines have speakers (a person may
//!                       edit it; see [`crate::cast`])
//!   transcript.json     what the transcriber heard, before normalising (reused while the video
//!                       and the engine are unchanged)
//!   transcript.en.json  the same, translated into English by Whisper (`--translate-with whisper`)
//!   transcription.json  what the transcriber did: language heard, model, speech found, what was
//!                       dropped as hallucination (`transcription.en.json` for the translation)
//!   segments.json       the normalised segments prep produced, in seconds
//!   manifest.json       sentence groups and TTS chunks, in seconds (schema in the README)
//!   report.json         how synth fitted every chunk (schema in the README)
//!   dub.wav             the rendered voice track, exactly as long as the video
//!   mix.wav             dub.wav over the original audio (ducked, mixed or separated), 48 kHz,
//!                       in the source's channel layout: what is muxed
//!   dubbed.<ext>        `run --burn`: the dubbed video before subtitles go in
//!   burn/               subtitle files `burn` converted to UTF-8 SRT for ffmpeg
//!   speech.wav          16 kHz mono audio for transcription
//!   background.wav      the original audio at 48 kHz in all its channels, kept under the voice
//!   state.json          hashes of each stage's inputs, so unchanged work is skipped
//!   .lock               held by the process working here (see [`Workdir::lock`])
//!   .task.lock          held by a `dubber batch task` for its whole run (see `dubber::batch`)
//!   task.json           a batch task's state: running, done or failed, attempts, last error
//!   cache/tts/          synthesized clips, content-addressed
//!   cache/llm/          validated chat-model replies, content-addressed
//!   youtube/            description.md, chapters.txt, tags.txt
//! ```

use std::path::{Path, PathBuf};

/// Another process holds the work directory.
#[derive(Debug, thiserror::Error)]
pub enum WorkdirError {
    #[error(
        "{}: another dubber is working in this directory (it holds {}); wait for it to finish, or pass --workdir to use another",
        root.display(), lock.display()
    )]
    Busy { root: PathBuf, lock: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lock on a work directory; released when dropped (or when the process ends, however).
#[derive(Debug)]
pub struct WorkdirLock {
    _file: std::fs::File,
}

/// Paths of one video's work directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workdir {
    root: PathBuf,
}

impl Workdir {
    /// A work directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `explicit` if given, else `./<video file stem>.dub` in the current directory.
    pub fn for_video(video: &Path, explicit: Option<&Path>) -> Self {
        match explicit {
            Some(dir) => Self::new(dir),
            None => {
                let stem = video
                    .file_stem()
                    .map_or_else(|| "video".to_string(), |s| s.to_string_lossy().into_owned());
                Self::new(format!("{stem}.dub"))
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `./<name>.dub` in the current directory.
    pub fn named(name: &str) -> Self {
        Self::new(format!("{name}.dub"))
    }

    /// Create the directory (and parents).
    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)
    }

    /// Create the directory and lock it for this process: two processes working in one directory
    /// would overwrite each other's files. Fails at once, naming the directory, when another
    /// process holds it. The operating system releases the lock when the process ends, so a
    /// crashed run never leaves the directory locked.
    pub fn lock(&self) -> Result<WorkdirLock, WorkdirError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WorkdirError::Io { path, source }
        };
        self.create().map_err(io(&self.root))?;
        let path = self.root.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(WorkdirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(WorkdirError::Busy {
                root: self.root.clone(),
                lock: path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }

    pub fn subs_srt(&self) -> PathBuf {
        self.root.join("subs.srt")
    }
    pub fn cast_toml(&self) -> PathBuf {
        self.root.join("cast.toml")
    }
    pub fn subs_orig_srt(&self) -> PathBuf {
        self.root.join("subs.orig.srt")
    }
    pub fn transcript_json(&self) -> PathBuf {
        self.root.join("transcript.json")
    }
    pub fn transcript_en_json(&self) -> PathBuf {
        self.root.join("transcript.en.json")
    }
    pub fn transcription_json(&self) -> PathBuf {
        self.root.join("transcription.json")
    }
    pub fn transcription_en_json(&self) -> PathBuf {
        self.root.join("transcription.en.json")
    }
    pub fn segments_json(&self) -> PathBuf {
        self.root.join("segments.json")
    }
    pub fn manifest_json(&self) -> PathBuf {
        self.root.join("manifest.json")
    }
    pub fn report_json(&self) -> PathBuf {
        self.root.join("report.json")
    }
    pub fn dub_wav(&self) -> PathBuf {
        self.root.join("dub.wav")
    }
    pub fn mix_wav(&self) -> PathBuf {
        self.root.join("mix.wav")
    }
    /// The dubbed video inside the work directory, with `ext` (a stage's intermediate output).
    pub fn dubbed_video(&self, ext: &str) -> PathBuf {
        self.root.join(format!("dubbed.{ext}"))
    }
    /// A subtitle file converted for `burn` (another format or encoding, as UTF-8 SRT).
    pub fn burn_subtitles(&self, name: &str) -> PathBuf {
        self.root.join("burn").join(format!("{name}.srt"))
    }
    pub fn speech_wav(&self) -> PathBuf {
        self.root.join("speech.wav")
    }
    /// The original voice the separation model took out of the background (mono, 48 kHz).
    pub fn voice_wav(&self) -> PathBuf {
        self.root.join("voice.wav")
    }
    pub fn background_wav(&self) -> PathBuf {
        self.root.join("background.wav")
    }
    pub fn state_json(&self) -> PathBuf {
        self.root.join("state.json")
    }
    pub fn tts_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("tts")
    }
    pub fn llm_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("llm")
    }
    pub fn youtube_dir(&self) -> PathBuf {
        self.root.join("youtube")
    }
    pub fn task_json(&self) -> PathBuf {
        self.root.join("task.json")
    }
    pub fn task_lock(&self) -> PathBuf {
        self.root.join(".task.lock")
    }
}

/// `<stem>.<tag>.<ext>` beside `video` (`talk.dubbed.mp4`): where outputs go by default. `ext`
/// defaults to the video's own.
pub fn output_beside(video: &Path, tag: &str, ext: Option<&str>) -> PathBuf {
    let stem = video
        .file_stem()
        .map_or_else(|| "video".into(), |s| s.to_string_lossy().into_owned());
    video.with_file_name(output_name(&stem, video, tag, ext))
}

/// `<name>.<tag>.<ext>`, `ext` defaulting to `video`'s own (else `mp4`).
pub fn output_name(name: &str, video: &Path, tag: &str, ext: Option<&str>) -> String {
    let ext = ext
        .map(str::to_string)
        .or_else(|| video.extension().map(|e| e.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "mp4".into());
    format!("{name}.{tag}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_workdir_refuses_a_second_holder_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let w = Workdir::new(dir.path().join("w.dub"));
        let held = w.lock().unwrap();
        let err = w.lock().unwrap_err();
        assert!(
            err.to_string().contains("another dubber is working"),
            "{err}"
        );
        drop(held);
        w.lock().unwrap();
    }

    #[test]
    fn default_is_stem_dot_dub() {
        let w = Workdir::for_video(Path::new("/videos/talk.final.mp4"), None);
        assert_eq!(w.root(), Path::new("talk.final.dub"));
        assert_eq!(w.subs_srt(), Path::new("talk.final.dub/subs.srt"));
        let w = Workdir::for_video(Path::new("x.mp4"), Some(Path::new("/tmp/w")));
        assert_eq!(w.manifest_json(), Path::new("/tmp/w/manifest.json"));
    }
}
