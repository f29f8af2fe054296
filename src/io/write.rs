//! Writing the user's files: every output goes through here, so that
//! - an output never lands on a file the run read (the dataset's layers, its manifest, its
//!   graph cache, a candidate or rule file): [`Inputs::check`] refuses, naming both;
//! - a failed or interrupted write never leaves a half-written file where the user's data
//!   was: regular files are written to a temporary beside them, synced, and renamed over;
//! - what the path is stays what it is: a symlink is written through (the link stays), a
//!   device or FIFO is written directly (never replaced by a regular file), `-` is standard
//!   output, a file's permissions and hard links are kept;
//! - temporaries left by a killed run (`.NAME.tmp-PID` of a process that is gone) are
//!   cleaned up by the next write of that file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::display_name;
use crate::error::{Error, Result};
use crate::model::Dataset;

/// The files (and folders) a run read, canonicalised: outputs may not land on them.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    files: Vec<PathBuf>,
    /// Folders whose every file is an input (the graph cache).
    dirs: Vec<PathBuf>,
}

impl Inputs {
    /// What loading `ds` read: its manifest (or single file), every layer's file and the
    /// folder of its walking-graph cache.
    pub fn of_dataset(ds: &Dataset) -> Inputs {
        let mut inputs = Inputs::default();
        if ds.source.is_dir() {
            inputs.add(&ds.source.join("dataset.toml"));
        } else {
            inputs.add(&ds.source);
        }
        for l in &ds.layers {
            inputs.add(&l.path);
            // A shapefile is several files; each is the user's data.
            if l.path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("shp"))
            {
                for ext in ["shx", "dbf", "prj", "cpg", "SHX", "DBF", "PRJ", "CPG"] {
                    inputs.add(&l.path.with_extension(ext));
                }
            }
        }
        inputs.add_dir(&super::graph::cache_dir(ds));
        inputs
    }

    /// One more file the run read (a candidate layer, a rule preset file).
    pub fn add(&mut self, path: &Path) {
        if let Some(c) = canonical(path) {
            if !self.files.contains(&c) {
                self.files.push(c);
            }
        }
    }

    /// A folder all of whose files are inputs.
    pub fn add_dir(&mut self, path: &Path) {
        if let Some(c) = canonical(path) {
            self.dirs.push(c);
        }
    }

    /// Refuses an output that would overwrite an input, naming both. `-` (standard
    /// output) and devices are never inputs here.
    pub fn check(&self, out: &Path) -> Result<()> {
        if out == Path::new("-") {
            return Ok(());
        }
        let Some(c) = canonical(out) else {
            return Ok(());
        };
        let hit = self
            .files
            .iter()
            .find(|f| **f == c)
            .or_else(|| self.dirs.iter().find(|d| c.starts_with(d)));
        match hit {
            Some(input) => Err(Error::input(
                format!(
                    "{}: refusing to write the output over an input of this run ({}); choose another file name",
                    out.display(),
                    input.display()
                ),
                format!(
                    "{}：输出会覆盖本次读取的输入文件（{}），已拒绝；请换一个文件名",
                    out.display(),
                    input.display()
                ),
            )),
            None => Ok(()),
        }
    }
}

/// The path as it will be resolved when written: symlinks followed, `..` removed. For a
/// path that does not exist yet, its nearest existing folder is canonicalised and the rest
/// appended.
fn canonical(path: &Path) -> Option<PathBuf> {
    let target = resolve_links(path).ok()?;
    let target = if target.is_absolute() {
        target
    } else {
        std::env::current_dir().ok()?.join(target)
    };
    let mut rest = Vec::new();
    let mut at = target.as_path();
    loop {
        if let Ok(c) = fs::canonicalize(at) {
            return Some(rest.iter().rev().fold(c, |p, n| p.join(n)));
        }
        rest.push(at.file_name()?.to_owned());
        at = at.parent()?;
    }
}

/// An output's format, checked against its file name so that a `.jpg` never holds PNG
/// bytes and a `.csv` never holds JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    GeoJson,
    Csv,
    Png,
    Svg,
    Pdf,
    Xlsx,
    Parquet,
}

