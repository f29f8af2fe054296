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
use geo::{BoundingRect, CoordinatePosition, MultiPolygon, Point};
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use crate::model::{Dataset, FacilityId, UnitId, UnitJoin, UnitLevel};

type Envelope = GeomWithData<Rectangle<[f64; 2]>, UnitId>;

/// R-tree over the polygons of one unit level.
pub struct UnitIndex {
    pub level: UnitLevel,
    tree: RTree<Envelope>,
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
        let items: Vec<Envelope> = ds
            .units
            .iter()
            .filter(|u| keep(u))
            .filter_map(|u| {
                let r = u.geometry.as_ref()?.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    u.id,
                ))
            })
            .collect();
        if items.is_empty() {
            return None;
        }
        Some(Self {
            level,
            tree: RTree::bulk_load(items),
        })
    }

    /// The unit of this level containing `p`, by the boundary rule in the module docs.
    pub fn locate(&self, ds: &Dataset, p: Point<f64>) -> Option<UnitId> {
        let mut best: Option<(bool, &str, UnitId)> = None;
        for e in self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
        {
            let u = ds.unit(e.data);
            let g: &MultiPolygon<f64> = u.geometry.as_ref().expect("indexed units have shapes");
            // One pass over the rings: `intersects` then `contains` walked them twice and
            // recomputed every part's bounding box per call (a fifth of a province run).
            let interior = match g.coordinate_position(&p.0) {
                CoordPos::Inside => true,
                CoordPos::OnBoundary => false,
                CoordPos::Outside => continue,
            };
            let better = match best {
                None => true,
                Some((bi, bc, bid)) => {
                    (interior, std::cmp::Reverse((u.code.as_str(), e.data)))
                        > (bi, std::cmp::Reverse((bc, bid)))
                }
            };
            if better {
                best = Some((interior, u.code.as_str(), e.data));
            }
        }
        best.map(|b| b.2)
    }

    /// Units whose envelope intersects the rectangle (candidates for clipping work).
    pub fn candidates_in(&self, min: [f64; 2], max: [f64; 2]) -> Vec<UnitId> {
        let mut v: Vec<UnitId> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_corners(min, max))
            .map(|e| e.data)
            .collect();
        v.sort();
        v
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

/// Indices of `points` in Morton (Z-order) of a `cell`-metre lattice: neighbouring points
/// become neighbouring queries, so the R-tree nodes they touch stay in cache.
pub fn spatial_order(points: &[Point<f64>], cell: f64) -> Vec<u32> {
    if points.is_empty() {
        return Vec::new();
    }
    let (mut x0, mut y0) = (f64::INFINITY, f64::INFINITY);
    for p in points {
        x0 = x0.min(p.x());
        y0 = y0.min(p.y());
    }
    let spread = |v: u32| -> u64 {
        let mut x = v as u64;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        (x | (x << 1)) & 0x5555_5555_5555_5555
    };
    let mut keyed: Vec<(u64, u32)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let cx = ((p.x() - x0) / cell).clamp(0.0, u32::MAX as f64) as u32;
            let cy = ((p.y() - y0) / cell).clamp(0.0, u32::MAX as f64) as u32;
            (spread(cx) | (spread(cy) << 1), i as u32)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|k| k.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use geo::{polygon, MultiPolygon};

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
