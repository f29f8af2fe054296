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

/// The uncovered points' (rule, unit) and (rule, cell) sums, keys in order. Keyed on every
/// core, then grouped by a stable sort, so each group is summed in the points' own order:
/// the same figures to the bit as one pass over the points (a province has millions).
#[allow(clippy::type_complexity)]
fn group(
    report: &Report,
    cell_m: f64,
) -> (
    Vec<((Arc<str>, Arc<str>), (u32, f64))>,
    Vec<((Arc<str>, i64, i64), (u32, f64))>,
) {
    use rayon::prelude::*;
    use std::collections::BTreeSet;
    let pts = &report.uncovered;
    // Rule names and unit codes numbered in their string order, so integer keys sort as
    // the strings would.
    let distinct = |f: fn(&crate::coverage::analysis::UncoveredPoint) -> &Arc<str>| {
        let set: BTreeSet<&Arc<str>> = pts
            .par_iter()
            .fold(BTreeSet::new, |mut s, p| {
                s.insert(f(p));
                s
            })
            .reduce(BTreeSet::new, |mut a, b| {
                a.extend(b);
                a
            });
        let list: Vec<Arc<str>> = set.into_iter().cloned().collect();
        let ids: HashMap<Arc<str>, u32> = list
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        (list, ids)
    };
    let (rules, rule_id) = distinct(|p| &p.rule);
    let (codes, code_id) = distinct(|p| &p.unit_code);
    let keys: Vec<(u32, u32, i64, i64)> = pts
        .par_iter()
        .map(|p| {
            let (x, y) = (p.x, p.y);
            (
                rule_id[&p.rule],
                code_id[&p.unit_code],
                (x / cell_m).floor() as i64,
                (y / cell_m).floor() as i64,
            )
        })
        .collect();
    let sums = |order: &[u32], same: &dyn Fn(usize, usize) -> bool| {
        let mut out: Vec<(usize, (u32, f64))> = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let first = order[start] as usize;
            let (mut n, mut people) = (0u32, 0.0f64);
            let mut end = start;
            while end < order.len() && same(first, order[end] as usize) {
                n += 1;
                people += pts[order[end] as usize].people;
                end += 1;
            }
            out.push((first, (n, people)));
            start = end;
        }
        out
    };
    let mut order: Vec<u32> = (0..pts.len() as u32).collect();
    // `par_sort_by_key` is stable: equal keys keep the points' order.
    order.par_sort_by_key(|&i| (keys[i as usize].0, keys[i as usize].1));
    let units = sums(&order, &|a, b| {
        keys[a].0 == keys[b].0 && keys[a].1 == keys[b].1
    })
    .into_iter()
    .map(|(i, v)| {
        let k = keys[i];
        (
            (rules[k.0 as usize].clone(), codes[k.1 as usize].clone()),
            v,
        )
    })
    .collect();
    // From the points' order again, so each cell sums in that order too.
    let mut order: Vec<u32> = (0..pts.len() as u32).collect();
    order.par_sort_by_key(|&i| (keys[i as usize].0, keys[i as usize].2, keys[i as usize].3));
    let cells = sums(&order, &|a, b| {
        (keys[a].0, keys[a].2, keys[a].3) == (keys[b].0, keys[b].2, keys[b].3)
    })
    .into_iter()
    .map(|(i, v)| {
        let k = keys[i];
        ((rules[k.0 as usize].clone(), k.2, k.3), v)
    })
    .collect();
    (units, cells)
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
