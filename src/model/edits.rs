//! Field edits to facilities (add, move, change, close, delete, verify) and their history.
//!
//! Every edit holds the facility as it was and as it became, so undo is the same edit
//! reversed and a log of edits replays to the same state anywhere. Edits are applied to a
//! copy of the loaded dataset: the source files are never touched, and the loaded data is
//! the one fixed point every replay starts from.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    Dataset, Facility, FacilityId, FacilityKind, FacilityStatus, LayerId, LayerRole, Qualifiers,
    UnitRef,
};
use crate::texts::Said;

/// Which facility an edit is about: its layer's name and its id in that layer's source.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct FacilityKey {
    pub layer: String,
    pub source_id: String,
}

impl FacilityKey {
    /// Whether `f` of `ds` is the facility this key names (no allocation: the map asks
    /// this of every facility in a frame).
    pub fn matches(&self, ds: &Dataset, f: &Facility) -> bool {
        f.source_id == self.source_id && layer_name(ds, f.layer) == self.layer
    }
}

impl std::fmt::Display for FacilityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.layer, self.source_id)
    }
}

/// What a surveyor stamps on a facility they saw: when, who, and a note.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// YYYY-MM-DD.
    pub date: String,
    pub by: String,
    #[serde(default)]
    pub note: String,
}

/// The attribute names a verification stamp is kept under, so exports carry it as columns.
pub const VERIFIED_ON: &str = "verified_on";
pub const VERIFIED_BY: &str = "verified_by";
pub const VERIFIED_NOTE: &str = "verified_note";

/// A facility's editable state, as an edit records it. Location in local metres (exact on
/// replay in the same dataset) with WGS84 beside it for people reading the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FacilityRecord {
    pub name: String,
    pub kind: FacilityKind,
    pub capacity: Option<f64>,
    #[serde(default)]
    pub nursing_beds: Option<f64>,
    pub status: FacilityStatus,
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub qualifiers: Qualifiers,
    #[serde(default)]
    pub renovation: bool,
    /// Local metres of the dataset's projection.
    pub location: Option<[f64; 2]>,
    /// WGS84 lon/lat of `location` (informative; `location` is what replays).
    #[serde(default)]
    pub lonlat: Option<[f64; 2]>,
    /// Every attribute the source had (unknown columns included), plus the stamp.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl FacilityRecord {
    pub fn of(f: &Facility, ds: &Dataset) -> Self {
        let location = f.location.map(|p| [p.x(), p.y()]);
        FacilityRecord {
            name: f.name.clone(),
            kind: f.kind,
            capacity: f.capacity,
            nursing_beds: f.nursing_beds,
            status: f.status,
            year: f.year,
            qualifiers: f.qualifiers,
            renovation: f.renovation,
            location,
            lonlat: location.map(|[x, y]| {
                let (lon, lat) = ds.projection.inverse(x, y);
                [lon, lat]
            }),
            attributes: f.attributes.clone(),
        }
    }

    /// The verification stamp, if the facility carries one.
    pub fn verification(&self) -> Option<Verification> {
        let text = |k: &str| {
            self.attributes
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(Verification {
            date: text(VERIFIED_ON)?,
            by: text(VERIFIED_BY).unwrap_or_default(),
            note: text(VERIFIED_NOTE).unwrap_or_default(),
        })
    }

    pub fn set_verification(&mut self, v: &Verification) {
        self.attributes
            .insert(VERIFIED_ON.into(), Value::String(v.date.clone()));
        self.attributes
            .insert(VERIFIED_BY.into(), Value::String(v.by.clone()));
        self.attributes
            .insert(VERIFIED_NOTE.into(), Value::String(v.note.clone()));
    }

    fn write_into(&self, f: &mut Facility) {
        let moved = f.location.map(|p| [p.x(), p.y()]) != self.location;
        f.name = self.name.clone();
        f.kind = self.kind;
        if f.capacity != self.capacity {
            // A figure the surveyor entered is reported, not estimated.
            f.capacity_estimated = false;
        }
        f.capacity = self.capacity;
        f.nursing_beds = self.nursing_beds;
        f.status = self.status;
        f.year = self.year;
        f.qualifiers = self.qualifiers;
        f.renovation = self.renovation;
        f.location = self.location.map(|[x, y]| geo::Point::new(x, y));
        if moved {
            // The point decides the unit now; a stale join by name must not.
            f.unit = None;
            f.unit_join = None;
        }
        f.attributes = self.attributes.clone();
    }
}

