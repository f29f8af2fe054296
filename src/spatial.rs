//! R-tree indexes: which unit contains a point, which facilities lie near a point.
//!
//! Unit polygons go into one `rstar` tree per level (envelope + id); a query filters by
//! envelope first and only then runs the exact point-in-polygon test, so assigning a million
//! points costs a tree descent and one or two polygon tests each.
//!
//! **Boundary rule.** A point exactly on the boundary shared by two units (or in an overlap
//! left by sloppy digitising) belongs to the unit whose polygon contains it in its interior
//! if there is one, else to the candidate with the smallest division code (then the smallest
//! id). The result never depends on the order of the input files.

use geo::coordinate_position::CoordPos;
use geo::{BoundingRect, MultiPolygon, Point};
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use crate::model::{Dataset, FacilityId, UnitId, UnitJoin, UnitLevel};

type Envelope = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// R-tree over the polygons of one unit level.
pub struct UnitIndex {
    pub level: UnitLevel,
    tree: RTree<Envelope>,
    /// Per tree entry: the unit and its rings' edge bands.
    shapes: Vec<(UnitId, Vec<PreparedPolygon>)>,
}

impl UnitIndex {
    /// Indexes the units of `level` that have a shape; `None` when none has.
    pub fn new(ds: &Dataset, level: UnitLevel) -> Option<Self> {
        Self::new_where(ds, level, |u| u.level == level)
    }

    /// Indexes the units of one tier (e.g. districts and counties together, or sub-districts
    /// and townships); `level` is the label the index answers to.
    pub fn for_tier(ds: &Dataset, tier: u8) -> Option<Self> {
        let level = ds
            .units
            .iter()
            .map(|u| u.level)
            .find(|l| l.tier() == tier)?;
        Self::new_where(ds, level, |u| u.level.tier() == tier)
    }

    fn new_where(
        ds: &Dataset,
        level: UnitLevel,
        keep: impl Fn(&crate::model::Unit) -> bool,
    ) -> Option<Self> {
        use rayon::prelude::*;
        let kept: Vec<(&crate::model::Unit, &MultiPolygon<f64>, geo::Rect<f64>)> = ds
            .units
            .iter()
            .filter(|u| keep(u))
            .filter_map(|u| {
                let g = u.geometry.as_ref()?;
                Some((u, g, g.bounding_rect()?))
            })
            .collect();
        if kept.is_empty() {
            return None;
        }
        let items: Vec<Envelope> = kept
            .iter()
            .enumerate()
            .map(|(slot, (_, _, r))| {
                GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    slot as u32,
                )
            })
            .collect();
        let shapes = kept
            .par_iter()
            .map(|(u, g, _)| (u.id, g.0.iter().map(PreparedPolygon::new).collect()))
            .collect();
        Some(Self {
            level,
            tree: RTree::bulk_load(items),
            shapes,
        })
    }

    /// The unit of this level containing `p`, by the boundary rule in the module docs.
    pub fn locate(&self, ds: &Dataset, p: Point<f64>) -> Option<UnitId> {
        let mut best: Option<(bool, &str, UnitId)> = None;
        for e in self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
        {
            let (id, prepared) = &self.shapes[e.data as usize];
            let u = ds.unit(*id);
            let g: &MultiPolygon<f64> = u.geometry.as_ref().expect("indexed units have shapes");
            let interior = match multipolygon_position(g, prepared, p.0) {
                CoordPos::Inside => true,
                CoordPos::OnBoundary => false,
                CoordPos::Outside => continue,
            };
            let better = match best {
                None => true,
                Some((bi, bc, bid)) => {
                    (interior, std::cmp::Reverse((u.code.as_str(), *id)))
                        > (bi, std::cmp::Reverse((bc, bid)))
                }
            };
            if better {
                best = Some((interior, u.code.as_str(), *id));
            }
        }
        best.map(|b| b.2)
    }

    /// Units whose envelope intersects the rectangle (candidates for clipping work).
    pub fn candidates_in(&self, min: [f64; 2], max: [f64; 2]) -> Vec<UnitId> {
        let mut v: Vec<UnitId> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_corners(min, max))
            .map(|e| self.shapes[e.data as usize].0)
            .collect();
        v.sort();
        v
    }
}

