//! Reading input files safely: every reader checks a path is a regular file of a sane
//! size before opening it (ground floor: the rule loader and the instance reader use it
//! as well as `io`).

use std::path::Path;

use crate::error::{Error, Result};

/// The largest input file read, bytes: a province's PBF is a few hundred MB; past this a
/// file is more likely a mistake (a disk image, a device) than data.
pub const MAX_INPUT_BYTES: u64 = 4 << 30;

/// Checks that `path` is a regular file (after symlinks) no larger than
/// [`MAX_INPUT_BYTES`] before anything reads it: a FIFO would hang the reader and a
/// device (`/dev/urandom`) would be read until memory runs out. Returns its size.
pub fn check_readable(path: &Path) -> Result<u64> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if m.is_dir() {
        return Err(Error::format_zh(
            path,
            "is a folder, not a data file",
            "这是文件夹，不是数据文件",
        ));
    }
    if !m.is_file() {
        return Err(Error::format_zh(
            path,
            "not a regular file (a pipe, device or socket): refusing to read it",
            "不是普通文件（管道、设备或套接字）：拒绝读取",
        ));
    }
    if m.len() > MAX_INPUT_BYTES {
        return Err(Error::format_zh(
            path,
            format!(
                "{:.1} GB is more than the {} GB a data file may have: is this the right file?",
                m.len() as f64 / 1e9,
                MAX_INPUT_BYTES >> 30
            ),
            format!(
                "文件大小 {:.1} GB，超过数据文件上限 {} GB：请确认文件是否正确",
                m.len() as f64 / 1e9,
                MAX_INPUT_BYTES >> 30
            ),
        ));
    }
    Ok(m.len())
}

/// Reads a whole input file after [`check_readable`].
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    check_readable(path)?;
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads a whole input text file (UTF-8) after [`check_readable`].
pub fn read_input_text(path: &Path) -> Result<String> {
    check_readable(path)?;
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// The user's own data directory for CareCircle (edit logs and caches of data in folders
/// the user cannot write): `%APPDATA%\carecircle` on Windows, `$XDG_DATA_HOME/carecircle`
/// or `~/.local/share/carecircle` elsewhere; the temp directory when none is set.
pub fn user_data_dir() -> std::path::PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("APPDATA")
    } else {
        var("XDG_DATA_HOME").or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
    };
    base.unwrap_or_else(std::env::temp_dir).join("carecircle")
}

/// The first 8 hex digits of a SHA-256: a short, stable tag for a path in a file name.
pub fn short_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a new file can be made in `dir` (tried, not guessed from permission bits:
/// read-only mounts and ACLs say otherwise).
pub fn can_write_in(dir: &std::path::Path) -> bool {
    let probe = dir.join(format!(".carecircle-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}
