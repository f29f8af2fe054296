//! Uncovered demand for exports: per unit and on a grid by default, every point on request.
//!
//! A province has around a million demand points and most rules leave a good share of them
//! out of reach: listing each one made a 213 MB JSON for 1M points. What a planner reads is
//! where and how many — per unit, and on a regular grid that does not follow unit borders —
//! so those are the default; `--uncovered points` still lists every point.

use std::collections::HashMap;
use std::sync::Arc;

use geo::Area;
use serde::Serialize;

use crate::coverage::analysis::Report;
use crate::model::Dataset;

/// How uncovered demand appears in an export.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UncoveredExport {
    /// Every uncovered point too (large at province scale).
    pub points: bool,
    /// The grid's cell size in metres, on the dataset's local projection.
    pub cell_m: f64,
}

impl Default for UncoveredExport {
    fn default() -> Self {
        UncoveredExport {
            points: false,
            cell_m: 1000.0,
        }
    }
}

impl UncoveredExport {
    /// Aggregates and every point: what the library's small-data callers (tests, the app's
    /// exports of one city) want.
    pub fn all_points() -> Self {
        UncoveredExport {
            points: true,
            ..Default::default()
        }
    }
}

/// One unit's uncovered demand under one rule.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UnitGap {
    pub rule: Arc<str>,
    pub unit_code: Arc<str>,
    pub unit_name: String,
    pub level: String,
    pub points: u32,
    pub people: f64,
}

/// One grid cell's uncovered demand under one rule: `ix`, `iy` count cells from the local
/// projection's origin; `lon`, `lat` is the cell's centre (WGS84).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GridCell {
    pub rule: Arc<str>,
    pub ix: i64,
    pub iy: i64,
    pub lon: f64,
    pub lat: f64,
    pub points: u32,
    pub people: f64,
}

/// Uncovered demand summed per unit and per grid cell, with the grid's caveats.
#[derive(Clone, Debug)]
pub struct Aggregates {
    pub by_unit: Vec<UnitGap>,
    pub cells: Vec<GridCell>,
    pub cell_m: f64,
    /// The dataset's projection: cells and points are in its metres, outputs in WGS84.
    pub projection: crate::geom::LocalProjection,
    /// Units smaller than one cell that have uncovered demand: their people share a cell
    /// with neighbours, so the grid cannot show them apart (their own figure is in
    /// `by_unit`). One line per unit.
    pub warnings: Vec<String>,
}

impl Aggregates {
    /// The cell's corners (WGS84, closed ring) for a polygon in GeoJSON/GeoPackage.
    pub fn ring(&self, ds: &Dataset, c: &GridCell) -> Vec<[f64; 2]> {
        let s = self.cell_m;
        let (x0, y0) = (c.ix as f64 * s, c.iy as f64 * s);
        [
            (x0, y0),
            (x0 + s, y0),
            (x0 + s, y0 + s),
            (x0, y0 + s),
            (x0, y0),
        ]
        .iter()
        .map(|&(x, y)| {
            let (lon, lat) = ds.projection.inverse(x, y);
            [lon, lat]
        })
        .collect()
    }
}

/// The uncovered points' (rule, unit) and (rule, cell) sums, keys in order (rules and
/// unit codes as strings). One pass over the points in their order adds each point to its
/// groups, so every group sums in the points' own order: the same figures to the bit as
/// any one-pass sum. A province has millions of points, but a rule's points come unit by
/// unit and mostly cell by cell, so the pass looks a group up only when the key changes.
#[allow(clippy::type_complexity)]
fn group(
    report: &Report,
    cell_m: f64,
) -> (
    Vec<((Arc<str>, Arc<str>), (u32, f64))>,
    Vec<((Arc<str>, i64, i64), (u32, f64))>,
) {
    let pts = &report.uncovered;
    // Rule names and unit codes numbered in their string order (one shared string stands
    // for many points: found by address, ranked by text).
    let rank = |f: fn(&crate::coverage::analysis::UncoveredPoint) -> &Arc<str>| {
        let mut by_ptr: HashMap<*const u8, &Arc<str>> = HashMap::new();
        let mut last: *const u8 = std::ptr::null();
        for p in pts {
            let a = f(p);
            let ptr = a.as_ptr();
            if ptr != last {
                by_ptr.entry(ptr).or_insert(a);
                last = ptr;
            }
        }
        let mut texts: Vec<&Arc<str>> = by_ptr.values().copied().collect();
        texts.sort_unstable();
        texts.dedup_by(|a, b| a == b);
        let list: Vec<Arc<str>> = texts.into_iter().cloned().collect();
        let of_ptr: HashMap<*const u8, u32> = by_ptr
            .into_iter()
            .map(|(ptr, a)| {
                let i = list.binary_search(a).expect("listed above");
                (ptr, i as u32)
            })
            .collect();
        (list, of_ptr)
    };
    let (rules, rule_of) = rank(|p| &p.rule);
    let (codes, code_of) = rank(|p| &p.unit_code);
    let (mut by_unit, mut by_cell) = (Sums::default(), Sums::default());
    let (mut last_rule, mut last_code) = ((std::ptr::null(), 0u32), (std::ptr::null(), 0u32));
    for p in pts {
        let (rp, cp) = (p.rule.as_ptr(), p.unit_code.as_ptr());
        if rp != last_rule.0 {
            last_rule = (rp, rule_of[&rp]);
        }
        if cp != last_code.0 {
            last_code = (cp, code_of[&cp]);
        }
        let (ix, iy) = ((p.x / cell_m).floor() as i64, (p.y / cell_m).floor() as i64);
        by_unit.add((last_rule.1, last_code.1), p.people);
        by_cell.add((last_rule.1, ix, iy), p.people);
    }
    let (unit_groups, cell_groups) = (by_unit.sorted(), by_cell.sorted());
    let units = unit_groups
        .into_iter()
        .map(|((r, c), v)| ((rules[r as usize].clone(), codes[c as usize].clone()), v))
        .collect();
    let cells = cell_groups
        .into_iter()
        .map(|((r, ix, iy), v)| ((rules[r as usize].clone(), ix, iy), v))
        .collect();
    (units, cells)
}