/// A polygon ready for many point-in-polygon tests: its exterior's bounding box and, for
/// rings with many edges, the edges sorted into horizontal bands. A county's ring has
/// thousands of vertices, and the winding-number test reads only edges whose y-range
/// holds the point's y: those are all in the point's band.
struct PreparedPolygon {
    bbox: geo::Rect<f64>,
    /// Exterior first, then the holes in order.
    rings: Vec<Option<EdgeBands>>,
}

/// Edge indexes of one ring by horizontal band: edge `i` (from vertex `i` to `i + 1`) is
/// listed in every band its closed y-range meets.
struct EdgeBands {
    y0: f64,
    /// Bands per metre.
    scale: f64,
    /// `edges[start[b]..start[b + 1]]` are band `b`'s.
    start: Vec<u32>,
    edges: Vec<u32>,
}

/// Rings with at most this many edges are read whole: banding them would not pay.
const BAND_MIN_EDGES: usize = 32;

impl EdgeBands {
    fn new(ring: &geo::LineString<f64>) -> Option<Self> {
        let n = ring.0.len().saturating_sub(1);
        if n <= BAND_MIN_EDGES {
            return None;
        }
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        for c in &ring.0 {
            y0 = y0.min(c.y);
            y1 = y1.max(c.y);
        }
        // About four edges a band on a compact ring.
        let bands = (n / 4).clamp(1, 1 << 16);
        let scale = if y1 > y0 {
            bands as f64 / (y1 - y0)
        } else {
            0.0
        };
        let mut me = Self {
            y0,
            scale,
            start: vec![0; bands + 1],
            edges: Vec::new(),
        };
        let span =
            |w: &[geo::Coord<f64>]| (me.band(w[0].y.min(w[1].y)), me.band(w[0].y.max(w[1].y)));
        let spans: Vec<(usize, usize)> = ring.0.windows(2).map(span).collect();
        for (lo, hi) in &spans {
            for b in *lo..=*hi {
                me.start[b + 1] += 1;
            }
        }
        for b in 0..bands {
            me.start[b + 1] += me.start[b];
        }
        let mut fill = me.start.clone();
        me.edges = vec![0; me.start[bands] as usize];
        for (i, (lo, hi)) in spans.iter().enumerate() {
            for at in &mut fill[*lo..=*hi] {
                me.edges[*at as usize] = i as u32;
                *at += 1;
            }
        }
        Some(me)
    }

    /// The band of `y`, clamped: monotone in `y`, so an edge whose y-range holds `y` is
    /// listed in `y`'s band.
    fn band(&self, y: f64) -> usize {
        let last = self.start.len() - 2;
        let b = ((y - self.y0) * self.scale).floor();
        if b >= 0.0 {
            (b as usize).min(last)
        } else {
            0
        }
    }
}

impl PreparedPolygon {
    fn new(p: &geo::Polygon<f64>) -> Self {
        Self {
            bbox: p.exterior().bounding_rect().unwrap_or(geo::Rect::new(
                geo::Coord {
                    x: f64::NAN,
                    y: f64::NAN,
                },
                geo::Coord {
                    x: f64::NAN,
                    y: f64::NAN,
                },
            )),
            rings: std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(EdgeBands::new)
                .collect(),
        }
    }
}

