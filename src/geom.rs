//! Geometry helpers: the local metric projection and polygon checks.
//!
//! The local projection is the CGCS2000 3° Gauss-Krüger zone of the data's centre
//! (EPSG:4534–4554, "CM xxxE", false easting 500 km, no zone prefix). It is implemented here
//! in pure Rust (Krüger n-series, third order; sub-millimetre inside a 3° zone and checked
//! against PROJ in tests) so that projected geometry can be converted anywhere — on worker
//! threads, in the UI — without a thread-bound PROJ context.

use geo::{Coord, Line, LineString, Polygon};
use rstar::{RTree, RTreeObject, AABB};
use serde::{Deserialize, Serialize};

/// CGCS2000 ellipsoid (equal to GRS80 / WGS84 to < 0.1 mm in practice).
const A: f64 = 6_378_137.0;
const INV_F: f64 = 298.257_222_101;
const FALSE_EASTING: f64 = 500_000.0;

/// A transverse Mercator projection on the CGCS2000 ellipsoid, scale 1 on the central
/// meridian: the 3° Gauss-Krüger zone that Chinese surveys use.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalProjection {
    /// Central meridian in degrees (a multiple of 3 between 75 and 135 for China).
    pub central_meridian: f64,
}

struct Series {
    a_hat: f64,
    alpha: [f64; 3],
    beta: [f64; 3],
    delta: [f64; 3],
    n: f64,
}

fn series() -> Series {
    series_for(A, INV_F)
}

/// The Krüger series of an ellipsoid (semi-major axis `a`, inverse flattening `inv_f`).
fn series_for(a: f64, inv_f: f64) -> Series {
    let f = 1.0 / inv_f;
    let n = f / (2.0 - f);
    let (n2, n3) = (n * n, n * n * n);
    Series {
        a_hat: a / (1.0 + n) * (1.0 + n2 / 4.0 + n2 * n2 / 64.0),
        alpha: [
            n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0,
            13.0 * n2 / 48.0 - 3.0 * n3 / 5.0,
            61.0 * n3 / 240.0,
        ],
        beta: [
            n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0,
            n2 / 48.0 + n3 / 15.0,
            17.0 * n3 / 480.0,
        ],
        delta: [
            2.0 * n - 2.0 * n2 / 3.0 - 2.0 * n3,
            7.0 * n2 / 3.0 - 8.0 * n3 / 5.0,
            56.0 * n3 / 15.0,
        ],
        n,
    }
}

impl Series {
    /// Latitude and longitude from the central meridian (radians) → (ξ, η), in units of
    /// the rectifying radius.
    fn forward(&self, phi: f64, dl: f64) -> (f64, f64) {
        let c = 2.0 * self.n.sqrt() / (1.0 + self.n);
        let t = (phi.sin().atanh() - c * (c * phi.sin()).atanh()).sinh();
        let xi_p = t.atan2(dl.cos());
        let eta_p = (dl.sin() / (1.0 + t * t).sqrt()).atanh();
        let mut xi = xi_p;
        let mut eta = eta_p;
        for (j, a) in self.alpha.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi += a * (k * xi_p).sin() * (k * eta_p).cosh();
            eta += a * (k * xi_p).cos() * (k * eta_p).sinh();
        }
        (xi, eta)
    }

    /// (ξ, η) → (longitude from the central meridian, latitude), radians.
    fn inverse(&self, xi: f64, eta: f64) -> (f64, f64) {
        let mut xi_p = xi;
        let mut eta_p = eta;
        for (j, b) in self.beta.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            xi_p -= b * (k * xi).sin() * (k * eta).cosh();
            eta_p -= b * (k * xi).cos() * (k * eta).sinh();
        }
        let chi = (xi_p.sin() / eta_p.cosh()).asin();
        let mut phi = chi;
        for (j, d) in self.delta.iter().enumerate() {
            let k = 2.0 * (j as f64 + 1.0);
            phi += d * (k * chi).sin();
        }
        (eta_p.sinh().atan2(xi_p.cos()), phi)
    }
}

/// A transverse Mercator projection (Krüger n-series, third order: sub-millimetre within
/// the zones China uses) with its own ellipsoid, scale, central meridian and false origin:
/// the Gauss-Krüger zones of CGCS2000 (EPSG 4491–4554), UTM and others a .prj describes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransverseMercator {
    pub central_meridian: f64,
    pub scale: f64,
    pub false_easting: f64,
    pub false_northing: f64,
    /// Semi-major axis (m) and inverse flattening.
    pub a: f64,
    pub inv_f: f64,
}

