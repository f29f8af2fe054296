//! Candidate sites: generated around unmet demand and in units that lack a facility, or
//! read from a candidate layer, each placed in its unit.

use super::*;

/// Most generated candidates kept besides the ones inside units that must receive a site.
pub const MAX_GENERATED: usize = 4000;
/// Grid points tried inside each unit that must receive a site.
pub(super) const MUST_UNIT_GRID: usize = 200;

/// Generated candidates, in priority order, thinned to `spacing`:
/// 1. an interior point of every unit that must receive a site (quotas, places gaps);
/// 2. demand-weighted centres of uncovered clusters (cells of the radius), heaviest first;
/// 3. walking-network nodes near uncovered demand (network mode);
/// 4. a grid (half the radius) over cells with uncovered demand;
///    (2–4 stop at [`MAX_GENERATED`])
/// 5. a grid of up to 200 points inside each unit that must receive a site, so a unit that
///    needs several sites has room for them.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    ds: &Dataset,
    idx: &UnitIndexes,
    demand: &[Point<f64>],
    weight: &[f64],
    covered: &[bool],
    radius: f64,
    spacing: f64,
    must_units: &[UnitId],
    access: &dyn Accessibility,
) -> Vec<Candidate> {
    use geo::Area;
    let mut raw: Vec<(Point<f64>, &'static str)> = Vec::new();
    let gap: Vec<usize> = (0..demand.len())
        .filter(|i| !covered[*i] && weight[*i] > 0.0)
        .collect();
    // 1. Units that must receive a site.
    for u in must_units {
        if let Some(p) = ds
            .unit(*u)
            .geometry
            .as_ref()
            .and_then(|g| g.interior_point())
        {
            raw.push((p, "unit_centre"));
        }
    }
    let must_end = raw.len();
    // 2. Cluster centres.
    let mut cells: BTreeMap<(i64, i64), (f64, f64, f64)> = BTreeMap::new();
    for &i in &gap {
        let k = (
            (demand[i].x() / radius).floor() as i64,
            (demand[i].y() / radius).floor() as i64,
        );
        let e = cells.entry(k).or_default();
        e.0 += demand[i].x() * weight[i];
        e.1 += demand[i].y() * weight[i];
        e.2 += weight[i];
    }
    let mut centres: Vec<(f64, Point<f64>)> = cells
        .values()
        .filter(|(_, _, w)| *w > 0.0)
        .map(|(x, y, w)| (*w, Point::new(x / w, y / w)))
        .collect();
    centres.sort_by(|a, b| b.0.total_cmp(&a.0));
    raw.extend(centres.iter().map(|(_, p)| (*p, "gap_cluster")));
    // 3. Network nodes near uncovered demand.
    if !gap.is_empty() {
        if let Some(nodes) = access.network_nodes() {
            let gap_tree = point_tree(gap.iter().map(|i| Some(demand[*i])));
            let near = radius / 3.0;
            for n in nodes {
                if gap_tree
                    .locate_within_distance([n.x(), n.y()], near * near)
                    .next()
                    .is_some()
                {
                    raw.push((n, "network_node"));
                }
            }
        }
    }
    // 4. Grid over gap cells.
    let step = radius / 2.0;
    let mut grid_cells: BTreeMap<(i64, i64), ()> = BTreeMap::new();
    for &i in &gap {
        grid_cells.insert(
            (
                (demand[i].x() / step).round() as i64,
                (demand[i].y() / step).round() as i64,
            ),
            (),
        );
    }
    raw.extend(
        grid_cells
            .keys()
            .map(|(a, b)| (Point::new(*a as f64 * step, *b as f64 * step), "grid")),
    );
    let capped_end = raw.len();
    // 5. Grids inside units that must receive a site (cell from the unit's area).
    for u in must_units {
        let Some(g) = &ds.unit(*u).geometry else {
            continue;
        };
        let cell = step
            .max(spacing)
            .max((g.unsigned_area() / MUST_UNIT_GRID as f64).sqrt());
        let pts = crate::coverage::demand::grid_in(g, cell);
        raw.extend(
            pts.into_iter()
                .take(MUST_UNIT_GRID * 2)
                .map(|p| (p, "grid")),
        );
    }
    thin(ds, idx, raw, spacing, (must_end, capped_end))
}

/// Thins the raw points to `spacing` in priority order, keeping points inside some unit;
/// the generated ones between `must_end` and `capped_end` stop at [`MAX_GENERATED`].
fn thin(
    ds: &Dataset,
    idx: &UnitIndexes,
    raw: Vec<(Point<f64>, &'static str)>,
    spacing: f64,
    (must_end, capped_end): (usize, usize),
) -> Vec<Candidate> {
    // Thin to the spacing in priority order; keep points inside some unit.
    let mut kept: Vec<Candidate> = Vec::new();
    let mut tree: rstar::RTree<[f64; 2]> = rstar::RTree::new();
    let mut counter: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut capped = 0usize;
    for (k, (p, origin)) in raw.into_iter().enumerate() {
        if k >= must_end && k < capped_end && capped >= MAX_GENERATED {
            continue;
        }
        let q = [p.x(), p.y()];
        if tree
            .locate_within_distance(q, spacing * spacing)
            .next()
            .is_some()
        {
            continue;
        }
        let Some(unit) = idx.locate_finest(ds, p) else {
            continue;
        };
        if k >= must_end && k < capped_end {
            capped += 1;
        }
        tree.insert(q);
        let n = counter.entry(origin).or_default();
        *n += 1;
        kept.push(Candidate {
            id: format!("{}-{}", origin, n),
            name: String::new(),
            origin,
            location: p,
            unit: Some(unit),
            attributes: serde_json::Map::new(),
        });
    }
    kept
}

/// Candidate sites from a candidate layer that `io::load::load_candidate_layer` read from
/// `path` (named in messages), moved into `ds`'s projection and placed in its units.
pub fn candidates_from(
    ds: &Dataset,
    cds: &Dataset,
    path: &std::path::Path,
) -> Result<Vec<Candidate>> {
    let idx = UnitIndexes::new(ds);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &cds.facilities {
        let Some(loc) = f.location else {
            return Err(Error::format(
                path,
                format!(
                    "feature '{}' ({}) has no point: candidate sites need coordinates",
                    f.name, f.source_id
                ),
            ));
        };
        let (lon, lat) = cds.projection.inverse(loc.x(), loc.y());
        let (x, y) = ds.projection.forward(lon, lat);
        let p = Point::new(x, y);
        if !seen.insert(f.source_id.clone()) {
            return Err(Error::format(
                path,
                format!(
                    "duplicate candidate id '{}': ids must be unique",
                    f.source_id
                ),
            ));
        }
        out.push(Candidate {
            id: f.source_id.clone(),
            name: f.name.clone(),
            origin: "file",
            location: p,
            unit: idx.locate_finest(ds, p),
            attributes: f.attributes.clone(),
        });
    }
    Ok(out)
}

/// Site roles: candidates inside (or within the buffer of) an excluded shape, or within the
/// forbidden radius of an existing facility of the kind, are dropped, and the notes say how
/// many. An option that leaves no candidate is an error naming it.
pub(super) fn apply_site_roles(
    cands: Vec<Candidate>,
    opts: &super::ProposeOptions,
    existing: &[Point<f64>],
    notes: &mut Vec<String>,
) -> Result<Vec<Candidate>> {
    use geo::{BoundingRect, Distance};
    let mut cands = cands;
    if let Some(ex) = &opts.excluded {
        let boxes: Vec<Option<geo::Rect<f64>>> =
            ex.shapes.iter().map(|g| g.bounding_rect()).collect();
        let b = ex.buffer_m;
        let before = cands.len();
        cands.retain(|c| {
            let p = c.location;
            !ex.shapes.iter().zip(&boxes).any(|(g, r)| {
                r.is_some_and(|r| {
                    p.x() >= r.min().x - b
                        && p.x() <= r.max().x + b
                        && p.y() >= r.min().y - b
                        && p.y() <= r.max().y + b
                }) && geo::Euclidean.distance(&p, g) <= b
            })
        });
        let dropped = before - cands.len();
        if cands.is_empty() {
            return Err(Error::input(
                format!("{}: excludes every one of the {before} candidate sites; nowhere is left to propose (check the file's CRS, or a smaller --exclude-buffer)", ex.label),
                format!("{}：排除了全部 {before} 个候选点，无处可选（请检查该文件的坐标系，或减小 --exclude-buffer）", ex.label),
            ));
        }
        if dropped > 0 {
            notes.push(format!(
                "{}: {dropped} of {before} candidate sites lie in an excluded area{} and were dropped",
                ex.label,
                if b > 0.0 { format!(" (or within {b:.0} m of one)") } else { String::new() }
            ));
        }
    }
    if let Some(r) = opts.forbidden_radius_m {
        let tree = crate::spatial::point_tree(existing.iter().map(|p| Some(*p)));
        let before = cands.len();
        cands.retain(|c| {
            tree.nearest_neighbor(&[c.location.x(), c.location.y()])
                .is_none_or(|n| {
                    let q = n.geom();
                    ((q[0] - c.location.x()).powi(2) + (q[1] - c.location.y()).powi(2)).sqrt() > r
                })
        });
        let dropped = before - cands.len();
        if cands.is_empty() {
            return Err(Error::input(
                format!("--forbidden-radius {r}: every one of the {before} candidate sites lies within {r:.0} m of an existing {}; lower it", opts.kind.key()),
                format!("--forbidden-radius {r}：全部 {before} 个候选点都在现有{}的 {r:.0} 米内：请减小该值", opts.kind.zh()),
            ));
        }
        if dropped > 0 {
            notes.push(format!(
                "--forbidden-radius {r:.0} m: {dropped} of {before} candidate sites lie that close to an existing {} and were dropped",
                opts.kind.key()
            ));
        }
    }
    Ok(cands)
}
