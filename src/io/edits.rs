//! The edit log: field edits kept beside the data, one JSON line per step, appended and
//! flushed to disk before the edit shows, so a crash loses at most the edit in progress.
//! And the edited facilities as features, with every source attribute kept.
//!
//! The first line names the dataset; a log from another dataset is refused by name. A torn
//! last line (the process died while writing it) is dropped and said; the source files are
//! never written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::edits::{key_of, EditHistory, FacilityRecord, HistoryStep};
use crate::model::{Dataset, Facility, Said};

use super::fields::default_names;

/// The log's first line.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    carecircle_edits: u32,
    dataset: String,
    source: String,
    created: String,
}

/// Where a dataset's edits are kept, and why there when not beside the data.
#[derive(Clone, Debug, PartialEq)]
pub struct LogPlace {
    pub path: PathBuf,
    /// Set when the data's folder cannot be written (read-only media, a network share
    /// without rights): the folder that was refused; the log then lives in the user's data
    /// directory.
    pub moved_from: Option<PathBuf>,
}

/// The folder a dataset lives in (a data folder itself, a manifest's or a file's parent).
pub fn data_folder(ds: &Dataset) -> PathBuf {
    if ds.source.is_dir() {
        ds.source.clone()
    } else {
        ds.source
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// `<data folder>/<dataset>.edits.jsonl`, or in the user's data directory when that folder
/// cannot be written.
pub fn log_place(ds: &Dataset) -> LogPlace {
    let folder = data_folder(ds);
    let file = format!("{}.edits.jsonl", safe_name(&ds.name));
    let beside = folder.join(&file);
    if beside.exists() || crate::files::can_write_in(&folder) {
        return LogPlace {
            path: beside,
            moved_from: None,
        };
    }
    // One log per source folder, even for two datasets of the same name.
    let abs = std::fs::canonicalize(&folder).unwrap_or_else(|_| folder.clone());
    let tag = crate::files::short_hash(abs.to_string_lossy().as_bytes());
    LogPlace {
        path: crate::files::user_data_dir()
            .join("edits")
            .join(format!("{}-{tag}.edits.jsonl", safe_name(&ds.name))),
        moved_from: Some(folder),
    }
}

fn safe_name(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() {
        "dataset".into()
    } else {
        t
    }
}

/// An open edit log: every step is appended and synced before `record` returns. The file
/// is made at the first edit, so viewing data leaves nothing behind.
#[derive(Debug)]
pub struct EditLog {
    path: PathBuf,
    file: Option<File>,
    header: String,
}

/// What opening a log found.
#[derive(Debug)]
pub struct Opened {
    pub log: EditLog,
    /// The history the log replays to (empty for a new log).
    pub history: EditHistory,
    /// Lines dropped (torn or unreadable), said.
    pub notes: Vec<Said>,
}

impl EditLog {
    /// Opens (or creates) the log at `path` for `ds` and replays it. A log of another
    /// dataset is an error naming both; a torn last line is cut off and said.
    pub fn open(path: &Path, ds: &Dataset) -> Result<Opened> {
        let mut notes = Vec::new();
        let mut history = EditHistory::default();
        let existing = match std::fs::symlink_metadata(path) {
            Ok(m) if !m.is_file() => {
                return Err(Error::format_zh(
                    path,
                    "the edit log is not a regular file",
                    "编辑日志不是普通文件",
                ))
            }
            Ok(_) => Some(crate::files::read_input(path)?),
            Err(_) => None,
        };
        let mut keep_len = None;
        if let Some(bytes) = &existing {
            // A last line without its newline was being written when the process died.
            let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            if complete < bytes.len() {
                notes.push(Said::new(
                    "the last edit was being saved when the app stopped; it is dropped",
                    "上次退出时最后一项编辑正在保存，已舍弃",
                ));
                keep_len = Some(complete as u64);
            }
            let text = String::from_utf8_lossy(&bytes[..complete]);
            let mut lines = text.lines().enumerate();
            match lines.next() {
                Some((_, first)) => {
                    let header: Header = serde_json::from_str(first).map_err(|e| {
                        Error::format_zh(
                            path,
                            format!("not a CareCircle edit log (line 1: {e})"),
                            format!("不是 CareCircle 编辑日志（第 1 行：{e}）"),
                        )
                    })?;
                    if header.dataset != ds.name {
                        return Err(Error::input(
                            format!(
                                "{}: this edit log belongs to dataset '{}' ({}), not to '{}'",
                                path.display(),
                                header.dataset,
                                header.source,
                                ds.name
                            ),
                            format!(
                                "{}：该编辑日志属于数据集“{}”（{}），不是“{}”",
                                path.display(),
                                header.dataset,
                                header.source,
                                ds.name
                            ),
                        ));
                    }
                }
                None => keep_len = Some(0),
            }
            for (i, line) in lines {
                match serde_json::from_str::<HistoryStep>(line) {
                    Ok(s) => {
                        history.step(s);
                    }
                    Err(e) => notes.push(Said::new(
                        format!(
                            "line {} of the edit log is unreadable and skipped: {e}",
                            i + 1
                        ),
                        format!("编辑日志第 {} 行无法读取，已跳过：{e}", i + 1),
                    )),
                }
            }
        }
        let header = serde_json::to_string(&Header {
            carecircle_edits: 1,
            dataset: ds.name.clone(),
            source: ds.source.display().to_string(),
            created: crate::model::edits::utc_now(),
        })
        .expect("header serialises");
        let mut log = EditLog {
            path: path.to_owned(),
            file: None,
            header,
        };
        if existing.is_some() {
            let file = log.open_file()?;
            if let Some(len) = keep_len {
                file.set_len(len).map_err(|e| Error::io(path, e))?;
            }
            if keep_len == Some(0) {
                let h = log.header.clone();
                log.append(&h)?;
            }
        }
        Ok(Opened {
            log,
            history,
            notes,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one step and syncs it to disk.
    pub fn record(&mut self, step: &HistoryStep) -> Result<()> {
        let line =
            serde_json::to_string(step).map_err(|e| Error::format(&self.path, e.to_string()))?;
        self.append(&line)
    }

    fn open_file(&mut self) -> Result<&mut File> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let new = !self.path.exists();
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| Error::io(&self.path, e))?;
            self.file = Some(f);
            if new {
                let h = self.header.clone();
                self.append(&h)?;
            }
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn append(&mut self, line: &str) -> Result<()> {
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let path = self.path.clone();
        let file = self.open_file()?;
        // One write of the whole line: O_APPEND keeps it in one piece at the end.
        file.write_all(&buf)
            .and_then(|_| file.sync_data())
            .map_err(|e| Error::io(&path, e))
    }

    /// Sets the log aside (renamed with the time, never deleted) and starts an empty one:
    /// "discard" in the app, so nothing the user made is lost even then.
    pub fn set_aside(self, ds: &Dataset) -> Result<(PathBuf, EditLog)> {
        let stamp = crate::model::edits::utc_now().replace([':', '-'], "");
        let aside = self.path.with_extension(format!("discarded-{stamp}.jsonl"));
        let path = self.path.clone();
        drop(self.file);
        if path.exists() {
            std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
        }
        let opened = EditLog::open(&path, ds)?;
        Ok((aside, opened.log))
    }
}

/// The edited facilities of `ds` as GeoJSON features (WGS84), every source attribute kept.
/// A field the edits changed is written into the column the source used for it (名称,
/// 床位 …), so the exported file reads like the source with today's values; new facilities
/// use our column names. `base` is the data as loaded.
pub fn facility_features(ds: &Dataset, base: &Dataset) -> Vec<Value> {
    let before: std::collections::HashMap<_, _> = base
        .facilities
        .iter()
        .map(|f| (key_of(base, f), f))
        .collect();
    ds.facilities
        .iter()
        .map(|f| {
            let old = before.get(&key_of(ds, f)).copied();
            let props = facility_properties(ds, base, f, old);
            let geometry = f.location.map(|p| {
                let (lon, lat) = ds.projection.inverse(p.x(), p.y());
                serde_json::json!({"type": "Point", "coordinates": [lon, lat]})
            });
            serde_json::json!({"type": "Feature", "geometry": geometry, "properties": props})
        })
        .collect()
}

fn facility_properties(
    ds: &Dataset,
    base: &Dataset,
    f: &Facility,
    old: Option<&Facility>,
) -> Map<String, Value> {
    let mut props = f.attributes.clone();
    let now = FacilityRecord::of(f, ds);
    let then = old.map(|o| FacilityRecord::of(o, base));
    let changed = |pick: &dyn Fn(&FacilityRecord) -> Value| {
        then.as_ref().is_none_or(|t| pick(t) != pick(&now))
    };
    // The column the source used for a field, else ours.
    let column = |props: &Map<String, Value>, fields: &[&str], ours: &str| -> String {
        fields
            .iter()
            .flat_map(|f| default_names(f).iter())
            .find(|c| props.contains_key(**c))
            .map(|c| (*c).to_owned())
            .unwrap_or_else(|| ours.to_owned())
    };
    let chinese = |props: &Map<String, Value>, col: &str| {
        props
            .get(col)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_ascii())
    };
    if old.is_none() {
        let c = column(&props, &["id"], "id");
        props.insert(c, Value::String(f.source_id.clone()));
    }
    if changed(&|r| Value::String(r.name.clone())) {
        let c = column(&props, &["name"], "name");
        props.insert(c, Value::String(f.name.clone()));
    }
    if changed(&|r| Value::String(r.kind.key().into())) {
        let c = column(&props, &["kind"], "kind");
        let v = if chinese(&props, &c) {
            f.kind.zh()
        } else {
            f.kind.key()
        };
        props.insert(c, Value::String(v.into()));
    }
    if changed(&|r| r.capacity.map_or(Value::Null, Value::from)) {
        let fields: &[&str] = if f.kind.is_childcare() {
            &["nursery_places", "capacity", "beds"]
        } else {
            &["beds", "capacity", "nursery_places"]
        };
        let c = column(&props, fields, "capacity");
        props.insert(c, f.capacity.map_or(Value::Null, Value::from));
    }
    if changed(&|r| r.nursing_beds.map_or(Value::Null, Value::from)) {
        let c = column(&props, &["nursing_beds"], "nursing_beds");
        props.insert(c, f.nursing_beds.map_or(Value::Null, Value::from));
    }
    if changed(&|r| Value::String(r.status.key().into())) {
        let c = column(&props, &["status"], "status");
        let v = if chinese(&props, &c) {
            status_zh(f.status)
        } else {
            f.status.key()
        };
        props.insert(c, Value::String(v.into()));
    }
    if changed(&|r| r.year.map_or(Value::Null, Value::from)) {
        let c = column(&props, &["year"], "year");
        props.insert(c, f.year.map_or(Value::Null, Value::from));
    }
    for q in crate::model::Qualifier::ALL {
        if changed(&|r| r.qualifiers.get(q).map_or(Value::Null, Value::Bool)) {
            let c = column(&props, &[q.key()], q.key());
            let v = f.qualifiers.get(q);
            let v = if chinese(&props, &c) {
                v.map_or(Value::Null, |b| {
                    Value::String(if b { "是" } else { "否" }.into())
                })
            } else {
                v.map_or(Value::Null, Value::Bool)
            };
            props.insert(c, v);
        }
    }
    if changed(&|r| r.qualifiers.grade.map_or(Value::Null, Value::from)) {
        let c = column(&props, &["grade"], "grade");
        props.insert(c, f.qualifiers.grade.map_or(Value::Null, Value::from));
    }
    props
}

fn status_zh(s: crate::model::FacilityStatus) -> &'static str {
    use crate::model::FacilityStatus::*;
    match s {
        Existing => "现状",
        Planned => "规划",
        Proposed => "建议",
        Closed => "关闭",
    }
}

/// Writes the edited facilities to `out`: GeoJSON, GeoPackage (table `facilities`), Excel
/// or CSV (lon/lat columns first, then every attribute), by extension. Atomic: the file is
/// the old or the new state, never half of each.
pub fn write_facilities(out: &Path, ds: &Dataset, base: &Dataset) -> Result<()> {
    let features = facility_features(ds, base);
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "gpkg" => super::gpkg::write(
            out,
            &[super::gpkg::OutTable {
                name: "facilities",
                features: &features,
            }],
        ),
        "xlsx" => super::write::write_atomic(out, &xlsx_bytes(out, &features)?),
        "csv" => {
            let (headers, rows) = table_rows(&features);
            let mut w = ::csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            for r in std::iter::once(headers).chain(rows) {
                w.write_record(&r)
                    .map_err(|e| Error::format(out, e.to_string()))?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| Error::format(out, e.to_string()))?;
            super::write::write_atomic(out, &bytes)
        }
        _ => {
            let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
            super::geojson::write_collection_value(out, &fc, false)
        }
    }
}

/// Point features as a table: `lon`, `lat`, then every property in order of first use.
fn table_rows(features: &[Value]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut keys: Vec<String> = Vec::new();
    for f in features {
        if let Some(p) = f["properties"].as_object() {
            for k in p.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    let headers = ["lon", "lat"]
        .into_iter()
        .map(String::from)
        .chain(keys.iter().cloned())
        .collect();
    let rows = features
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            let num = |v: &Value| v.as_f64().map(|x| format!("{x:.7}")).unwrap_or_default();
            [num(&c[0]), num(&c[1])]
                .into_iter()
                .chain(keys.iter().map(|k| {
                    let v = &f["properties"][k.as_str()];
                    if v.is_null() {
                        String::new()
                    } else {
                        super::fields::value_text(v)
                    }
                }))
                .collect()
        })
        .collect();
    (headers, rows)
}

fn xlsx_bytes(out: &Path, features: &[Value]) -> Result<Vec<u8>> {
    let err = |e: rust_xlsxwriter::XlsxError| Error::format(out, e.to_string());
    let (headers, rows) = table_rows(features);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("facilities").map_err(err)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, h, &bold)
            .map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let (r, c) = (r as u32 + 1, c as u16);
            // Numbers stay numbers (a bureau sums beds), but codes with leading zeros and
            // ids stay text.
            let leading_zero = v.len() > 1 && v.starts_with('0') && !v.starts_with("0.");
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && !leading_zero => {
                    sheet.write_number(r, c, x).map_err(err)?
                }
                _ => sheet.write_string(r, c, v).map_err(err)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    book.save_to_buffer().map_err(err)
}
