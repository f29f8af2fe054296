//! `carecircle`: no arguments opens the desktop app; subcommands run headless.

mod cli;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    if std::env::args_os().len() <= 1 {
        return open_app(None);
    }
    let args = cli::Cli::parse();
    match args.command {
        cli::Command::App { dataset } => open_app(dataset),
        cmd => cli::run(cmd),
    }
}

#[cfg(feature = "gui")]
fn open_app(dataset: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    carecircle::app::run(dataset)
}

#[cfg(not(feature = "gui"))]
fn open_app(_dataset: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    anyhow::bail!("this build has no desktop app (built without the `gui` feature): run `carecircle --help` for the headless commands")
}
