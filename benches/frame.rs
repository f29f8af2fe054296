//! Frame time of the map's painting code: all 122 Heilongjiang county polygons (from
//! ../shared/data/heilongjiang, ~428k vertices) filled and outlined, plus 100,000 demand
//! dots, over a scripted pan and zoom (fit → 64× zoom into Harbin → back out, panning on the
//! way). Times the shapes our code builds per frame (culling, level of detail, transforms,
//! dot thinning) and, separately, egui's tessellation of those shapes into triangles — the
//! CPU side of a frame. `cargo bench --bench frame` (target: median < 8 ms, p99 < 16 ms);
//! with `CARECIRCLE_FRAME_DATA=target/province/p1000000` the generated province (15,614
//! units, its 1,000,000 demand points as the dots) over the same script.

use std::time::Instant;

mod common;

use carecircle::app::map::{paint_units_and_dots, MapCache, View};
use egui::{Color32, Pos2, Rect, Stroke};

fn main() {
    // As the app does before its first frame.
    carecircle::app::tune_allocator();
    // CARECIRCLE_FRAME_DATA=target/province/p1000000 draws that dataset instead: its units
    // (the province's 15,614) and its demand points as the dots (issue #20's 1M-point view).
    let province = std::env::var_os("CARECIRCLE_FRAME_DATA").map(std::path::PathBuf::from);
    let path = province.clone().unwrap_or_else(|| {
        common::shared_dir().join("data/heilongjiang/heilongjiang_counties_cnmaps_wgs84.geojson")
    });
    let Ok(ds) = carecircle::io::load_path(&path) else {
        println!("no data at {} (set CARECIRCLE_SHARED)", path.display());
        return;
    };
    let vertices = ds.unit_vertices();
    let t = Instant::now();
    let cache = MapCache::new(&ds);
    let build = t.elapsed().as_secs_f64();
    println!(
        "{} units, {} vertices; map cache ({} detail levels, earcut, R-tree) built in {:.0} ms",
        ds.units.iter().filter(|u| u.geometry.is_some()).count(),
        vertices,
        carecircle::app::map::LODS.len(),
        build * 1000.0
    );
    // 100,000 demand points around the county centres (deterministic).
    let b = ds.bounds().unwrap();
    let mut rnd = carecircle::testkit::xorshift(42);
    let centres: Vec<[f64; 2]> = ds
        .units
        .iter()
        .filter_map(|u| {
            use geo::Centroid;
            u.geometry.as_ref()?.centroid().map(|c| [c.x(), c.y()])
        })
        .collect();
    let dots: Vec<[f64; 2]> = if province.is_some() {
        ds.demand
            .iter()
            .map(|d| [d.location.x(), d.location.y()])
            .collect()
    } else {
        (0..100_000)
            .map(|i| {
                let c = centres[i % centres.len()];
                let r = 30_000.0 * rnd().sqrt();
                let a = rnd() * std::f64::consts::TAU;
                [c[0] + r * a.cos(), c[1] + r * a.sin()]
            })
            .collect()
    };
    let t = Instant::now();
    let pyramid = carecircle::app::map::DotPyramid::new(&dots);
    println!(
        "{} demand dots; their raster pyramid built in {:.0} ms (once, when the points change)",
        dots.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let rect = Rect::from_min_size(Pos2::new(0.0, 0.0), egui::vec2(1600.0, 1000.0));
    let fit = (rect.width() as f64 / b.width()).min(rect.height() as f64 / b.height()) * 0.95;
    let harbin = ds.projection.forward(126.63, 45.75);
    let mut views = Vec::new();
    // Zoom in from the whole province to Harbin in 120 frames, pan 60, zoom out 120.
    for k in 0..120 {
        let f = k as f64 / 119.0;
        let c = b.center();
        views.push(View {
            center: [c.x + (harbin.0 - c.x) * f, c.y + (harbin.1 - c.y) * f],
            scale: fit * 64f64.powf(f),
        });
    }
    for k in 0..60 {
        let v = *views.last().unwrap();
        views.push(View {
            center: [v.center[0] + 40.0 * k as f64, v.center[1] - 25.0 * k as f64],
            scale: v.scale,
        });
    }
    for k in 0..120 {
        let v = views[179];
        let f = k as f64 / 119.0;
        views.push(View {
            center: v.center,
            scale: v.scale / 64f64.powf(f),
        });
    }
    let colors = [
        Color32::from_rgba_unmultiplied(46, 158, 79, 110),
        Color32::from_rgba_unmultiplied(214, 69, 65, 110),
        Color32::from_rgba_unmultiplied(150, 150, 150, 80),
    ];
    let stroke = Stroke::new(1.0, Color32::from_rgb(90, 110, 160));
    let mut tess = egui::epaint::Tessellator::new(
        1.0,
        egui::epaint::TessellationOptions::default(),
        [2048, 2048],
        Vec::new(),
    );
    let (mut ours, mut total) = (Vec::new(), Vec::new());
    let mut shapes_n = 0usize;
    for round in 0..2 {
        for v in &views {
            let t = Instant::now();
            let shapes = paint_units_and_dots(
                &cache,
                *v,
                rect,
                |u| Some(colors[u.index() % 3]),
                |_| Some(stroke),
                &pyramid,
            );
            let a = t.elapsed().as_secs_f64();
            shapes_n = shapes_n.max(shapes.len());
            let clipped: Vec<egui::epaint::ClippedShape> = shapes
                .into_iter()
                .map(|shape| egui::epaint::ClippedShape {
                    clip_rect: rect,
                    shape,
                    transform_after_tessellation: egui::emath::TSTransform::IDENTITY,
                })
                .collect();
            let prims = tess.tessellate_shapes(clipped);
            std::hint::black_box(prims);
            let b = t.elapsed().as_secs_f64();
            if round == 1 {
                ours.push(a * 1000.0);
                total.push(b * 1000.0);
            }
        }
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        (q(0.5), q(0.99), v[v.len() - 1])
    };
    let (m, p99, max) = stat(&mut ours);
    println!(
        "{} frames (pan + zoom, 1600×1000): our painting code median {m:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (target median < 8, p99 < 16)",
        ours.len()
    );
    let (m, p99, max) = stat(&mut total);
    println!("  + egui tessellation: median {m:.2} ms, p99 {p99:.2} ms, max {max:.2} ms ({shapes_n} shapes at most)");
}