/// `geo`'s `coordinate_position` of a multipolygon (the OGC mod-2 boundary rule over its
/// polygons, a polygon's holes in order), with the bounding-box and band shortcuts: the
/// same answer, since an edge outside the point's band, or a ring whose box misses the
/// point, adds nothing to the winding number and cannot hold the point.
fn multipolygon_position(
    mp: &MultiPolygon<f64>,
    prepared: &[PreparedPolygon],
    c: geo::Coord<f64>,
) -> CoordPos {
    let (mut inside, mut boundary) = (false, 0usize);
    for (poly, prep) in mp.0.iter().zip(prepared) {
        let b = prep.bbox;
        if poly.exterior().0.is_empty()
            || !(c.x >= b.min().x && c.x <= b.max().x && c.y >= b.min().y && c.y <= b.max().y)
        {
            continue;
        }
        match ring_position(poly.exterior(), prep.rings[0].as_ref(), c) {
            CoordPos::Outside => {}
            CoordPos::OnBoundary => boundary += 1,
            CoordPos::Inside => {
                let mut in_hole = false;
                for (hole, bands) in poly.interiors().iter().zip(&prep.rings[1..]) {
                    match ring_position(hole, bands.as_ref(), c) {
                        CoordPos::Outside => {}
                        CoordPos::OnBoundary => {
                            boundary += 1;
                            in_hole = true;
                            break;
                        }
                        CoordPos::Inside => {
                            in_hole = true;
                            break;
                        }
                    }
                }
                inside |= !in_hole;
            }
        }
    }
    if boundary % 2 == 1 {
        CoordPos::OnBoundary
    } else if inside {
        CoordPos::Inside
    } else {
        CoordPos::Outside
    }
}

/// `geo::coordinate_position::coord_pos_relative_to_ring` over the edges of `c`'s band
/// (all edges when the ring has no bands): the same winding-number rules, term by term.
fn ring_position(
    ring: &geo::LineString<f64>,
    bands: Option<&EdgeBands>,
    c: geo::Coord<f64>,
) -> CoordPos {
    use geo::kernels::{Kernel, Orientation, RobustKernel};
    let pts = &ring.0;
    if pts.is_empty() {
        return CoordPos::Outside;
    }
    if pts.len() == 1 {
        return if c == pts[0] {
            CoordPos::OnBoundary
        } else {
            CoordPos::Outside
        };
    }
    let between = |x: f64, a: f64, b: f64| {
        if a < b {
            x >= a && x <= b
        } else {
            x >= b && x <= a
        }
    };
    let mut winding = 0i64;
    let mut edge = |i: usize| -> bool {
        let (s, e) = (pts[i], pts[i + 1]);
        if s.y <= c.y {
            if e.y >= c.y {
                let o = RobustKernel::orient2d(s, e, c);
                if o == Orientation::CounterClockwise && e.y != c.y {
                    winding += 1;
                } else if o == Orientation::Collinear && between(c.x, s.x, e.x) {
                    return true;
                }
            }
        } else if e.y <= c.y {
            let o = RobustKernel::orient2d(s, e, c);
            if o == Orientation::Clockwise {
                winding -= 1;
            } else if o == Orientation::Collinear && between(c.x, s.x, e.x) {
                return true;
            }
        }
        false
    };
    let on_boundary = match bands {
        Some(b) => {
            let k = b.band(c.y);
            b.edges[b.start[k] as usize..b.start[k + 1] as usize]
                .iter()
                .any(|i| edge(*i as usize))
        }
        None => (0..pts.len() - 1).any(edge),
    };
    if on_boundary {
        CoordPos::OnBoundary
    } else if winding == 0 {
        CoordPos::Outside
    } else {
        CoordPos::Inside
    }
}

/// One index per unit level that has shapes.
pub struct UnitIndexes {
    pub levels: Vec<UnitIndex>,
}

impl UnitIndexes {
    pub fn new(ds: &Dataset) -> Self {
        Self {
            levels: UnitLevel::ALL
                .iter()
                .filter_map(|l| UnitIndex::new(ds, *l))
                .collect(),
        }
    }
    pub fn level(&self, level: UnitLevel) -> Option<&UnitIndex> {
        self.levels.iter().find(|i| i.level == level)
    }
    /// The finest unit containing `p` over all levels with shapes (a sub-district before
    /// its district).
    pub fn locate_finest(&self, ds: &Dataset, p: Point<f64>) -> Option<UnitId> {
        let mut idx: Vec<&UnitIndex> = self.levels.iter().collect();
        idx.sort_by_key(|i| std::cmp::Reverse(i.level.tier()));
        idx.iter().find_map(|i| i.locate(ds, p))
    }
}

