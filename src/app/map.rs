//! Map geometry prepared once per dataset and painted per frame (walkers' habits): unit
//! outlines and earcut fill meshes at several levels of detail (Ramer–Douglas–Peucker
//! tolerances in metres), an R-tree of unit boxes for viewport culling, and point layers
//! thinned to one dot per screen pixel. Per frame only visible units are transformed,
//! using the coarsest detail whose tolerance stays under half a pixel.

use egui::{Color32, Mesh, Pos2, Rect, Shape, Stroke};
use geo::{BoundingRect, Simplify, TriangulateEarcut};
use rstar::{RTree, RTreeObject, AABB};

use crate::model::{Dataset, UnitId};

/// Simplification tolerances, metres (0 = full detail).
/// Steps of at most 4× (a 5× step from 100 to 400 m drew a province view at a third of a
/// pixel's detail: 100k outline points where 40k show the same).
pub const LODS: [f64; 6] = [0.0, 20.0, 100.0, 200.0, 400.0, 1500.0];

/// Local metres ↔ screen points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub center: [f64; 2],
    /// Screen points per metre.
    pub scale: f64,
}

impl View {
    pub fn to_screen(self, rect: Rect, x: f64, y: f64) -> Pos2 {
        let c = rect.center();
        Pos2::new(
            c.x + ((x - self.center[0]) * self.scale) as f32,
            c.y - ((y - self.center[1]) * self.scale) as f32,
        )
    }
    pub fn to_world(self, rect: Rect, p: Pos2) -> [f64; 2] {
        [
            self.center[0] + (p.x - rect.center().x) as f64 / self.scale,
            self.center[1] - (p.y - rect.center().y) as f64 / self.scale,
        ]
    }
    /// The world box on screen: (min, max).
    pub fn world_box(self, rect: Rect) -> ([f64; 2], [f64; 2]) {
        let hw = rect.width() as f64 / 2.0 / self.scale;
        let hh = rect.height() as f64 / 2.0 / self.scale;
        (
            [self.center[0] - hw, self.center[1] - hh],
            [self.center[0] + hw, self.center[1] + hh],
        )
    }
    /// The detail level for this scale: the coarsest whose tolerance is under half a pixel.
    pub fn lod(self) -> usize {
        let half_px = 0.5 / self.scale;
        LODS.iter().rposition(|t| *t <= half_px).unwrap_or(0)
    }
}

/// One unit's shape at one level of detail: rings for outlines, an indexed fill mesh.
#[derive(Clone, Debug, Default)]
pub struct UnitLod {
    pub rings: Vec<Vec<[f64; 2]>>,
    /// Each ring's larger bounding-box side, metres: small rings are skipped before their
    /// points are transformed.
    pub ring_size: Vec<f64>,
    pub fill_vertices: Vec<[f64; 2]>,
    pub fill_indices: Vec<u32>,
}

/// A unit's box in the R-tree.
#[derive(Clone, Debug)]
struct UnitBox {
    unit: UnitId,
    env: AABB<[f64; 2]>,
}

impl RTreeObject for UnitBox {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

/// Everything the map paints from, prepared off the UI thread when a dataset loads.
pub struct MapCache {
    /// Indexed by unit; `lods[u][k]` is unit `u` at tolerance `LODS[k]` (empty: no shape).
    pub lods: Vec<Vec<UnitLod>>,
    tree: RTree<UnitBox>,
}

impl MapCache {
    pub fn new(ds: &Dataset) -> Self {
        use rayon::prelude::*;
        // Unit by unit on every core (a province has 15,614, each simplified six times).
        let lods: Vec<Vec<UnitLod>> = ds
            .units
            .par_iter()
            .map(|u| {
                let Some(g) = &u.geometry else {
                    return Vec::new();
                };
                LODS.iter()
                    .map(|tol| {
                        let g = if *tol > 0.0 {
                            g.simplify(*tol)
                        } else {
                            g.clone()
                        };
                        let mut lod = UnitLod::default();
                        for poly in &g.0 {
                            if poly.exterior().0.len() < 4 {
                                continue;
                            }
                            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                                lod.rings.push(ring.0.iter().map(|c| [c.x, c.y]).collect());
                                lod.ring_size.push(
                                    ring.bounding_rect()
                                        .map_or(0.0, |r| r.width().max(r.height())),
                                );
                            }
                            let raw = poly.earcut_triangles_raw();
                            let base = lod.fill_vertices.len() as u32;
                            lod.fill_vertices.extend(raw.vertices.iter().copied());
                            lod.fill_indices
                                .extend(raw.triangle_indices.iter().map(|i| base + *i as u32));
                        }
                        lod
                    })
                    .collect()
            })
            .collect();
        let boxes: Vec<UnitBox> = ds
            .units
            .iter()
            .filter_map(|u| {
                let b = u.geometry.as_ref()?.bounding_rect()?;
                Some(UnitBox {
                    unit: u.id,
                    env: AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                })
            })
            .collect();
        Self {
            lods,
            tree: RTree::bulk_load(boxes),
        }
    }

