//! Writing the user's files: every output goes through here, so that a failed or
//! interrupted write never leaves a half-written file where the user's data was.

use std::path::Path;

use super::display_name;
use crate::error::{Error, Result};

/// Writes bytes to `path` via a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        display_name(path),
        std::process::id()
    ));
    // Errors name the file the user asked for, not our temporary one; a failed write
    // leaves the old file untouched and removes the partial temporary.
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}