/// Where one facility sits in the unit hierarchy.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// Every unit containing the facility, finest first, each at most once.
    pub units: Vec<UnitId>,
    pub join: Option<UnitJoin>,
}

/// Facility → units, computed once per analysis.
#[derive(Clone, Debug, Default)]
pub struct Assignment {
    pub placements: Vec<Placement>,
    /// Facilities with a point that lies in no unit, and no attribute join either.
    pub outside: Vec<FacilityId>,
}

impl Assignment {
    pub fn units_of(&self, f: FacilityId) -> &[UnitId] {
        &self.placements[f.index()].units
    }
}

/// Assigns every facility to units: by its point (R-tree + point-in-polygon at every level
/// with shapes, then each hit's ancestors, so a county with no shape still gets the
/// facilities of its townships) or, when it has no point or its point is in no unit, by the
/// attribute join the loader made (code or town name).
pub fn assign_facilities(ds: &Dataset, idx: &UnitIndexes) -> Assignment {
    assign_facilities_with(ds, idx, &crate::progress::NoProgress)
        .expect("never cancelled without a progress to cancel")
}

/// [`assign_facilities`] that stops when `progress` is cancelled (looked at per facility).
pub fn assign_facilities_with(
    ds: &Dataset,
    idx: &UnitIndexes,
    progress: &dyn crate::progress::Progress,
) -> crate::Result<Assignment> {
    use rayon::prelude::*;
    // Each facility on its own (a province has 50,000, each tested against every level's
    // polygons), in parallel; the order of the result is the facilities' order.
    let placements: Vec<Placement> = ds
        .facilities
        .par_iter()
        .map(|f| {
            crate::progress::check(progress)?;
            Ok(place_facility(ds, idx, f))
        })
        .collect::<crate::Result<_>>()?;
    let outside = ds
        .facilities
        .iter()
        .zip(&placements)
        .filter(|(_, p)| p.units.is_empty())
        .map(|(f, _)| f.id)
        .collect();
    Ok(Assignment {
        placements,
        outside,
    })
}

/// One facility's units, finest first (none: it lies outside every unit).
fn place_facility(ds: &Dataset, idx: &UnitIndexes, f: &crate::model::Facility) -> Placement {
    let mut units: Vec<UnitId> = Vec::new();
    let mut join = None;
    if let Some(p) = f.location {
        let mut hits: Vec<UnitId> = idx.levels.iter().filter_map(|i| i.locate(ds, p)).collect();
        hits.sort_by_key(|u| std::cmp::Reverse(ds.unit(*u).level.tier()));
        for h in hits {
            for a in ds.ancestors(h) {
                if !units.contains(&a) {
                    units.push(a);
                }
            }
        }
        if !units.is_empty() {
            join = Some(UnitJoin::Spatial);
        }
    }
    if units.is_empty() {
        if let Some(u) = f.unit {
            units.extend(ds.ancestors(u));
            join = f.unit_join;
        }
    }
    // Finest first.
    units.sort_by_key(|u| std::cmp::Reverse(ds.unit(*u).level.tier()));
    Placement { units, join }
}

/// Point R-tree with payload, for facilities and demand.
pub type PointTree = RTree<GeomWithData<[f64; 2], u32>>;

/// Builds a point tree; `None` entries are skipped but keep their index.
pub fn point_tree(points: impl IntoIterator<Item = Option<Point<f64>>>) -> PointTree {
    let items = points
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| GeomWithData::new([p.x(), p.y()], i as u32)))
        .collect();
    RTree::bulk_load(items)
}

