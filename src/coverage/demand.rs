//! The demand model: unit population turned into weighted points where people live.
//!
//! Carriers, best first, per unit: the dataset's demand-point layer; residential building
//! footprints (weight = area × floors where tagged); residential landuse sampled on the grid;
//! a regular grid clipped to the unit. The unit's total, 60+ and 0–3 figures are then split
//! over its points in proportion to the weights, so the points of a unit always sum to the
//! unit's own figures. Age groups a unit lacks come from the shares of the nearest ancestor
//! (county/district census) that has them.

use geo::{Area, BoundingRect, Centroid, Coord, InteriorPoint, MultiPolygon, Point, Polygon};
use serde::Serialize;

use crate::coverage::rules::{AgeGroup, Settings};
use crate::model::{BuildingKind, Dataset, DemandId, PointId, UnitId};
use crate::progress::{check, Progress};
use crate::spatial::UnitIndex;
use crate::Result;

/// How a unit's people were placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandSource {
    Points,
    Buildings,
    Landuse,
    Grid,
    /// The unit is smaller than one grid cell: one point inside it.
    InteriorPoint,
    /// The unit's population is zero (a figure, not a gap): no one to place, so no point.
    /// A province's empty forest and farm cells would otherwise be gridded for nothing.
    NoPeople,
}

/// One weighted demand point, as [`ModelPoints`] hands it out (a value made from the
/// columns, not a stored row).
#[derive(Clone, Copy, Debug)]
pub struct Demand {
    pub location: Point<f64>,
    /// The demand-level unit it belongs to.
    pub unit: UnitId,
    /// The dataset's demand point it stands for (`None`: a building, land-use or grid
    /// carrier made by the model).
    pub source: Option<DemandId>,
    pub total: f64,
    pub aged_60plus: f64,
    pub aged_0_3: f64,
}

impl Demand {
    pub fn weight(&self, g: AgeGroup) -> f64 {
        match g {
            AgeGroup::Total => self.total,
            AgeGroup::Aged60plus => self.aged_60plus,
            AgeGroup::Aged0to3 => self.aged_0_3,
        }
    }
}

/// `ModelPoints::source` for a point the model placed.
const NO_SOURCE: u32 = u32::MAX;

/// The model's points, column by column (32 bytes a point). A province has millions, and
/// every rule and measure reads the same columns — the locations as one slice for the
/// searches, one weight — so nothing copies them per rule. A point stores its share of
/// its unit; its figures are the unit's resolved figures times that share, the same
/// product the model computed, so every sum is what it was with the figures stored.
#[derive(Clone, Debug, Default)]
pub struct ModelPoints {
    location: Vec<Point<f64>>,
    unit: Vec<UnitId>,
    /// Index into `Dataset::demand`, [`NO_SOURCE`] for a point the model placed.
    source: Vec<u32>,
    share: Vec<f64>,
    /// Per unit index: total, 60+ and 0–3 spread over its points (a missing age group
    /// as 0).
    figures: Vec<[f64; 3]>,
}

impl ModelPoints {
    pub fn len(&self) -> usize {
        self.location.len()
    }

    pub fn is_empty(&self) -> bool {
        self.location.is_empty()
    }

    /// Every point's location, in the model's order: what distance searches take.
    pub fn locations(&self) -> &[Point<f64>] {
        &self.location
    }

    pub fn location(&self, k: usize) -> Point<f64> {
        self.location[k]
    }

    pub fn unit(&self, k: usize) -> UnitId {
        self.unit[k]
    }

    pub fn source(&self, k: usize) -> Option<DemandId> {
        (self.source[k] != NO_SOURCE).then_some(DemandId(self.source[k]))
    }

    /// Point `k` with its figures.
    pub fn get(&self, k: usize) -> Demand {
        let [t, a, c] = self.figures[self.unit[k].index()];
        let s = self.share[k];
        Demand {
            location: self.location[k],
            unit: self.unit[k],
            source: self.source(k),
            total: t * s,
            aged_60plus: a * s,
            aged_0_3: c * s,
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Demand> + '_ {
        (0..self.len()).map(|k| self.get(k))
    }

    /// Every point's people of group `g`, in the model's order.
    pub fn weights(&self, g: AgeGroup) -> Vec<f64> {
        self.iter().map(|d| d.weight(g)).collect()
    }

    fn push(&mut self, location: Point<f64>, unit: UnitId, source: Option<DemandId>, share: f64) {
        self.location.push(location);
        self.unit.push(unit);
        self.source.push(source.map_or(NO_SOURCE, |s| s.0));
        self.share.push(share);
    }
}

/// A unit's population with every age group resolved, and where each figure came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Resolved {
    pub total: Option<f64>,
    pub aged_60plus: Option<f64>,
    pub aged_0_3: Option<f64>,
    /// True when 60+ or 0–3 was derived from an ancestor's shares.
    pub ages_from_ancestor: bool,
}