/// Points and people per key, summed in arrival order; the last key's slot is kept, as
/// points come in runs of one key.
struct Sums<K> {
    list: Vec<(K, (u32, f64))>,
    at: HashMap<K, usize>,
    last: Option<(K, usize)>,
}

impl<K> Default for Sums<K> {
    fn default() -> Self {
        Sums {
            list: Vec::new(),
            at: HashMap::new(),
            last: None,
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash + Ord> Sums<K> {
    fn add(&mut self, key: K, people: f64) {
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.list.len();
                let i = *self.at.entry(key).or_insert(next);
                if i == next {
                    self.list.push((key, (0, 0.0)));
                }
                i
            }
        };
        self.last = Some((key, i));
        let g = &mut self.list[i].1;
        g.0 += 1;
        g.1 += people;
    }

    /// The sums by key.
    fn sorted(mut self) -> Vec<(K, (u32, f64))> {
        self.list.sort_unstable_by_key(|g| g.0);
        self.list
    }
}

/// Sums the report's uncovered points per (rule, unit) and per (rule, cell of `cell_m`
/// metres). Sorted by rule, then unit code / cell, so the output is the same run to run.
pub fn aggregate(report: &Report, ds: &Dataset, cell_m: f64) -> Aggregates {
    let cell_m = if cell_m.is_finite() && cell_m > 0.0 {
        cell_m
    } else {
        1000.0
    };
    let (units, cells) = group(report, cell_m);
    let info: HashMap<&str, (&str, &str)> = report
        .units
        .iter()
        .map(|u| (u.code.as_str(), (u.name.as_str(), u.level.key())))
        .collect();
    let by_unit: Vec<UnitGap> = units
        .into_iter()
        .map(|((rule, code), (points, people))| {
            let (name, level) = info.get(&*code).copied().unwrap_or(("", ""));
            UnitGap {
                rule,
                unit_code: code,
                unit_name: name.to_string(),
                level: level.to_string(),
                points,
                people,
            }
        })
        .collect();
    let cells: Vec<GridCell> = cells
        .into_iter()
        .map(|((rule, ix, iy), (points, people))| {
            let (lon, lat) = ds
                .projection
                .inverse((ix as f64 + 0.5) * cell_m, (iy as f64 + 0.5) * cell_m);
            GridCell {
                rule,
                ix,
                iy,
                lon,
                lat,
                points,
                people,
            }
        })
        .collect();
    // Units with uncovered people that a cell is larger than.
    let cell_area = cell_m * cell_m;
    let mut seen = std::collections::BTreeSet::new();
    let by_code: HashMap<&str, &crate::model::Unit> =
        ds.units.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut warnings = Vec::new();
    for g in &by_unit {
        if !seen.insert(g.unit_code.clone()) {
            continue;
        }
        let Some(u) = by_code.get(&*g.unit_code) else {
            continue;
        };
        let Some(area) = u.geometry.as_ref().map(|m| m.unsigned_area()) else {
            continue;
        };
        if area < cell_area {
            warnings.push(format!(
                "unit {} {}: {:.2} km² is smaller than one {} m grid cell; its uncovered people share cells with neighbours (its own figure is in uncovered_by_unit; in GeoParquet, unit_rules)",
                u.code,
                u.name,
                area / 1e6,
                cell_m
            ));
        }
    }
    Aggregates {
        projection: ds.projection,
        by_unit,
        cells,
        cell_m,
        warnings,
    }
}