/// A `cell`-metre lattice anchored at the points' south-west corner. Points in Morton
/// (Z-)order of its cells ([`Lattice::order`]) become neighbouring queries, so the R-tree
/// nodes they touch stay in cache, and a cell's queries come together, so a search can
/// fetch its candidates once per cell.
#[derive(Clone, Copy, Debug)]
pub struct Lattice {
    pub origin: [f64; 2],
    pub cell: f64,
    /// Every point's cell is its own (finite coordinates, a positive cell, fewer than 2³¹
    /// cells across): no clamping merged far points into one cell.
    pub exact: bool,
}

impl Lattice {
    pub fn of(points: &[Point<f64>], cell: f64) -> Self {
        let (mut x0, mut y0) = (f64::INFINITY, f64::INFINITY);
        let (mut x1, mut y1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut finite = true;
        for p in points {
            x0 = x0.min(p.x());
            y0 = y0.min(p.y());
            x1 = x1.max(p.x());
            y1 = y1.max(p.y());
            finite &= p.x().is_finite() && p.y().is_finite();
        }
        let span = (x1 - x0).max(y1 - y0) / cell;
        Self {
            origin: [x0, y0],
            cell,
            exact: finite && cell.is_finite() && cell > 0.0 && span < (1u64 << 31) as f64,
        }
    }

    /// The lattice cell of `p` (column, row), clamped to the u32 range.
    pub fn cell_of(&self, p: [f64; 2]) -> (u32, u32) {
        let cx = ((p[0] - self.origin[0]) / self.cell).clamp(0.0, u32::MAX as f64) as u32;
        let cy = ((p[1] - self.origin[1]) / self.cell).clamp(0.0, u32::MAX as f64) as u32;
        (cx, cy)
    }

    /// Indices of `points` in Morton order of their cells, then by index.
    pub fn order(&self, points: &[Point<f64>]) -> Vec<u32> {
        if points.is_empty() {
            return Vec::new();
        }
        let spread = |v: u32| -> u64 {
            let mut x = v as u64;
            x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
            x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
            x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
            x = (x | (x << 2)) & 0x3333_3333_3333_3333;
            (x | (x << 1)) & 0x5555_5555_5555_5555
        };
        // On every core: a province's millions of points are ordered once per rule. The
        // pairs are distinct (each index once), so any sort gives this one order.
        use rayon::prelude::*;
        let mut keyed: Vec<(u64, u32)> = points
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let (cx, cy) = self.cell_of([p.x(), p.y()]);
                (spread(cx) | (spread(cy) << 1), i as u32)
            })
            .collect();
        keyed.par_sort_unstable();
        keyed.into_par_iter().map(|k| k.1).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use geo::{polygon, MultiPolygon};