/// What an edit did, for the history list and the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditKind {
    Add,
    Move,
    Change,
    Close,
    Delete,
    Verify,
}

impl EditKind {
    pub fn zh(self) -> &'static str {
        match self {
            EditKind::Add => "新增",
            EditKind::Move => "移动",
            EditKind::Change => "修改",
            EditKind::Close => "标记关闭",
            EditKind::Delete => "删除",
            EditKind::Verify => "核实",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            EditKind::Add => "add",
            EditKind::Move => "move",
            EditKind::Change => "change",
            EditKind::Close => "mark closed",
            EditKind::Delete => "delete",
            EditKind::Verify => "verify",
        }
    }
}

/// One edit: the facility before (`None` = it did not exist) and after (`None` = deleted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub kind: EditKind,
    pub key: FacilityKey,
    pub before: Option<FacilityRecord>,
    pub after: Option<FacilityRecord>,
    /// When it was made (UTC, ISO 8601).
    pub at: String,
}

impl Edit {
    /// An edit of facility `id` of `ds`: `change` turns its record into the new one.
    pub fn modify(
        ds: &Dataset,
        id: FacilityId,
        kind: EditKind,
        change: impl FnOnce(&mut FacilityRecord),
    ) -> Option<Edit> {
        let f = ds.facilities.get(id.index())?;
        let before = FacilityRecord::of(f, ds);
        let mut after = before.clone();
        change(&mut after);
        (after != before).then(|| Edit {
            kind,
            key: key_of(ds, f),
            before: Some(before),
            after: Some(after),
            at: utc_now(),
        })
    }

    /// Deleting facility `id` of `ds` (the record is kept, so undo brings it back whole).
    pub fn delete(ds: &Dataset, id: FacilityId) -> Option<Edit> {
        let f = ds.facilities.get(id.index())?;
        Some(Edit {
            kind: EditKind::Delete,
            key: key_of(ds, f),
            before: Some(FacilityRecord::of(f, ds)),
            after: None,
            at: utc_now(),
        })
    }

    /// A new facility in layer `layer` with an id no facility of that layer has.
    pub fn add(ds: &Dataset, layer: &str, record: FacilityRecord) -> Edit {
        let taken: std::collections::HashSet<&str> = ds
            .facilities
            .iter()
            .filter(|f| layer_name(ds, f.layer) == layer)
            .map(|f| f.source_id.as_str())
            .collect();
        let source_id = (1..)
            .map(|k| format!("edit-{k}"))
            .find(|s| !taken.contains(s.as_str()))
            .expect("an unused id exists");
        Edit {
            kind: EditKind::Add,
            key: FacilityKey {
                layer: layer.to_owned(),
                source_id,
            },
            before: None,
            after: Some(record),
            at: utc_now(),
        }
    }

    /// The same edit reversed: what undo applies.
    pub fn inverse(&self) -> Edit {
        Edit {
            kind: self.kind,
            key: self.key.clone(),
            before: self.after.clone(),
            after: self.before.clone(),
            at: self.at.clone(),
        }
    }
}

/// The edits made so far and those undone (for redo). A new edit drops the redo list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditHistory {
    pub done: Vec<Edit>,
    pub undone: Vec<Edit>,
}

/// One line of the history as the log records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum HistoryStep {
    Edit { edit: Box<Edit> },
    Undo,
    Redo,
}

impl EditHistory {
    /// Whether `s` would change the history (an edit always; undo/redo when there is one).
    pub fn can(&self, s: &HistoryStep) -> bool {
        match s {
            HistoryStep::Edit { .. } => true,
            HistoryStep::Undo => !self.done.is_empty(),
            HistoryStep::Redo => !self.undone.is_empty(),
        }
    }

