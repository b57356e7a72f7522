//! A studio server for the studio tests: a generated 20 s video, a work directory whose subs.srt
//! has lines that fit, lines at the speed cap and lines that overflow, and a [`Session`] speaking
//! through the fake OpenAI server of `tests/common` (which counts requests), served in-process.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use dubber::llm::OpenAiChat;
use dubber::media::MuxOptions;
use dubber::pipeline::Workdir;
use dubber::pipeline::synth::session::Session;
use dubber::pipeline::synth::{Background, SynthOptions};
use dubber::studio::{Studio, StudioOptions};
use dubber::text::GroupOptions;
use dubber::timeline::{Mode, Policy};
use dubber::tts::{AudioFormat, BatchOptions, OpenAiTts, SynthRequest};

use crate::common::{Faults, TestServer};

pub mod webdriver;

/// 100 characters: 250 ms of audio from the fake server.
pub const LONG: &str = "This line says far more than its short window can hold at any natural speed, so it is squeezed in.";

/// Lines 1, 3, 6, 7 fit at 1×; 2 plays at the cap; 4 overflows into 5, which starts late.
pub fn srt() -> String {
    let lines = [
        ("00:00:01,000", "00:00:01,300", "Alpha one."),
        ("00:00:01,300", "00:00:01,500", LONG),
        ("00:00:01,500", "00:00:03,000", "Plain third line."),
        ("00:00:05,000", "00:00:05,100", LONG),
        ("00:00:05,100", "00:00:06,000", "Pushed fifth line."),
        ("00:00:10,000", "00:00:12,000", "A calm sixth line."),
        ("00:00:15,000", "00:00:15,200", "Short seventh line."),
        (
            "00:00:15,200",
            "00:00:17,000",
            "The eighth line follows at once.",
        ),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(i, (a, b, t))| format!("{}\n{a} --> {b}\n{t}\n\n", i + 1))
        .collect()
}

/// A 20 s test pattern with a tone, made by ffmpeg.
pub fn make_video(dir: &Path) -> PathBuf {
    let video = dir.join("talk.mp4");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x180:rate=10:duration=20")
        .args(["-f", "lavfi", "-i", "sine=frequency=220:duration=20"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-shortest"])
        .arg(&video)
        .output()
        .expect("ffmpeg must be installed (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    video
}

pub fn options(dir: &Path) -> SynthOptions {
    let mut request = SynthRequest::new("", "onyx", "gpt-4o-mini-tts");
    request.format = AudioFormat::Pcm16 {
        sample_rate: 24_000,
    };
    SynthOptions {
        casting: Default::default(),
        grouping: GroupOptions::default(),
        policy: Policy {
            mode: Mode::Segment,
            ..Policy::default()
        },
        request,
        batch: BatchOptions::default(),
        allow_silence: false,
        background: Background::Duck,
        ducking: Default::default(),
        mux: MuxOptions::default(),
        output: Some(dir.join("talk.dubbed.mp4")),
    }
}

/// A running studio and what the tests look at.
pub struct Running {
    pub tts: TestServer,
    pub dir: tempfile::TempDir,
    pub video: PathBuf,
    pub workdir: Workdir,
    pub url: String,
    pub token: String,
    pub port: u16,
    pub server: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn subs(&self) -> String {
        std::fs::read_to_string(self.workdir.subs_srt()).unwrap()
    }
    pub fn report(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.workdir.report_json()).unwrap()).unwrap()
    }
}

/// Start a studio over a fresh work directory.
pub async fn start() -> Running {
    start_in(Mode::Segment).await
}

/// Start a studio whose timing is `mode` (chunks of several lines unless [`Mode::Segment`]).
pub async fn start_in(mode: Mode) -> Running {
    let tts = TestServer::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let video = make_video(dir.path());
    let workdir = Workdir::new(dir.path().join("talk.dub"));
    workdir.create().unwrap();
    std::fs::write(workdir.subs_srt(), srt()).unwrap();
    let mut opts = options(dir.path());
    opts.policy.mode = mode;
    let (url, token, port, server) = serve_with(&tts, dir.path(), &video, &workdir, opts).await;
    Running {
        tts,
        dir,
        video,
        workdir,
        url,
        token,
        port,
        server,
    }
}

/// Open a session over `workdir` and serve it; (url, token, port, the serving task).
pub async fn serve(
    tts: &TestServer,
    dir: &Path,
    video: &Path,
    workdir: &Workdir,
) -> (String, String, u16, tokio::task::JoinHandle<()>) {
    serve_with(tts, dir, video, workdir, options(dir)).await
}

/// [`serve`] with these synth options.
pub async fn serve_with(
    tts: &TestServer,
    dir: &Path,
    video: &Path,
    workdir: &Workdir,
    opts: SynthOptions,
) -> (String, String, u16, tokio::task::JoinHandle<()>) {
    let engine = OpenAiTts::new(&tts.openai_base(), Some("sk-test".into())).unwrap();
    let session = Session::open(video, workdir, engine, opts).await.unwrap();
    let studio = Studio::bind::<_, OpenAiChat>(
        session,
        None,
        StudioOptions {
            port: 0,
            output: dir.join("talk.dubbed.mp4"),
        },
    )
    .await
    .unwrap();
    let (url, token, port) = (
        studio.url().to_string(),
        studio.token().to_string(),
        studio.port(),
    );
    let server = tokio::spawn(async move {
        studio.serve().await.unwrap();
    });
    (url, token, port, server)
}