impl TransverseMercator {
    /// Projected metres → lon/lat degrees on the projection's own ellipsoid.
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let s = series_for(self.a, self.inv_f);
        let xi = (y - self.false_northing) / (self.scale * s.a_hat);
        let eta = (x - self.false_easting) / (self.scale * s.a_hat);
        let (lam, phi) = s.inverse(xi, eta);
        (self.central_meridian + lam.to_degrees(), phi.to_degrees())
    }

    /// lon/lat degrees → projected metres.
    pub fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let s = series_for(self.a, self.inv_f);
        let (xi, eta) = s.forward(lat.to_radians(), (lon - self.central_meridian).to_radians());
        (
            self.false_easting + self.scale * s.a_hat * eta,
            self.false_northing + self.scale * s.a_hat * xi,
        )
    }
}

impl LocalProjection {
    /// The 3° zone whose central meridian is nearest to `lon`.
    pub fn for_longitude(lon: f64) -> Self {
        let cm = (lon / 3.0).round() * 3.0;
        LocalProjection {
            central_meridian: cm.clamp(75.0, 135.0),
        }
    }

    /// EPSG code of this zone without zone prefix (CGCS2000 / 3-degree Gauss-Kruger CM xxxE).
    pub fn epsg(&self) -> u32 {
        4534 + ((self.central_meridian - 75.0) / 3.0).round() as u32
    }

    pub fn describe(&self) -> String {
        format!(
            "CGCS2000 / 3-degree Gauss-Kruger CM {}E (EPSG:{})",
            self.central_meridian,
            self.epsg()
        )
    }

    /// WGS84/CGCS2000 lon/lat degrees → easting/northing metres.
    pub fn forward(&self, lon: f64, lat: f64) -> (f64, f64) {
        let s = series();
        let (xi, eta) = s.forward(lat.to_radians(), (lon - self.central_meridian).to_radians());
        (FALSE_EASTING + s.a_hat * eta, s.a_hat * xi)
    }

    /// Easting/northing metres → lon/lat degrees.
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let s = series();
        let (lam, phi) = s.inverse(y / s.a_hat, (x - FALSE_EASTING) / s.a_hat);
        (self.central_meridian + lam.to_degrees(), phi.to_degrees())
    }

    pub fn forward_coord(&self, c: Coord<f64>) -> Coord<f64> {
        let (x, y) = self.forward(c.x, c.y);
        Coord { x, y }
    }

    pub fn inverse_coord(&self, c: Coord<f64>) -> Coord<f64> {
        let (x, y) = self.inverse(c.x, c.y);
        Coord { x, y }
    }
}

/// The smallest rectangle holding both: how bounds of many features are folded together.
pub fn union_rect(a: geo::Rect<f64>, b: geo::Rect<f64>) -> geo::Rect<f64> {
    geo::Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

/// Great-circle distance in metres between two lon/lat points (spherical, for checks).
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = (b.0 - a.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

struct Seg {
    line: Line<f64>,
    idx: usize,
}

impl RTreeObject for Seg {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.line.start.x, self.line.start.y],
            [self.line.end.x, self.line.end.y],
        )
    }
}

/// First point where a closed ring crosses itself, if any.
///
/// geo's `Validation` compares every segment pair (O(n²)), far too slow for county rings of
/// 10k+ vertices; this uses an R-tree over the segments (O(n log n)). Touching at shared
/// vertices of neighbouring segments is not an intersection.
///
/// Most rings are valid: a sort-and-sweep over the segments' boxes first decides whether
/// any pair meets (the same pairs, the same test), and only a ring that crosses itself
/// builds the tree, whose order picks the point reported — as it always has.
pub fn ring_self_intersection(ring: &LineString<f64>) -> Option<Coord<f64>> {
    let (segs, n) = segments(ring);
    if segs.len() < 3 || any_pair_meets(&segs, n) == Some(false) {
        return None;
    }
    let tree = RTree::bulk_load(segs);
    for s in tree.iter() {
        for o in tree.locate_in_envelope_intersecting(&s.envelope()) {
            if o.idx <= s.idx {
                continue;
            }
            if let Some(p) = pair_meets(s, o, n) {
                return Some(p);
            }
        }
    }
    None
}