    /// Units whose box meets the view.
    pub fn visible(&self, view: View, rect: Rect) -> Vec<UnitId> {
        let (a, b) = view.world_box(rect);
        let mut v: Vec<UnitId> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_corners(a, b))
            .map(|b| b.unit)
            .collect();
        v.sort_unstable();
        v
    }

    /// One mesh of the visible units' fills, coloured by `color` (None: not drawn).
    pub fn fill_mesh(
        &self,
        view: View,
        rect: Rect,
        visible: &[UnitId],
        color: impl Fn(UnitId) -> Option<Color32>,
    ) -> Mesh {
        let lod = view.lod();
        let mut mesh = Mesh::default();
        let c = rect.center();
        let drawn: Vec<(&UnitLod, Color32)> = visible
            .iter()
            .filter_map(|u| Some((self.lods[u.index()].get(lod)?, color(*u)?)))
            .collect();
        // Sized once: growing a frame's 200k vertices by doubling copied them over again.
        mesh.vertices
            .reserve_exact(drawn.iter().map(|(l, _)| l.fill_vertices.len()).sum());
        mesh.indices
            .reserve_exact(drawn.iter().map(|(l, _)| l.fill_indices.len()).sum());
        for (l, col) in drawn {
            let base = mesh.vertices.len() as u32;
            for v in &l.fill_vertices {
                mesh.vertices.push(egui::epaint::Vertex {
                    pos: Pos2::new(
                        c.x + ((v[0] - view.center[0]) * view.scale) as f32,
                        c.y - ((v[1] - view.center[1]) * view.scale) as f32,
                    ),
                    uv: egui::epaint::WHITE_UV,
                    color: col,
                });
            }
            mesh.indices.extend(l.fill_indices.iter().map(|i| base + i));
        }
        mesh
    }

    /// Outline shapes of the visible units, with a stroke per unit (None: not drawn).
    pub fn outlines(
        &self,
        view: View,
        rect: Rect,
        visible: &[UnitId],
        stroke: impl Fn(UnitId) -> Option<Stroke>,
        out: &mut Vec<Shape>,
    ) {
        let lod = view.lod();
        for u in visible {
            let Some(s) = stroke(*u) else { continue };
            let Some(l) = self.lods[u.index()].get(lod) else {
                continue;
            };
            for (ring, size) in l.rings.iter().zip(&l.ring_size) {
                if size * view.scale < MIN_OUTLINE_PX {
                    continue;
                }
                let pts = screen_path(view, rect, ring);
                if pts.len() >= 3 {
                    out.push(Shape::closed_line(pts, s));
                }
            }
        }
    }
}

/// A ring in screen points, dropping points within a pixel of the previous one and the
/// tips of spikes (see [`drop_spikes`]).
fn screen_path(view: View, rect: Rect, ring: &[[f64; 2]]) -> Vec<Pos2> {
    let mut pts: Vec<Pos2> = Vec::with_capacity(ring.len());
    for v in ring {
        let p = view.to_screen(rect, v[0], v[1]);
        // Within a pixel of the last point kept: the 1-px stroke cannot show it (QGIS's
        // default simplification threshold too), and each point costs the tessellator.
        if pts.last().is_none_or(|q| (*q - p).length_sq() >= 1.0) {
            pts.push(p);
        }
    }
    drop_spikes(&mut pts);
    pts
}

/// Rings narrower than this on screen are not outlined: the province's 13,808 committees at
/// full extent would be a grey carpet of 8-pixel loops (and most of a frame's tessellation);
/// their fills still show, and the outlines come back as the map zooms in.
const MIN_OUTLINE_PX: f64 = 16.0;

