//! Walking catchments as areas: the streets reached within a limit, buffered and dissolved
//! into polygons for display and export.

use super::{Graph, Labels, Snap};

impl Graph {
    /// The area within `limit` metres of walking from the sources, as polygons for display
    /// and export: every reached stretch of street, sampled every half cell, buffered by
    /// `buffer` metres on a `cell`-metre raster, and the raster's row runs dissolved into
    /// one MultiPolygon (local metres).
    pub fn band_polygon(
        &self,
        l: &Labels,
        limit: f64,
        buffer: f64,
        cell: f64,
    ) -> geo::MultiPolygon<f64> {
        let cell = if cell.is_finite() && cell > 0.0 {
            cell
        } else {
            DEFAULT_CELL_M
        };
        // Extent: reached nodes and on-edge sources, grown by the buffer.
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut grow = |p: [f64; 2]| {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        };
        let mut edges: Vec<usize> = Vec::new();
        for (k, e) in self.edges.iter().enumerate() {
            let (ca, cb) = (l.cost[e.a.0 as usize], l.cost[e.b.0 as usize]);
            if ca <= limit || cb <= limit || l.on_edge.contains_key(&(k as u32)) {
                edges.push(k);
                for p in &e.geometry {
                    grow(*p);
                }
            }
        }
        if edges.is_empty() {
            return geo::MultiPolygon(Vec::new());
        }
        // Never allocate an unbounded raster (a 0.01 m cell on a city asked for a terabyte):
        // past MAX_BAND_CELLS the cell is coarsened. Front ends refuse such cells up front.
        let (w, h) = (x1 - x0 + 2.0 * buffer + cell, y1 - y0 + 2.0 * buffer + cell);
        let cells = (w / cell) * (h / cell);
        let cell = if cells > MAX_BAND_CELLS {
            cell * (cells / MAX_BAND_CELLS).sqrt()
        } else {
            cell
        };
        let gx = ((x0 - buffer) / cell).floor() as i64;
        let gy = ((y0 - buffer) / cell).floor() as i64;
        let nx = (((x1 + buffer) / cell).ceil() as i64 - gx + 1) as usize;
        let ny = (((y1 + buffer) / cell).ceil() as i64 - gy + 1) as usize;
        let mut on = vec![false; nx * ny];
        let r_cells = (buffer / cell).ceil() as i64;
        let step = cell.min(buffer).max(0.5);
        for k in edges {
            let e = &self.edges[k];
            let (ca, cb) = (l.cost[e.a.0 as usize], l.cost[e.b.0 as usize]);
            let on_e = l.on_edge.get(&(k as u32));
            let cost_at = |t: f64| {
                let mut c = (ca + t).min(cb + e.length - t);
                if let Some(v) = on_e {
                    for &(_, along, off) in v {
                        c = c.min(off + (along - t).abs());
                    }
                }
                c
            };
            let mut along = 0.0;
            for w in e.geometry.windows(2) {
                let (a, b) = (w[0], w[1]);
                let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
                let n = (len / step).ceil().max(1.0) as usize;
                for i in 0..=n {
                    let f = i as f64 / n as f64;
                    if cost_at(along + f * len) > limit {
                        continue;
                    }
                    let (x, y) = (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]));
                    let (ci, cj) = (
                        (x / cell).floor() as i64 - gx,
                        (y / cell).floor() as i64 - gy,
                    );
                    for dj in -r_cells..=r_cells {
                        for di in -r_cells..=r_cells {
                            let (i, j) = (ci + di, cj + dj);
                            if i < 0 || j < 0 || i >= nx as i64 || j >= ny as i64 {
                                continue;
                            }
                            let cx = (i + gx) as f64 * cell + cell / 2.0;
                            let cy = (j + gy) as f64 * cell + cell / 2.0;
                            if (cx - x).powi(2) + (cy - y).powi(2) <= buffer * buffer {
                                on[j as usize * nx + i as usize] = true;
                            }
                        }
                    }
                }
                along += len;
            }
        }
        // Row runs → rectangles → one dissolved MultiPolygon.
        let mut rects: Vec<geo::Polygon<f64>> = Vec::new();
        for j in 0..ny {
            let row = &on[j * nx..(j + 1) * nx];
            let mut i = 0;
            while i < nx {
                if !row[i] {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < nx && row[i] {
                    i += 1;
                }
                let x0 = (start as i64 + gx) as f64 * cell;
                let x1 = (i as i64 + gx) as f64 * cell;
                let y0 = (j as i64 + gy) as f64 * cell;
                rects.push(geo::Rect::new((x0, y0), (x1, y0 + cell)).to_polygon());
            }
        }
        geo::unary_union(&rects)
    }
}

/// How far either side of a reached street a band extends, metres (half a street block's
/// frontage: what a map reader takes for "on that street").
pub const DEFAULT_BUFFER_M: f64 = 50.0;
/// Raster cell for dissolving bands, metres.
pub const DEFAULT_CELL_M: f64 = 20.0;
/// The most raster cells one band polygon allocates (a byte each).
pub const MAX_BAND_CELLS: f64 = 50_000_000.0;

/// One cumulative walking band: everything within `limit_m` of the nearest source.
#[derive(Clone, Debug)]
pub struct Band {
    pub limit_m: f64,
    pub area: geo::MultiPolygon<f64>,
}

/// Cumulative catchment bands around `sources` for each limit (ascending), the one
/// assembly the app, the CLI and the tests share: a single Dijkstra to the largest limit,
/// then one polygon per limit with `buffer_m` either side of the street on a `cell_m` raster.
pub fn catchment_bands(
    graph: &Graph,
    sources: &[Snap],
    limits_m: &[f64],
    buffer_m: f64,
    cell_m: f64,
) -> Vec<Band> {
    let max = limits_m.iter().copied().fold(0.0, f64::max);
    if sources.is_empty() || max <= 0.0 {
        return Vec::new();
    }
    let labels = graph.distances_from(sources, max);
    let mut limits: Vec<f64> = limits_m.to_vec();
    limits.sort_by(f64::total_cmp);
    limits
        .into_iter()
        .map(|limit_m| Band {
            limit_m,
            area: graph.band_polygon(&labels, limit_m, buffer_m, cell_m),
        })
        .collect()
}