/// Resolves total, 60+ and 0–3 of a unit; missing age groups take the shares of the
/// nearest ancestor that has both the total and that group.
pub fn resolve_population(ds: &Dataset, unit: UnitId) -> Resolved {
    let p = ds.unit(unit).population;
    let mut r = Resolved {
        total: p.total,
        aged_60plus: p.aged_60plus,
        aged_0_3: p.aged_0_3,
        ages_from_ancestor: false,
    };
    let Some(total) = p.total else { return r };
    let share = |pick: fn(&crate::model::Population) -> Option<f64>| {
        ds.ancestors(unit).skip(1).find_map(|a| {
            let ap = ds.unit(a).population;
            match (ap.total, pick(&ap)) {
                (Some(t), Some(g)) if t > 0.0 => Some(g / t),
                _ => None,
            }
        })
    };
    if r.aged_60plus.is_none() {
        if let Some(s) = share(|p| p.aged_60plus) {
            r.aged_60plus = Some(total * s);
            r.ages_from_ancestor = true;
        }
    }
    if r.aged_0_3.is_none() {
        if let Some(s) = share(|p| p.aged_0_3) {
            r.aged_0_3 = Some(total * s);
            r.ages_from_ancestor = true;
        }
    }
    r
}

/// Per-unit record of how demand was built.
#[derive(Clone, Debug, Serialize)]
pub struct UnitDemand {
    pub unit: UnitId,
    pub source: DemandSource,
    pub points: usize,
    /// Grid cell actually used (coarsened for large units), metres.
    pub cell_m: Option<f64>,
}

/// The demand points of a dataset.
#[derive(Clone, Debug, Default)]
pub struct DemandModel {
    /// The unit tier whose population was spread (the finest tier with shapes and people:
    /// 1 district/county, 2 sub-district/township, 3 community/village).
    pub tier: Option<u8>,
    pub points: ModelPoints,
    pub units: Vec<UnitDemand>,
    /// Units left out and why (no population, no shape …).
    pub skipped: Vec<(UnitId, String)>,
    /// Points of the demand layer that lie in no unit of the demand tier (outside the
    /// area, or in a gap between units): left out, and said.
    pub outside_points: usize,
}

impl DemandModel {
    pub fn total(&self, g: AgeGroup) -> f64 {
        self.points.iter().map(|d| d.weight(g)).sum()
    }
}

/// The finest unit tier with at least one unit that has both a shape and a population
/// (a tier, not a level: Heihe's district and its counties together carry the city).
pub fn demand_tier(ds: &Dataset) -> Option<u8> {
    ds.units
        .iter()
        .filter(|u| u.geometry.is_some() && u.population.total.is_some())
        .map(|u| u.level.tier())
        .max()
}