fn same_pixel(a: Pos2, b: Pos2) -> bool {
    (a.x - b.x).abs() < 0.5 && (a.y - b.y).abs() < 0.5
}

/// The line turns back on itself at `b` (by more than ~170°), or does not move. Squared
/// lengths: a frame tests every outline point, and two square roots each were a tenth of
/// the province's widest frames.
fn is_spike(a: Pos2, b: Pos2, c: Pos2) -> bool {
    let (u, v) = (b - a, c - b);
    let (lu2, lv2) = (u.length_sq(), v.length_sq());
    let dot = u.dot(v);
    lu2 == 0.0 || lv2 == 0.0 || (dot < 0.0 && dot * dot > 0.985 * 0.985 * lu2 * lv2)
}

/// Removes the tips of spikes from a closed ring of screen points. egui mitres a corner
/// that turns back on itself out to a line as long as the turn is sharp — across the whole
/// map for a needle a boundary's digitising or a clip left behind (seen on the province's
/// real county outlines as a starburst). The fill still shows the needle; only its
/// outline's tip goes.
fn drop_spikes(pts: &mut Vec<Pos2>) {
    // In place: the kept points `pts[..n]` never pass the one being read.
    let mut n = 0;
    for i in 0..pts.len() {
        let p = pts[i];
        pts[n] = p;
        n += 1;
        while n >= 3 && is_spike(pts[n - 3], pts[n - 2], p) {
            pts[n - 2] = p;
            n -= 1;
        }
    }
    pts.truncate(n);
    let out = pts;
    // The closing corners: the ring's last point back to its first.
    if out.len() >= 2 && same_pixel(out[0], out[out.len() - 1]) {
        out.pop();
    }
    loop {
        let n = out.len();
        if n >= 3 && is_spike(out[n - 2], out[n - 1], out[0]) {
            out.pop();
        } else if n >= 3 && is_spike(out[n - 1], out[0], out[1]) {
            out.remove(0);
        } else {
            break;
        }
    }
}

/// Many points (demand, uncovered people) as a density raster: the points are counted per
/// square cell of `2 × radius` screen pixels and each occupied cell is one square, more
/// opaque the more points it holds (one point 35 %, each doubling +20 %, full from nine).
/// One pass over the points and one over the occupied cells: a million points cost what
/// the screen can show, and a dense town reads darker than scattered farms.
pub fn dot_mesh(view: View, rect: Rect, points: &[[f64; 2]], radius: f32, color: Color32) -> Mesh {
    let (a, b) = view.world_box(rect);
    let cell = (2.0 * radius).max(1.0);
    let w = (rect.width() / cell).ceil() as usize + 1;
    let h = (rect.height() / cell).ceil() as usize + 1;
    let mut counts = vec![0u32; w * h];
    let mut occupied: Vec<u32> = Vec::new();
    for p in points {
        if p[0] < a[0] || p[0] > b[0] || p[1] < a[1] || p[1] > b[1] {
            continue;
        }
        let s = view.to_screen(rect, p[0], p[1]);
        let (cx, cy) = (s.x - rect.left(), s.y - rect.top());
        if cx < 0.0 || cy < 0.0 {
            continue;
        }
        let (cx, cy) = ((cx / cell) as usize, (cy / cell) as usize);
        if cx >= w || cy >= h {
            continue;
        }
        let k = cy * w + cx;
        if counts[k] == 0 {
            occupied.push(k as u32);
        }
        counts[k] += 1;
    }
    let mut mesh = Mesh::default();
    for k in occupied {
        let n = counts[k as usize];
        let opacity = (0.35 + 0.2 * (n as f32).log2()).min(1.0);
        let (cx, cy) = ((k as usize % w) as f32, (k as usize / w) as f32);
        let min = Pos2::new(rect.left() + cx * cell, rect.top() + cy * cell);
        mesh.add_colored_rect(
            Rect::from_min_size(min, egui::Vec2::splat(cell)),
            color.gamma_multiply(opacity),
        );
    }
    mesh
}

/// Points counted once on square world grids of 25 m × 2^k (k = 0 … 12, up to 102 km), so
/// a frame draws the occupied cells of the level whose cell is one dot wide instead of
/// visiting every point: a province's million demand points cost the cells on screen
/// (tens of thousands at full extent), not a million transforms per frame.
#[derive(Clone, Debug, Default)]
pub struct DotPyramid {
    /// Per level, the occupied cells sorted by (ix, iy), with their point counts.
    levels: Vec<Vec<(i32, i32, u32)>>,
}