impl OutputFormat {
    /// The extensions a file of this format may have.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            OutputFormat::Json => &["json"],
            OutputFormat::GeoJson => &["geojson", "json", "gpkg"],
            OutputFormat::Csv => &["csv", "txt"],
            OutputFormat::Png => &["png"],
            OutputFormat::Svg => &["svg"],
            OutputFormat::Pdf => &["pdf"],
            OutputFormat::Xlsx => &["xlsx"],
            OutputFormat::Parquet => &["parquet"],
        }
    }

    /// Refuses a file name whose extension does not match (standard output and devices
    /// are exempt).
    pub fn check(self, path: &Path) -> Result<()> {
        if path == Path::new("-") || is_special(path) {
            return Ok(());
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let allowed = self.extensions();
        if allowed.contains(&ext.as_str()) {
            return Ok(());
        }
        let list = allowed
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(" or ");
        Err(Error::input(
            format!(
                "{}: this output is {:?}; name the file {list}",
                path.display(),
                self
            ),
            format!(
                "{}：该输出为 {:?} 格式，文件名须以 {list} 结尾",
                path.display(),
                self
            ),
        ))
    }
}

/// A device, FIFO or socket (written directly, never replaced).
fn is_special(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Follows symlinks (also dangling ones) to the path they name, at most 40 deep.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p)?;
                p = if to.is_absolute() {
                    to
                } else {
                    p.parent().unwrap_or(Path::new("")).join(to)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Writes bytes to `path` so that the user's file is either the old or the new state:
/// see the module doc for symlinks, devices, `-`, permissions and hard links.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, &mut |w| w.write_all(bytes))
}

/// [`write_atomic`] for output produced piece by piece: `fill` writes into a buffered
/// stream (the temporary, a device or standard output), so a large export never exists
/// whole in memory. The same guarantees hold: the target is the old or the new state.
pub fn write_atomic_with(
    path: &Path,
    fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let stream = |w: &mut dyn Write,
                  fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>| {
        let mut b = std::io::BufWriter::with_capacity(1 << 16, w);
        fill(&mut b)?;
        b.flush()
    };
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return stream(&mut out, fill).map_err(|e| Error::io("-", e));
    }
    // Errors name the file the user asked for, not the link target or our temporary.
    let target = resolve_links(path).map_err(|e| Error::io(path, e))?;
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a folder, not a file"),
        )),
        Ok(m) if !m.is_file() => {
            // A device or FIFO: written as it is; renaming over it would replace it.
            let mut f = fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(|e| Error::io(path, e))?;
            stream(&mut f, fill).map_err(|e| Error::io(path, e))
        }
        Ok(m) => {
            replace(&target, &mut |w| stream(w, fill), Some(m)).map_err(|e| Error::io(path, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            replace(&target, &mut |w| stream(w, fill), None).map_err(|e| Error::io(path, e))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Our temporary for `target`: hidden, beside it (same file system, so the rename is
/// atomic), named after it and this process.
fn temp_for(target: &Path) -> PathBuf {
    let dir = folder_of(target);
    dir.join(format!(
        ".{}.tmp-{}",
        display_name(target),
        std::process::id()
    ))
}

fn folder_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes a regular file: temporary, fsync, then a rename over the target (keeping its
/// permissions) — or, when the target has other hard links, a copy into it from the
/// synced temporary, which stays until the copy is complete.
fn replace(
    target: &Path,
    fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    existing: Option<fs::Metadata>,
) -> std::io::Result<()> {
    clean_stale_temps(target);
    let tmp = temp_for(target);
    let mut write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        if let Some(m) = &existing {
            f.set_permissions(m.permissions())?;
        }
        fill(&mut f)?;
        f.sync_all()?;
        drop(f);
        if existing.as_ref().is_some_and(has_other_links) {
            let mut t = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(target)?;
            std::io::copy(&mut fs::File::open(&tmp)?, &mut t)?;
            t.sync_all()?;
            fs::remove_file(&tmp)
        } else {
            fs::rename(&tmp, target)?;
            sync_folder(target);
            Ok(())
        }
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(unix)]
fn has_other_links(m: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    m.nlink() > 1
}

#[cfg(not(unix))]
fn has_other_links(_: &fs::Metadata) -> bool {
    false
}

/// Makes the rename durable (the folder entry), where the platform allows it.
fn sync_folder(target: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(folder_of(target)) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = target;
}

/// Removes `.NAME.tmp-PID` temporaries of `target` whose process is gone (a run killed
/// between writing and renaming).
fn clean_stale_temps(target: &Path) {
    let prefix = format!(".{}.tmp-", display_name(target));
    let Ok(entries) = fs::read_dir(folder_of(target)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && is_stale(&e.path(), pid) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// A temporary is stale when its process is gone.
#[cfg(target_os = "linux")]
fn is_stale(_tmp: &Path, pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// Without /proc, a temporary is stale once it is an hour old (no write takes that long).
#[cfg(not(target_os = "linux"))]
fn is_stale(tmp: &Path, _pid: u32) -> bool {
    fs::metadata(tmp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 3600)
}