/// A ring's segments of non-zero length, numbered by position, and how many it has in all.
fn segments(ring: &LineString<f64>) -> (Vec<Seg>, usize) {
    let segs = ring
        .lines()
        .enumerate()
        .filter(|(_, l)| l.start != l.end)
        .map(|(idx, line)| Seg { line, idx })
        .collect();
    (segs, ring.0.len().saturating_sub(1))
}

/// Where segments `s` and `o` (`s.idx < o.idx`, of a ring of `n` segments) meet in a way
/// that makes the ring invalid: neighbours may share their common vertex, nothing else.
fn pair_meets(s: &Seg, o: &Seg, n: usize) -> Option<Coord<f64>> {
    use geo::line_intersection::{line_intersection, LineIntersection};
    let adjacent = o.idx == s.idx + 1 || (s.idx == 0 && o.idx + 1 == n);
    match line_intersection(s.line, o.line) {
        Some(LineIntersection::SinglePoint {
            intersection,
            is_proper,
        }) => {
            if adjacent && !is_proper {
                return None;
            }
            // Two non-adjacent segments touching at a vertex: a pinch, also invalid.
            Some(intersection)
        }
        Some(LineIntersection::Collinear { intersection }) => Some(intersection.start),
        None => None,
    }
}

/// Whether any two segments whose closed boxes meet (the pairs the R-tree query yields)
/// meet by [`pair_meets`]: segments sorted by their boxes' west edge, each compared with
/// those that start before its east edge. `None` when that is more than 32 comparisons a
/// segment (a ring whose segments overlap in x, e.g. a north–south strip): the tree then
/// decides, so no ring costs quadratic time.
fn any_pair_meets(segs: &[Seg], n: usize) -> Option<bool> {
    let mut budget = 32 * segs.len();
    let mut boxes: Vec<(AABB<[f64; 2]>, &Seg)> = segs.iter().map(|s| (s.envelope(), s)).collect();
    boxes.sort_unstable_by(|a, b| a.0.lower()[0].total_cmp(&b.0.lower()[0]));
    for (i, (a, s)) in boxes.iter().enumerate() {
        for (b, o) in &boxes[i + 1..] {
            if b.lower()[0] > a.upper()[0] {
                break;
            }
            budget = budget.checked_sub(1)?;
            if b.lower()[1] > a.upper()[1] || a.lower()[1] > b.upper()[1] {
                continue;
            }
            let (s, o) = if s.idx < o.idx { (*s, *o) } else { (*o, *s) };
            if pair_meets(s, o, n).is_some() {
                return Some(true);
            }
        }
    }
    Some(false)
}