/// The finest cell of a [`DotPyramid`], metres.
const PYRAMID_BASE_M: f64 = 25.0;
const PYRAMID_LEVELS: usize = 13;

impl DotPyramid {
    pub fn new(points: &[[f64; 2]]) -> Self {
        let mut cells: Vec<(i32, i32, u32)> = points
            .iter()
            .map(|p| {
                (
                    (p[0] / PYRAMID_BASE_M).floor() as i32,
                    (p[1] / PYRAMID_BASE_M).floor() as i32,
                    1,
                )
            })
            .collect();
        let merge = |mut v: Vec<(i32, i32, u32)>| {
            v.sort_unstable_by_key(|c| (c.0, c.1));
            let mut out: Vec<(i32, i32, u32)> = Vec::with_capacity(v.len());
            for c in v {
                match out.last_mut() {
                    Some(l) if l.0 == c.0 && l.1 == c.1 => l.2 += c.2,
                    _ => out.push(c),
                }
            }
            out
        };
        let mut levels = Vec::with_capacity(PYRAMID_LEVELS);
        for _ in 0..PYRAMID_LEVELS {
            cells = merge(cells);
            // The next level up: each cell into its parent (an arithmetic shift floors
            // negative indices too).
            let up = cells.iter().map(|c| (c.0 >> 1, c.1 >> 1, c.2)).collect();
            levels.push(std::mem::replace(&mut cells, up));
        }
        DotPyramid { levels }
    }

    /// The raster for `view`: the level whose cell is at most `2 × radius` screen points
    /// (the finest when even that is larger), each occupied cell in view one square, more
    /// opaque the more points it holds (as [`dot_mesh`]).
    pub fn mesh(&self, view: View, rect: Rect, radius: f32, color: Color32) -> Mesh {
        let mut mesh = Mesh::default();
        if self.levels.is_empty() {
            return mesh;
        }
        let want = (2.0 * radius).max(1.0) as f64 / view.scale;
        let mut k = 0;
        while k + 1 < self.levels.len() && PYRAMID_BASE_M * f64::powi(2.0, k as i32 + 1) <= want {
            k += 1;
        }
        let size = PYRAMID_BASE_M * f64::powi(2.0, k as i32);
        let (a, b) = view.world_box(rect);
        let (ix0, ix1) = ((a[0] / size).floor() as i32, (b[0] / size).floor() as i32);
        let (iy0, iy1) = ((a[1] / size).floor() as i32, (b[1] / size).floor() as i32);
        let cells = &self.levels[k];
        let start = cells.partition_point(|c| c.0 < ix0);
        for c in &cells[start..] {
            if c.0 > ix1 {
                break;
            }
            if c.1 < iy0 || c.1 > iy1 {
                continue;
            }
            let opacity = (0.35 + 0.2 * (c.2 as f32).log2()).min(1.0);
            let lo = view.to_screen(rect, c.0 as f64 * size, c.1 as f64 * size);
            let hi = view.to_screen(rect, (c.0 + 1) as f64 * size, (c.1 + 1) as f64 * size);
            // At least a dot's size when zoomed in past the finest cell.
            let r = Rect::from_two_pos(lo, hi);
            let r =
                Rect::from_center_size(r.center(), r.size().max(egui::Vec2::splat(2.0 * radius)));
            mesh.add_colored_rect(r, color.gamma_multiply(opacity));
        }
        mesh
    }
}

