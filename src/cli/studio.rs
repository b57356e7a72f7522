//! `dubber studio`: review the dub in the browser, fix a line, hear it re-rendered.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use dubber::llm::LineEditor;
use dubber::pipeline::output_beside;
use dubber::pipeline::synth::session::Session;
use dubber::studio::{Listener, Studio};

use super::flags::{LlmArgs, SynthFlags, WorkdirArgs};
use super::output::Output;
use super::{config, voices};

#[derive(Debug, Args)]
pub struct StudioArgs {
    /// The video to review; its work directory must hold subs.srt (from `dubber prep`).
    #[arg(value_name = "VIDEO")]
    pub video: PathBuf,
    /// Where Export writes the dubbed video [default: <video stem>.dubbed.<ext> beside the video]
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub workdir: WorkdirArgs,
    /// The port on 127.0.0.1 [default: a free one]
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// Print the URL only; do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    #[command(flatten)]
    pub synth: SynthFlags,
    #[command(flatten)]
    pub llm: LlmArgs,
}

pub fn run(args: StudioArgs, out: &Output) -> Result<()> {
    let workdir = args.workdir.for_video(&args.video);
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| output_beside(&args.video, "dubbed", None));
    let opts = config::synth_options(&args.synth, Some(output.clone()))?;
    let engine = voices::tts_engine(&args.synth.tts, &opts.casting.default_voice)?;
    // "Shorten" needs a chat model; without one the page says which setting to give.
    let editor = match config::chat(&args.llm, &workdir) {
        Ok((model, cache)) => Some(LineEditor::new(model).with_cache(cache)),
        Err(e) => {
            tracing::info!("Shorten is off: {e:#}");
            None
        }
    };
    super::block_on(async {
        // The port first: a busy one fails now, not after the whole dub is rendered.
        let listener = Listener::bind(args.port).await?;
        if !out.is_quiet() {
            eprintln!("synthesizing what is missing and rendering the dub track…");
        }
        let session = Session::open(&args.video, &workdir, engine, opts)
            .await
            .context("opening the work directory")?;
        let studio = Studio::new(listener, session, editor, output)?;
        println!("{}", studio.url());
        if !args.no_open {
            open_browser(studio.url());
        }
        studio.serve().await?;
        anyhow::Ok(())
    })?
}

/// Open `url` in the desktop's browser; a failure only means the user opens it by hand.
fn open_browser(url: &str) {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    if let Err(e) = command.arg(url).spawn() {
        eprintln!("could not open a browser ({e}); open the URL above");
    }
}
