//! The `dubber` binary: parse arguments, set up logging, run, map errors to exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // A .env file in the current directory may hold API keys; a missing one is fine.
    let _ = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    init_logging(&cli.global);
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(global: &cli::GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn,dubber=info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks argument names and ids only when a command is built: do it for every one.
    #[test]
    fn cli_definition_is_valid() {
        super::cli::Cli::command().debug_assert();
    }
}