/// Everything the map draws in one frame, as shapes: the painting code the frame benchmark
/// times (fills, outlines, dots), without the widgets around it.
pub fn paint_units_and_dots(
    cache: &MapCache,
    view: View,
    rect: Rect,
    fill: impl Fn(UnitId) -> Option<Color32>,
    stroke: impl Fn(UnitId) -> Option<Stroke>,
    dots: &DotPyramid,
) -> Vec<Shape> {
    let visible = cache.visible(view, rect);
    let mut shapes = vec![Shape::mesh(cache.fill_mesh(view, rect, &visible, fill))];
    cache.outlines(view, rect, &visible, stroke, &mut shapes);
    shapes.push(Shape::mesh(dots.mesh(
        view,
        rect,
        1.2,
        Color32::from_rgb(200, 40, 40),
    )));
    shapes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_lose_their_tips_and_nothing_else() {
        let p = |x: f32, y: f32| Pos2::new(x, y);
        let square = vec![p(0.0, 0.0), p(10.0, 0.0), p(10.0, 10.0), p(0.0, 10.0)];
        let mut s = square.clone();
        drop_spikes(&mut s);
        assert_eq!(s, square);
        // A needle out of the right side (to x = 300 and straight back), and one at the
        // ring's closing corner (out to y = -200 from the first point and back).
        let mut s = vec![
            p(0.0, 0.0),
            p(10.0, 0.0),
            p(10.0, 5.0),
            p(300.0, 5.2),
            p(10.0, 5.4),
            p(10.0, 10.0),
            p(0.0, 10.0),
            p(0.0, 0.2),
            p(0.1, -200.0),
        ];
        drop_spikes(&mut s);
        assert!(s.iter().all(|q| q.x <= 10.0 && q.y >= 0.0), "{s:?}");
        assert!(
            s.contains(&p(10.0, 10.0)) && s.contains(&p(0.0, 10.0)),
            "{s:?}"
        );
    }

    #[test]
    fn lod_follows_scale() {
        let v = |scale| View {
            center: [0.0, 0.0],
            scale,
        };
        assert_eq!(v(1.0).lod(), 0); // 0.5 m per half pixel: full detail
        assert_eq!(v(0.02).lod(), 1); // 25 m
        assert_eq!(v(0.003).lod(), 2); // 167 m
        assert_eq!(v(0.002).lod(), 3); // 250 m
        assert_eq!(v(0.001).lod(), 4); // 500 m
        assert_eq!(v(0.0001).lod(), 5);
    }

    #[test]
    fn dots_are_one_per_cell_and_denser_cells_darker() {
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(100.0, 100.0));
        let view = View {
            center: [0.0, 0.0],
            scale: 1.0,
        };
        // 1,000 points in one cell, 1 elsewhere, 1 off screen; cells of 2 px.
        let mut pts = vec![[0.1, 0.1]; 1000];
        pts.push([20.0, 20.0]);
        pts.push([500.0, 0.0]);
        let m = dot_mesh(view, rect, &pts, 1.0, Color32::RED);
        assert_eq!(m.vertices.len(), 2 * 4);
        let alpha = |i: usize| m.vertices[i * 4].color.a();
        // The crowded cell is fully opaque, the lone point at 35 %.
        assert_eq!(alpha(0), 255);
        assert!(
            (alpha(1) as f32 - 0.35 * 255.0).abs() <= 2.0,
            "{}",
            alpha(1)
        );
        // Each square covers its whole cell.
        let xs: Vec<f32> = m.vertices[..4].iter().map(|v| v.pos.x).collect();
        let span = xs.iter().cloned().fold(f32::MIN, f32::max)
            - xs.iter().cloned().fold(f32::MAX, f32::min);
        assert_eq!(span, 2.0);
    }

    #[test]
    fn the_pyramid_counts_every_point_once_per_level_and_draws_the_cells_in_view() {
        let mut rnd = crate::testkit::xorshift(3);
        let pts: Vec<[f64; 2]> = (0..5_000)
            .map(|_| [rnd() * 40_000.0 - 20_000.0, rnd() * 40_000.0 - 20_000.0])
            .collect();
        let p = DotPyramid::new(&pts);
        for level in &p.levels {
            assert_eq!(level.iter().map(|c| c.2 as usize).sum::<usize>(), pts.len());
            assert!(level
                .windows(2)
                .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        }
        // 1 point per metre: cells of 2 px = 2 m → level 0 (25 m); every occupied cell in
        // the 100 m × 100 m view is drawn, and only those.
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(100.0, 100.0));
        let view = View {
            center: [0.0, 0.0],
            scale: 1.0,
        };
        let m = p.mesh(view, rect, 1.0, Color32::RED);
        let inside = p.levels[0]
            .iter()
            .filter(|c| (-2..=2).contains(&c.0) && (-2..=2).contains(&c.1))
            .count();
        assert_eq!(m.vertices.len(), 4 * inside);
        // Zoomed out to 0.001 px/m, 2 px = 2 km: the 1.6 km level (k = 6).
        let view = View {
            center: [0.0, 0.0],
            scale: 0.001,
        };
        let m = p.mesh(view, rect, 1.0, Color32::RED);
        assert_eq!(m.vertices.len(), 4 * p.levels[6].len());
    }
}