    /// Applies one step; false when there was nothing to undo or redo.
    pub fn step(&mut self, s: HistoryStep) -> bool {
        match s {
            HistoryStep::Edit { edit } => {
                self.done.push(*edit);
                self.undone.clear();
                true
            }
            HistoryStep::Undo => match self.done.pop() {
                Some(e) => {
                    self.undone.push(e);
                    true
                }
                None => false,
            },
            HistoryStep::Redo => match self.undone.pop() {
                Some(e) => {
                    self.done.push(e);
                    true
                }
                None => false,
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.done.is_empty() && self.undone.is_empty()
    }
}

/// The name a facility's layer goes by in edit keys.
pub fn layer_name(ds: &Dataset, layer: LayerId) -> &str {
    ds.layers
        .iter()
        .find(|l| l.id == layer)
        .map(|l| l.name.as_str())
        .unwrap_or("")
}

pub fn key_of(ds: &Dataset, f: &Facility) -> FacilityKey {
    FacilityKey {
        layer: layer_name(ds, f.layer).to_owned(),
        source_id: f.source_id.clone(),
    }
}

/// The layer a new facility of `kind` joins: the layer holding most facilities of that
/// kind, else the first facilities layer (else a layer named "edits"), so an exported
/// layer keeps like with like.
pub fn add_layer(ds: &Dataset, kind: FacilityKind) -> String {
    let mut counts: std::collections::HashMap<LayerId, usize> = Default::default();
    for f in ds.facilities.iter().filter(|f| f.kind == kind) {
        *counts.entry(f.layer).or_default() += 1;
    }
    let most = counts
        .into_iter()
        .max_by_key(|(l, n)| (*n, std::cmp::Reverse(l.0)))
        .map(|(l, _)| l);
    ds.layers
        .iter()
        .find(|l| Some(l.id) == most)
        .or_else(|| ds.layers.iter().find(|l| l.role == LayerRole::Facilities))
        .map(|l| l.name.clone())
        .unwrap_or_else(|| "edits".into())
}

/// `base` with `edits` applied in order, facility ids renumbered to their positions.
/// An edit whose facility is not where it expects (the data changed since) is skipped and
/// said, never applied to another facility.
pub fn apply_edits(base: &Dataset, edits: &[Edit]) -> (Dataset, Vec<Said>) {
    let mut ds = base.clone();
    let mut notes = Vec::new();
    for e in edits {
        let at = ds.facilities.iter().position(|f| e.key.matches(&ds, f));
        match (at, &e.before, &e.after) {
            (None, None, Some(rec)) => {
                let layer = ds
                    .layers
                    .iter()
                    .find(|l| l.name == e.key.layer)
                    .map(|l| l.id)
                    .or_else(|| ds.layers.first().map(|l| l.id))
                    .unwrap_or(LayerId(0));
                let mut f = Facility {
                    id: FacilityId(ds.facilities.len() as u32),
                    source_id: e.key.source_id.clone(),
                    name: String::new(),
                    kind: rec.kind,
                    capacity: None,
                    capacity_estimated: false,
                    nursing_beds: None,
                    qualifiers: Qualifiers::default(),
                    renovation: false,
                    status: rec.status,
                    synthetic: false,
                    location: None,
                    unit_ref: UnitRef::default(),
                    unit: None,
                    unit_join: None,
                    year: None,
                    layer,
                    attributes: Map::new(),
                };
                rec.write_into(&mut f);
                ds.facilities.push(f);
            }
            (Some(i), Some(_), Some(rec)) => rec.write_into(&mut ds.facilities[i]),
            (Some(i), Some(_), None) => {
                ds.facilities.remove(i);
            }
            (found, _, _) => {
                let (zh, en) = if found.is_some() {
                    ("已有此编号的设施", "already has a facility with this id")
                } else {
                    ("找不到这个设施", "has no such facility")
                };
                notes.push(Said::new(
                    format!("{} of {} not applied: the data {en}", e.kind.en(), e.key),
                    format!("{} {} 未应用：数据中{zh}", e.kind.zh(), e.key),
                ))
            }
        }
    }
    for (i, f) in ds.facilities.iter_mut().enumerate() {
        f.id = FacilityId(i as u32);
    }
    (ds, notes)
}

/// Now (UTC) as `YYYY-MM-DDTHH:MM:SSZ`, from the system clock.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_date((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil-from-days).
pub fn civil_date(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(20_784), (2026, 11, 27));
        assert_eq!(civil_date(-1), (1969, 12, 31));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
    }
}
