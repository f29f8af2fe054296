//! Uncovered demand for exports: per unit and on a grid by default, every point on request.
//!
//! A province has around a million demand points and most rules leave a good share of them
//! out of reach: listing each one made a 213 MB JSON for 1M points. What a planner reads is
//! where and how many — per unit, and on a regular grid that does not follow unit borders —
//! so those are the default; `--uncovered points` still lists every point.

use std::collections::{BTreeMap, HashMap};
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
#[derive(Clone, Debug, Default)]
pub struct Aggregates {
    pub by_unit: Vec<UnitGap>,
    pub cells: Vec<GridCell>,
    pub cell_m: f64,
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

/// Sums the report's uncovered points per (rule, unit) and per (rule, cell of `cell_m`
/// metres). Sorted by rule, then unit code / cell, so the output is the same run to run.
pub fn aggregate(report: &Report, ds: &Dataset, cell_m: f64) -> Aggregates {
    let cell_m = if cell_m.is_finite() && cell_m > 0.0 {
        cell_m
    } else {
        1000.0
    };
    let mut units: BTreeMap<(Arc<str>, Arc<str>), (u32, f64)> = BTreeMap::new();
    let mut cells: BTreeMap<(Arc<str>, i64, i64), (u32, f64)> = BTreeMap::new();
    for p in &report.uncovered {
        let e = units
            .entry((p.rule.clone(), p.unit_code.clone()))
            .or_default();
        e.0 += 1;
        e.1 += p.people;
        let (x, y) = ds.projection.forward(p.lon, p.lat);
        let key = (
            p.rule.clone(),
            (x / cell_m).floor() as i64,
            (y / cell_m).floor() as i64,
        );
        let e = cells.entry(key).or_default();
        e.0 += 1;
        e.1 += p.people;
    }
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
                "unit {} {}: {:.2} km² is smaller than one {} m grid cell; its uncovered people share cells with neighbours (its own figure is in uncovered_by_unit)",
                u.code,
                u.name,
                area / 1e6,
                cell_m
            ));
        }
    }
    Aggregates {
        by_unit,
        cells,
        cell_m,
        warnings,
    }
}