/// Builds the demand model.
pub fn build_demand(
    ds: &Dataset,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<DemandModel> {
    let mut model = DemandModel::default();
    let Some(tier) = demand_tier(ds) else {
        for u in &ds.units {
            model.skipped.push((
                u.id,
                "no unit has both a shape and a population: no demand points".into(),
            ));
        }
        return Ok(model);
    };
    model.tier = Some(tier);
    model.points.figures = vec![[0.0; 3]; ds.units.len()];
    let idx = UnitIndex::for_tier(ds, tier).expect("demand tier has shapes");
    let n_units = ds.units.len();
    progress.stage("demand", Some(n_units as u64));

    // Point → unit for every demand point, on every core (a province has millions), the
    // cancel looked at per point; `NOWHERE` for a point in no unit.
    const NOWHERE: u32 = u32::MAX;
    let located: Vec<u32> = {
        use rayon::prelude::*;
        ds.demand
            .locations()
            .par_iter()
            .map(|at| {
                check(progress)?;
                Ok(idx.locate(ds, *at).map_or(NOWHERE, |u| u.0))
            })
            .collect::<Result<_>>()?
    };
    // The points of each unit, in the layer's order: `by_unit[start[u]..start[u + 1]]`
    // (a counting sort, not a list per unit).
    let mut start = vec![0u32; n_units + 1];
    for u in located.iter().filter(|u| **u != NOWHERE) {
        start[*u as usize + 1] += 1;
    }
    for i in 0..n_units {
        start[i + 1] += start[i];
    }
    model.outside_points = located.len() - start[n_units] as usize;
    let mut by_unit = vec![0u32; start[n_units] as usize];
    let mut fill = start.clone();
    for (k, u) in located.iter().enumerate().filter(|(_, u)| **u != NOWHERE) {
        by_unit[fill[*u as usize] as usize] = k as u32;
        fill[*u as usize] += 1;
    }
    drop((located, fill));
    let points_of = |i: usize| -> Vec<Carrier> {
        by_unit[start[i] as usize..start[i + 1] as usize]
            .iter()
            .map(|&k| {
                let k = k as usize;
                (
                    ds.demand.location(k),
                    ds.demand.total(k).unwrap_or(1.0).max(0.0),
                    Some(DemandId(k as u32)),
                )
            })
            .collect()
    };
    let cell = settings.grid_cell_m;
    let (mut bld, mut landuse) = building_carriers(ds, &idx, cell);
    for (i, u) in ds.units.iter().enumerate() {
        if i % 64 == 0 {
            check(progress)?;
            progress.advance(i as u64);
        }
        if u.level.tier() != tier {
            continue;
        }
        let Some(geom) = &u.geometry else {
            model.skipped.push((
                u.id,
                "no shape: its people cannot be placed on the map".into(),
            ));
            continue;
        };
        let pop = resolve_population(ds, u.id);
        let Some(total) = pop.total else {
            model.skipped.push((
                u.id,
                "no population figure: left out of coverage shares (add a population field)".into(),
            ));
            continue;
        };
        if total == 0.0
            && pop.aged_60plus.unwrap_or(0.0) == 0.0
            && pop.aged_0_3.unwrap_or(0.0) == 0.0
        {
            model.units.push(UnitDemand {
                unit: u.id,
                source: DemandSource::NoPeople,
                points: 0,
                cell_m: None,
            });
            continue;
        }
        let mut cell_used = None;
        let (source, carriers) = if start[i + 1] > start[i] {
            (DemandSource::Points, points_of(i))
        } else if bld[i].len() >= settings.min_buildings {
            (DemandSource::Buildings, made(std::mem::take(&mut bld[i])))
        } else if !landuse[i].is_empty() {
            (DemandSource::Landuse, made(std::mem::take(&mut landuse[i])))
        } else {
            let area = geom.unsigned_area();
            let c = cell.max((area / settings.max_grid_points_per_unit as f64).sqrt());
            cell_used = Some(c);
            let g: Vec<Carrier> = grid_in(geom, c)
                .into_iter()
                .map(|p| (p, 1.0, None))
                .collect();
            if g.is_empty() {
                let p = geom.interior_point().or_else(|| geom.centroid());
                (
                    DemandSource::InteriorPoint,
                    p.map(|p| vec![(p, 1.0, None)]).unwrap_or_default(),
                )
            } else {
                (DemandSource::Grid, g)
            }
        };
        let mut wsum: f64 = carriers.iter().map(|c| c.1).sum();
        let equal = wsum <= 0.0;
        if equal {
            wsum = carriers.len() as f64;
        }
        if carriers.is_empty() {
            model
                .skipped
                .push((u.id, "shape is empty: no demand point".into()));
            continue;
        }
        model.points.figures[i] = [
            total,
            pop.aged_60plus.unwrap_or(0.0),
            pop.aged_0_3.unwrap_or(0.0),
        ];
        for (p, w, src) in &carriers {
            let share = if equal { 1.0 } else { *w } / wsum;
            model.points.push(*p, u.id, *src, share);
        }
        model.units.push(UnitDemand {
            unit: u.id,
            source,
            points: carriers.len(),
            cell_m: cell_used,
        });
    }
    progress.advance(n_units as u64);
    Ok(model)
}

/// A demand carrier: where, its weight, and the dataset's demand point it is (if one).
type Carrier = (Point<f64>, f64, Option<DemandId>);

/// Carriers the model made (buildings, land use): no source point.
fn made(v: Vec<(Point<f64>, f64)>) -> Vec<Carrier> {
    v.into_iter().map(|(p, w)| (p, w, None)).collect()
}

/// Centres of the `cell`-metre grid cells that fall inside `mp` (even–odd rule, so holes
/// stay empty). Scanline: each row intersects the rings' edges once, so cost is
/// rows × edges, not cells × edges.
pub fn grid_in(mp: &MultiPolygon<f64>, cell: f64) -> Vec<Point<f64>> {
    let Some(bb) = mp.bounding_rect() else {
        return Vec::new();
    };
    // Cells are aligned to multiples of `cell` so neighbouring units share one lattice.
    let x0 = (bb.min().x / cell).floor() * cell;
    let y0 = (bb.min().y / cell).floor() * cell;
    let nx = ((bb.max().x - x0) / cell).ceil() as i64;
    let ny = ((bb.max().y - y0) / cell).ceil() as i64;
    let mut edges: Vec<(Coord<f64>, Coord<f64>)> = Vec::new();
    let mut push_ring = |ring: &geo::LineString<f64>| {
        for w in ring.0.windows(2) {
            edges.push((w[0], w[1]));
        }
    };
    for poly in &mp.0 {
        push_ring(poly.exterior());
        for h in poly.interiors() {
            push_ring(h);
        }
    }
    let mut out = Vec::new();
    let mut xs: Vec<f64> = Vec::new();
    for j in 0..ny {
        let y = y0 + (j as f64 + 0.5) * cell;
        xs.clear();
        for (a, b) in &edges {
            if (a.y > y) != (b.y > y) {
                xs.push(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks(2) {
            if let [l, r] = pair {
                let i0 = ((l - x0) / cell - 0.5).ceil().max(0.0) as i64;
                let i1 = (((r - x0) / cell - 0.5).ceil() as i64).min(nx);
                for i in i0..i1 {
                    out.push(Point::new(x0 + (i as f64 + 0.5) * cell, y));
                }
            }
        }
    }
    out
}

/// Area-weighted helper for tests and tools: the polygon's grid count at `cell`.
pub fn grid_count(p: &Polygon<f64>, cell: f64) -> usize {
    grid_in(&MultiPolygon(vec![p.clone()]), cell).len()
}

/// Demand carriers from buildings, per unit: residential footprints weighted by area ×
/// floors, and residential landuse sampled on the grid (area shared among its samples).
#[allow(clippy::type_complexity)]
fn building_carriers(
    ds: &Dataset,
    idx: &UnitIndex,
    cell: f64,
) -> (Vec<Vec<(Point<f64>, f64)>>, Vec<Vec<(Point<f64>, f64)>>) {
    let n_units = ds.units.len();
    let mut bld: Vec<Vec<(Point<f64>, f64)>> = vec![Vec::new(); n_units];
    let mut landuse: Vec<Vec<(Point<f64>, f64)>> = vec![Vec::new(); n_units];
    for b in &ds.buildings {
        match b.kind {
            BuildingKind::Residential => {
                if let Some(c) = b.footprint.centroid() {
                    if let Some(u) = idx.locate(ds, c) {
                        let w = b.footprint.unsigned_area() * b.levels.unwrap_or(1.0).max(1.0);
                        bld[u.index()].push((c, w.max(1.0)));
                    }
                }
            }
            BuildingKind::ResidentialLanduse => {
                let mp = MultiPolygon(vec![b.footprint.clone()]);
                let mut samples = grid_in(&mp, cell);
                if samples.is_empty() {
                    samples.extend(b.footprint.interior_point());
                }
                let w = b.footprint.unsigned_area() / samples.len().max(1) as f64;
                for s in samples {
                    if let Some(u) = idx.locate(ds, s) {
                        landuse[u.index()].push((s, w.max(1.0)));
                    }
                }
            }
            BuildingKind::Other => {}
        }
    }

    (bld, landuse)
}

/// The ids outputs write for the model's points: the source file's where every point has
/// one (`false`), else generated ("#k", `true`) — and the output then says so
/// ([`generated_ids_note`]).
pub fn demand_ids(ds: &Dataset, demand: &DemandModel) -> (Vec<String>, bool) {
    let source: Option<Vec<String>> = demand
        .points
        .iter()
        .map(|d| source_id(ds, &d).map(|s| s.to_string()))
        .collect();
    match source {
        Some(ids) => (ids, false),
        None => (
            (0..demand.points.len()).map(|k| format!("#{k}")).collect(),
            true,
        ),
    }
}

/// The source id of one model point, when it came from a demand layer feature with one.
pub fn source_id(ds: &Dataset, d: &Demand) -> Option<PointId> {
    d.source.and_then(|s| ds.demand.source_id(s.0 as usize))
}

/// Why ids were generated, when they were.
pub fn generated_ids_note(
    generated: bool,
    demand: &DemandModel,
    ds: &Dataset,
) -> Option<&'static str> {
    if !generated {
        return None;
    }
    let from_layer = demand.points.iter().filter(|d| d.source.is_some()).count();
    Some(if ds.demand.is_empty() || from_layer == 0 {
        "ids are generated (#0, #1, …): the demand points were placed by the model (buildings, land use or a grid), not read from a demand layer"
    } else {
        "ids are generated (#0, #1, …): some demand points have no id field in their source"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn grid_fills_a_square_with_a_hole_exactly() {
        // 1000 m square with a 400 m hole: 100 cells minus 16.
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 1000.0), (x: 0.0, y: 1000.0)],
            interiors: [[(x: 300.0, y: 300.0), (x: 700.0, y: 300.0), (x: 700.0, y: 700.0), (x: 300.0, y: 700.0)]],
        );
        assert_eq!(grid_count(&p, 100.0), 84);
        // A triangle: cells whose centre lies under the diagonal x + y < 1000.
        let t = polygon![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 0.0, y: 1000.0)];
        assert_eq!(grid_count(&t, 100.0), 45);
    }
}