    /// A star-shaped ring of `n` vertices around (cx, cy), radii in [0.5 r, r], on a 1 m
    /// lattice so points on its edges and vertices are exact.
    fn star(
        rnd: &mut impl FnMut() -> f64,
        cx: f64,
        cy: f64,
        r: f64,
        n: usize,
    ) -> geo::LineString<f64> {
        let mut pts: Vec<geo::Coord<f64>> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let rr = r * (0.5 + 0.5 * rnd());
                geo::Coord {
                    x: (cx + rr * a.cos()).round(),
                    y: (cy + rr * a.sin()).round(),
                }
            })
            .collect();
        pts.push(pts[0]);
        geo::LineString(pts)
    }

    /// The banded test answers exactly what `geo`'s `coordinate_position` does, for points
    /// inside, outside, in holes, on vertices, on edges (axis-parallel ones included) and
    /// on rings shared by two parts, for rings below and above the banding threshold.
    #[test]
    fn banded_point_in_polygon_equals_geo() {
        use geo::CoordinatePosition;
        let mut rnd = crate::testkit::xorshift(11);
        let (mut seen, mut checked) = ([0usize; 3], 0usize);
        for case in 0..25 {
            let n = [5, 12, 33, 200, 1500][case % 5];
            let a = star(&mut rnd, 0.0, 0.0, 1000.0, n);
            let hole = star(&mut rnd, 0.0, 0.0, 300.0, n);
            let b = star(&mut rnd, 1500.0, 200.0, 600.0, n / 2 + 3);
            let mut parts = vec![
                geo::Polygon::new(a.clone(), vec![hole.clone()]),
                geo::Polygon::new(b.clone(), vec![]),
            ];
            if case % 3 == 0 {
                // A part whose exterior is the first part's hole: boundary shared twice.
                parts.push(geo::Polygon::new(hole.clone(), vec![]));
            }
            if case % 4 == 0 {
                parts.push(polygon![(x: -50.0, y: -50.0), (x: 50.0, y: -50.0), (x: 50.0, y: 50.0), (x: -50.0, y: 50.0)]);
            }
            let mp = MultiPolygon(parts);
            let prepared: Vec<PreparedPolygon> = mp.0.iter().map(PreparedPolygon::new).collect();
            let mut probes: Vec<geo::Coord<f64>> = (0..400)
                .map(|_| geo::Coord {
                    x: (rnd() * 3400.0 - 1200.0).round(),
                    y: (rnd() * 2400.0 - 1200.0).round(),
                })
                .collect();
            for ring in [&a, &hole, &b] {
                for w in ring.0.windows(2) {
                    probes.push(w[0]);
                    // Midpoints land on the edge when they are lattice points.
                    probes.push(geo::Coord {
                        x: (w[0].x + w[1].x) / 2.0,
                        y: (w[0].y + w[1].y) / 2.0,
                    });
                    probes.push(geo::Coord {
                        x: w[0].x + 0.25,
                        y: w[0].y,
                    });
                    probes.push(geo::Coord {
                        x: w[0].x,
                        y: w[1].y,
                    });
                }
            }
            for c in probes {
                let want = mp.coordinate_position(&c);
                assert_eq!(
                    multipolygon_position(&mp, &prepared, c),
                    want,
                    "case {case}, {c:?}"
                );
                seen[want as usize] += 1;
                checked += 1;
            }
        }
        assert!(
            seen.iter().all(|s| *s > 500),
            "inside/boundary/outside all met: {seen:?} of {checked}"
        );
    }

    fn unit(id: u32, code: &str, x0: f64, x1: f64) -> Unit {
        Unit {
            id: UnitId(id),
            code: code.into(),
            name: code.into(),
            level: UnitLevel::SubDistrict,
            parent_code: None,
            parent: None,
            geometry: Some(MultiPolygon(vec![
                polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 10.0), (x: x0, y: 10.0)],
            ])),
            population: Population::default(),
            population_source: None,
            central_urban: None,
            layer: LayerId(0),
            attributes: Default::default(),
        }
    }

    #[test]
    fn shared_boundary_goes_to_the_smaller_code_whatever_the_order() {
        let mut ds = Dataset::empty("t", 126.0);
        ds.units = vec![unit(0, "b", 10.0, 20.0), unit(1, "a", 0.0, 10.0)];
        let idx = UnitIndex::new(&ds, UnitLevel::SubDistrict).unwrap();
        assert_eq!(idx.locate(&ds, Point::new(10.0, 5.0)), Some(UnitId(1)));
        assert_eq!(idx.locate(&ds, Point::new(12.0, 5.0)), Some(UnitId(0)));
        assert_eq!(idx.locate(&ds, Point::new(25.0, 5.0)), None);
        ds.units = vec![unit(0, "a", 0.0, 10.0), unit(1, "b", 10.0, 20.0)];
        let idx = UnitIndex::new(&ds, UnitLevel::SubDistrict).unwrap();
        assert_eq!(idx.locate(&ds, Point::new(10.0, 5.0)), Some(UnitId(0)));
        // Interior beats boundary even with a larger code: "b" overlaps "a"'s edge.
        ds.units = vec![unit(0, "a", 0.0, 10.0), unit(1, "b", 5.0, 20.0)];
        let idx = UnitIndex::new(&ds, UnitLevel::SubDistrict).unwrap();
        assert_eq!(idx.locate(&ds, Point::new(10.0, 5.0)), Some(UnitId(1)));
    }
}
