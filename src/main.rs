//! The `dubber` binary: parse arguments, set up logging, run, map errors to exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A .env file in the current directory may hold API keys; a missing one is fine.
    let ignored = cli::config::load_dotenv();
    let cli = cli::Cli::parse();
    cli::output::init_logging(&cli.global);
    if !ignored.is_empty() {
        tracing::warn!(
            ".env: ignored {} (a .env file may set only {})",
            ignored.join(", "),
            cli::config::dotenv_settings().join(", ")
        );
    }
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
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
