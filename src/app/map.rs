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
pub const LODS: [f64; 5] = [0.0, 20.0, 100.0, 400.0, 1500.0];

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
        let lods: Vec<Vec<UnitLod>> = ds
            .units
            .iter()
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
        for u in visible {
            let Some(col) = color(*u) else { continue };
            let Some(l) = self.lods[u.index()].get(lod) else {
                continue;
            };
            let base = mesh.vertices.len() as u32;
            mesh.vertices.reserve(l.fill_vertices.len());
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
            for ring in &l.rings {
                let pts = screen_path(view, rect, ring);
                if pts.len() >= 3 {
                    out.push(Shape::closed_line(pts, s));
                }
            }
        }
    }
}

/// A ring in screen points, dropping points that land on the previous one's pixel and the
/// tips of spikes (see [`drop_spikes`]).
fn screen_path(view: View, rect: Rect, ring: &[[f64; 2]]) -> Vec<Pos2> {
    let mut pts: Vec<Pos2> = Vec::with_capacity(ring.len());
    for v in ring {
        let p = view.to_screen(rect, v[0], v[1]);
        if pts.last().is_none_or(|q| !same_pixel(*q, p)) {
            pts.push(p);
        }
    }
    drop_spikes(&mut pts);
    pts
}

fn same_pixel(a: Pos2, b: Pos2) -> bool {
    (a.x - b.x).abs() < 0.5 && (a.y - b.y).abs() < 0.5
}

/// The line turns back on itself at `b` (by more than ~170°), or does not move.
fn is_spike(a: Pos2, b: Pos2, c: Pos2) -> bool {
    let (u, v) = (b - a, c - b);
    let (lu, lv) = (u.length(), v.length());
    lu == 0.0 || lv == 0.0 || u.dot(v) < -0.985 * lu * lv
}

/// Removes the tips of spikes from a closed ring of screen points. egui mitres a corner
/// that turns back on itself out to a line as long as the turn is sharp — across the whole
/// map for a needle a boundary's digitising or a clip left behind (seen on the province's
/// real county outlines as a starburst). The fill still shows the needle; only its
/// outline's tip goes.
fn drop_spikes(pts: &mut Vec<Pos2>) {
    let mut out: Vec<Pos2> = Vec::with_capacity(pts.len());
    for &p in pts.iter() {
        out.push(p);
        while out.len() >= 3 && is_spike(out[out.len() - 3], out[out.len() - 2], p) {
            out.remove(out.len() - 2);
        }
    }
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
    *pts = out;
}

/// Dots for many points (demand, uncovered people) as one mesh of small squares, at most one
/// per screen pixel: 100,000 points cost what the screen can show, not what the data has.
pub fn dot_mesh(view: View, rect: Rect, points: &[[f64; 2]], radius: f32, color: Color32) -> Mesh {
    let (a, b) = view.world_box(rect);
    let w = rect.width().ceil() as usize + 1;
    let h = rect.height().ceil() as usize + 1;
    let mut seen = vec![0u64; (w * h).div_ceil(64)];
    let mut mesh = Mesh::default();
    for p in points {
        if p[0] < a[0] || p[0] > b[0] || p[1] < a[1] || p[1] > b[1] {
            continue;
        }
        let s = view.to_screen(rect, p[0], p[1]);
        let (px, py) = ((s.x - rect.left()) as usize, (s.y - rect.top()) as usize);
        if px >= w || py >= h {
            continue;
        }
        let k = py * w + px;
        if seen[k / 64] & (1 << (k % 64)) != 0 {
            continue;
        }
        seen[k / 64] |= 1 << (k % 64);
        mesh.add_colored_rect(
            Rect::from_center_size(s, egui::Vec2::splat(radius * 2.0)),
            color,
        );
    }
    mesh
}

/// Everything the map draws in one frame, as shapes: the painting code the frame benchmark
/// times (fills, outlines, dots), without the widgets around it.
pub fn paint_units_and_dots(
    cache: &MapCache,
    view: View,
    rect: Rect,
    fill: impl Fn(UnitId) -> Option<Color32>,
    stroke: impl Fn(UnitId) -> Option<Stroke>,
    dots: &[[f64; 2]],
) -> Vec<Shape> {
    let visible = cache.visible(view, rect);
    let mut shapes = vec![Shape::mesh(cache.fill_mesh(view, rect, &visible, fill))];
    cache.outlines(view, rect, &visible, stroke, &mut shapes);
    shapes.push(Shape::mesh(dot_mesh(
        view,
        rect,
        dots,
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
        assert_eq!(v(0.001).lod(), 3); // 500 m
        assert_eq!(v(0.0001).lod(), 4);
    }

    #[test]
    fn dots_are_one_per_pixel() {
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(100.0, 100.0));
        let view = View {
            center: [0.0, 0.0],
            scale: 1.0,
        };
        // 1,000 points on the same pixel, 1 elsewhere, 1 off screen.
        let mut pts = vec![[0.1, 0.1]; 1000];
        pts.push([20.0, 20.0]);
        pts.push([500.0, 0.0]);
        let m = dot_mesh(view, rect, &pts, 1.0, Color32::RED);
        assert_eq!(m.vertices.len(), 2 * 4);
    }
}