/// Problems of a polygon that a planner must hear about. Empty rings are removed by the
/// caller; this reports what is left.
pub fn polygon_problems(poly: &Polygon<f64>) -> Vec<crate::texts::Said> {
    use crate::texts::Said;
    let mut out = Vec::new();
    if poly.exterior().0.len() < 4 {
        out.push(Said::new(
            "polygon ring has fewer than 3 distinct vertices",
            "多边形环少于 3 个不同顶点",
        ));
        return out;
    }
    if let Some(p) = ring_self_intersection(poly.exterior()) {
        out.push(Said::new(
            format!("self-intersecting outer ring near ({:.6}, {:.6})", p.x, p.y),
            format!("外环自相交，位置约 ({:.6}, {:.6})", p.x, p.y),
        ));
    }
    for (i, hole) in poly.interiors().iter().enumerate() {
        if let Some(p) = ring_self_intersection(hole) {
            out.push(Said::new(
                format!("self-intersecting hole {i} near ({:.6}, {:.6})", p.x, p.y),
                format!("第 {i} 个内环（洞）自相交，位置约 ({:.6}, {:.6})", p.x, p.y),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_choice() {
        assert_eq!(LocalProjection::for_longitude(126.6).epsg(), 4551);
        assert_eq!(
            LocalProjection::for_longitude(127.6).central_meridian,
            129.0
        );
        assert_eq!(LocalProjection::for_longitude(75.0).epsg(), 4534);
        assert_eq!(LocalProjection::for_longitude(135.0).epsg(), 4554);
    }

    #[test]
    fn central_meridian_is_false_easting_and_equator_is_zero() {
        let p = LocalProjection {
            central_meridian: 126.0,
        };
        let (x, y) = p.forward(126.0, 0.0);
        assert!((x - 500_000.0).abs() < 1e-6 && y.abs() < 1e-6);
        // Meridian arc length from equator to 45°N on GRS80 is 4,984,944.378 m.
        let (_, y45) = p.forward(126.0, 45.0);
        assert!((y45 - 4_984_944.378).abs() < 0.01, "{y45}");
    }

    #[test]
    fn round_trip_sub_millimetre() {
        let p = LocalProjection {
            central_meridian: 126.0,
        };
        for &(lon, lat) in &[(124.5, 44.0), (127.5, 53.5), (126.2, 45.7)] {
            let (x, y) = p.forward(lon, lat);
            let (lo, la) = p.inverse(x, y);
            assert!(haversine_m((lon, lat), (lo, la)) < 1e-3);
        }
    }

    #[test]
    fn bowtie_is_self_intersecting_square_is_not() {
        let bow = LineString::from(vec![(0., 0.), (1., 1.), (1., 0.), (0., 1.), (0., 0.)]);
        let p = ring_self_intersection(&bow).expect("bow-tie crosses");
        assert!((p.x - 0.5).abs() < 1e-12 && (p.y - 0.5).abs() < 1e-12);
        let sq = LineString::from(vec![(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)]);
        assert!(ring_self_intersection(&sq).is_none());
    }

    /// The sweep's yes/no equals the R-tree's over every pair, so the answer (and the point
    /// reported) is the tree's: valid stars, random walks that cross, pinches, doubled-back
    /// edges, and north–south strips that run the sweep past its budget.
    #[test]
    fn sweep_decides_as_the_tree_does() {
        let tree_only = |ring: &LineString<f64>| -> Option<Coord<f64>> {
            let (segs, n) = segments(ring);
            if segs.len() < 3 {
                return None;
            }
            let tree = RTree::bulk_load(segs);
            for s in tree.iter() {
                for o in tree.locate_in_envelope_intersecting(&s.envelope()) {
                    if o.idx > s.idx {
                        if let Some(p) = pair_meets(s, o, n) {
                            return Some(p);
                        }
                    }
                }
            }
            None
        };
        let mut rnd = crate::testkit::xorshift(5);
        let (mut crossing, mut valid) = (0, 0);
        for case in 0..400 {
            let n = 3 + (rnd() * [10.0, 60.0, 400.0][case % 3]) as usize;
            let mut pts: Vec<(f64, f64)> = match case % 4 {
                // A star: valid unless rounding folds it.
                0 => (0..n)
                    .map(|i| {
                        let a = i as f64 / n as f64 * std::f64::consts::TAU;
                        let r = 50.0 + 50.0 * rnd();
                        ((r * a.cos()).round(), (r * a.sin()).round())
                    })
                    .collect(),
                // A random walk on a lattice: crosses, touches and doubles back.
                1 => {
                    let mut p = (0.0, 0.0);
                    (0..n)
                        .map(|_| {
                            p.0 += (rnd() * 7.0).floor() - 3.0;
                            p.1 += (rnd() * 7.0).floor() - 3.0;
                            p
                        })
                        .collect()
                }
                // A north–south strip one metre wide: every segment overlaps in x.
                2 => {
                    let h = n / 2 + 2;
                    let mut v: Vec<(f64, f64)> = (0..h).map(|i| (0.0, i as f64)).collect();
                    v.extend((0..h).rev().map(|i| (1.0, i as f64)));
                    if case % 8 == 2 {
                        // A notch that crosses the other side.
                        v[h / 2].0 = 2.0;
                    }
                    v
                }
                // A star with one vertex pulled onto another: a pinch.
                _ => {
                    let mut v: Vec<(f64, f64)> = (0..n.max(6))
                        .map(|i| {
                            let a = i as f64 / n.max(6) as f64 * std::f64::consts::TAU;
                            ((80.0 * a.cos()).round(), (80.0 * a.sin()).round())
                        })
                        .collect();
                    let k = v.len() / 2;
                    v[k] = (0.0, 0.0);
                    v[0] = (0.0, 0.0);
                    v
                }
            };
            pts.push(pts[0]);
            let ring = LineString::from(pts);
            let want = tree_only(&ring);
            assert_eq!(ring_self_intersection(&ring), want, "case {case}");
            if want.is_some() {
                crossing += 1;
            } else {
                valid += 1;
            }
        }
        assert!(
            crossing > 100 && valid > 100,
            "{crossing} crossing, {valid} valid"
        );
    }
}
