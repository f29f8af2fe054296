//! `carecircle`: no arguments opens the desktop app; subcommands run headless.

// Windows: no console window when the app is started by double-click; the CLI attaches to
// the terminal it was started from (see `attach_console`).
#![cfg_attr(all(windows, feature = "gui"), windows_subsystem = "windows")]

mod cli;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    if std::env::args_os().len() <= 1 {
        return open_app(None);
    }
    #[cfg(windows)]
    attach_console();
    let args = cli::Cli::parse();
    carecircle::io::load::set_memory_limit(args.max_memory);
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

/// A GUI-subsystem program has no console: a command typed in cmd or PowerShell attaches
/// to that window's console so its output and progress show there.
#[cfg(windows)]
fn attach_console() {
    #[link(name = "kernel32")]
    extern "system" {
        fn AttachConsole(process_id: u32) -> i32;
    }
    const ATTACH_PARENT_PROCESS: u32 = u32::MAX;
    // SAFETY: a Win32 call taking a plain integer; failure (no parent console, or output
    // already redirected to a file) leaves the handles as they were.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
