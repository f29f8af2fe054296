//! The desktop app (placeholder until the app issue).
pub fn run(_dataset: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    Ok(())
}
