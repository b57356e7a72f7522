//! `dubber models`: what is installed in the data directory, and fetching more.

use anyhow::Result;
use clap::{Args, Subcommand};
use dubber::models::fetch::{HUGGING_FACE, fetch, remote_model};
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{Event, Output};

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the Whisper models, Piper voices and ONNX Runtime in the data dir (DUBBER_HOME).
    List,
    /// Download a Whisper model (tiny.en, base, small, ...) or a Piper voice (en_US-joe-medium),
    /// with a progress bar and a SHA-256 check.
    Fetch {
        /// The model or voice name.
        name: String,
        /// Where to download from.
        #[arg(long, env = "DUBBER_MODELS_HOST", default_value = HUGGING_FACE)]
        host: String,
    },
}

pub fn run(args: ModelsArgs, out: &Output) -> Result<()> {
    let data = super::data::require_data_dir()?;
    match args.command {
        ModelsCommand::List => {
            let installed: Vec<String> = data.installed()?.iter().map(|m| m.to_string()).collect();
            out.event(
                Event::Models {
                    installed: &installed,
                },
                || {
                    if installed.is_empty() {
                        println!(
                            "nothing installed in {} (run scripts/setup-models.sh)",
                            data.root().display()
                        );
                    }
                    for model in &installed {
                        println!("{model}");
                    }
                },
            );
        }
        ModelsCommand::Fetch { name, host } => {
            let model = remote_model(&name, &host)?;
            let bar = if out.is_quiet() || out.is_json() {
                ProgressBar::hidden()
            } else {
                ProgressBar::new(0)
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let progress = |file: usize, done: u64, total: Option<u64>| {
                bar.set_message(format!("file {}", file + 1));
                if let Some(total) = total {
                    bar.set_length(total);
                }
                bar.set_position(done);
            };
            let fetched = super::block_on(fetch(data, &model, &progress))??;
            bar.finish_and_clear();
            for url in &fetched.unverified {
                tracing::warn!(
                    "{url}: no published SHA-256 to check it against; installed as it arrived \
                     (its SHA-256 is in the SOURCE note)"
                );
            }
            let path = fetched.path;
            out.event(
                Event::Wrote {
                    event: "model_fetched",
                    path: &path,
                },
                || println!("{}", path.display()),
            );
        }
    }
    Ok(())
}
