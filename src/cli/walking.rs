//! `reach` and `catchments`: walking distances per demand point and catchment bands.

use super::*;

pub(super) fn reach(a: ReachArgs) -> anyhow::Result<()> {
    use carecircle::coverage::{self, Accessibility, RuleSet};
    let kind = FacilityKind::parse(&a.kind)
        .with_context(|| format!("unknown facility kind '{}' (day_care, street_station, district_center, township_institution, county_hardship, village_mutual_aid, care_home, nursery)", a.kind))?;
    check_speed(a.speed)?;
    check_minutes("--max-minutes", a.max_minutes)?;
    check_max_snap(a.max_snap)?;
    let rules = RuleSet::load(&a.rules)?;
    let ds = load(&a.dataset)?;
    {
        let extra: Vec<&Path> = rules_file(&a.rules).into_iter().collect();
        use carecircle::io::write::OutputFormat as F;
        check_outputs(&ds, &extra, &[(&a.csv, F::Csv)])?;
    }
    let bar = BarProgress::new();
    let demand = coverage::build_demand(&ds, &rules.settings, &bar)?;
    let facs: Vec<&carecircle::model::Facility> = ds
        .facilities
        .iter()
        .filter(|f| {
            f.kind == kind && rules.settings.statuses.contains(&f.status) && f.location.is_some()
        })
        .collect();
    anyhow::ensure!(
        !facs.is_empty(),
        "{}: no {} with a location",
        a.dataset.display(),
        kind.key()
    );
    let pts: Vec<geo::Point<f64>> = facs.iter().map(|f| f.location.unwrap()).collect();
    let origins: Vec<geo::Point<f64>> = demand.points.iter().map(|d| d.location).collect();
    let max = a.max_minutes * 60.0 * a.speed;
    let graph;
    let net;
    let access: &dyn Accessibility = match a.mode {
        Mode::Euclidean => &coverage::Euclidean,
        Mode::Network => {
            graph = build_graph(&ds)?;
            net = carecircle::coverage::NetworkAccess::new(&graph, a.max_snap);
            &net
        }
    };
    for (j, n) in access.diagnose(&origins, &pts) {
        match j {
            Some(j) => eprintln!("note: {} ({}): {n}", facs[j].name, facs[j].source_id),
            None => eprintln!("note: {n}"),
        }
    }
    let near = access.nearest_within(&origins, &pts, max, &bar)?;
    bar.finish();
    let (ids, generated) = coverage::demand::demand_ids(&ds, &demand);
    if let Some(n) = coverage::demand::generated_ids_note(generated, &demand, &ds) {
        eprintln!("note: {n}");
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "lon", "lat", "facility_id", "distance_m", "minutes"])?;
    let mut reached = 0;
    for ((d, n), id) in demand.points.iter().zip(&near).zip(ids) {
        let (lon, lat) = ds.projection.inverse(d.location.x(), d.location.y());
        let (fid, dist, min) = match n {
            Some((j, m)) => {
                reached += 1;
                (
                    facs[*j as usize].source_id.clone(),
                    format!("{m:.2}"),
                    format!("{:.2}", m / a.speed / 60.0),
                )
            }
            None => Default::default(),
        };
        w.write_record([id, format!("{lon:.7}"), format!("{lat:.7}"), fid, dist, min])?;
    }
    let bytes = w.into_inner()?;
    carecircle::io::write::write_atomic(&a.csv, &bytes)?;
    println!(
        "{} demand points, {reached} reach a {} within {} min at {} m/s ({:.0} m, {}); written to {}",
        demand.points.len(),
        kind.key(),
        a.max_minutes,
        a.speed,
        max,
        if a.mode == Mode::Network { "walking network" } else { "straight line" },
        a.csv.display()
    );
    Ok(())
}

pub(super) fn catchments(a: CatchmentArgs) -> anyhow::Result<()> {
    use geo::{Area, BooleanOps, MapCoords};
    let kinds: Vec<FacilityKind> = a
        .kind
        .split(',')
        .map(|k| {
            FacilityKind::parse(k.trim()).with_context(|| format!("unknown facility kind '{k}'"))
        })
        .collect::<anyhow::Result<_>>()?;
    let bands = catchment_args(&a)?;
    let ds = load(&a.dataset)?;
    {
        use carecircle::io::write::OutputFormat as F;
        check_outputs(&ds, &[], &[(&a.geojson, F::GeoJson)])?;
    }
    let graph = build_graph(&ds)?;
    check_raster(&graph, a.buffer, a.cell)?;
    let facs: Vec<_> = ds
        .facilities
        .iter()
        .filter(|f| kinds.contains(&f.kind) && f.location.is_some())
        .filter(|f| a.facility.as_ref().is_none_or(|id| &f.source_id == id))
        .collect();
    anyhow::ensure!(
        !facs.is_empty(),
        "no facility of kind {} with a location{}",
        a.kind,
        a.facility
            .as_ref()
            .map(|i| format!(" and id {i}"))
            .unwrap_or_default()
    );
    let snaps: Vec<_> = facs
        .iter()
        .filter_map(|f| graph.snap(f.location.unwrap(), a.max_snap))
        .collect();
    if snaps.len() < facs.len() {
        eprintln!(
            "note: {} facilities are more than {} m from any street and have no walking catchment",
            facs.len() - snaps.len(),
            a.max_snap
        );
    }
    let limits: Vec<f64> = bands.iter().map(|m| m * 60.0 * a.speed).collect();
    let areas = carecircle::network::catchment_bands(&graph, &snaps, &limits, a.buffer, a.cell);
    let mut features = Vec::new();
    let mut prev: Option<geo::MultiPolygon<f64>> = None;
    for (m, band) in bands.iter().zip(areas) {
        let d = band.limit_m;
        let cum = band.area;
        let ring = match &prev {
            Some(p) => cum.difference(p),
            None => cum.clone(),
        };
        for (typ, g) in [("cumulative", &cum), ("band", &ring)] {
            let wgs = g.map_coords(|c| {
                let (lon, lat) = ds.projection.inverse(c.x, c.y);
                geo::Coord { x: lon, y: lat }
            });
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": {
                    "type": typ, "minutes": m, "speed_m_s": a.speed, "distance_m": d,
                    "kinds": a.kind, "facilities": snaps.len(), "area_km2": g.unsigned_area() / 1e6,
                    // The one facility's own id when --facility named it (null: all of them).
                    "facility_id": a.facility,
                    "label": format!("{m} min × {} m/s = {d:.0} m", a.speed),
                },
                "geometry": carecircle::io::geojson::geometry_value(&geo::Geometry::MultiPolygon(wgs)),
            }));
        }
        println!(
            "{m:>5} min × {} m/s = {d:>5.0} m: {:.2} km² within reach",
            a.speed,
            cum.unsigned_area() / 1e6
        );
        prev = Some(cum);
    }
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    carecircle::io::geojson::write_collection_value(&a.geojson, &fc, false)?;
    println!("GeoJSON: {}", a.geojson.display());
    Ok(())
}

/// The largest band raster `catchments` builds, in cells (one byte each).
const MAX_RASTER_CELLS: f64 = carecircle::network::MAX_BAND_CELLS;

/// Refuses a cell so fine that the band raster over the graph's extent would not fit in
/// memory, before allocating it, and says the finest cell that fits.
fn check_raster(graph: &carecircle::network::Graph, buffer: f64, cell: f64) -> anyhow::Result<()> {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for n in &graph.nodes {
        x0 = x0.min(n[0]);
        y0 = y0.min(n[1]);
        x1 = x1.max(n[0]);
        y1 = y1.max(n[1]);
    }
    // Bands can reach anywhere on the graph: its extent, and the buffer beyond.
    let w = (x1 - x0).max(0.0) + 2.0 * buffer;
    let h = (y1 - y0).max(0.0) + 2.0 * buffer;
    let cells = (w / cell).ceil() * (h / cell).ceil();
    if cells > MAX_RASTER_CELLS {
        let finest = ((w * h) / MAX_RASTER_CELLS).sqrt().ceil();
        anyhow::bail!(
            "--cell {cell}: the band raster would need {:.0} million cells ({:.0} MB) over {:.1} × {:.1} km; use --cell {finest} or more",
            cells / 1e6,
            cells / 1e6,
            w / 1000.0,
            h / 1000.0
        );
    }
    Ok(())
}

/// The band limits (minutes, ascending) and every numeric argument, range-checked with
/// the reason for each bound.
fn catchment_args(a: &CatchmentArgs) -> anyhow::Result<Vec<f64>> {
    let mut bands: Vec<f64> = a
        .bands
        .split(',')
        .map(|b| {
            b.trim()
                .parse::<f64>()
                .with_context(|| format!("--bands: '{b}' is not a number of minutes"))
        })
        .collect::<anyhow::Result<_>>()?;
    bands.sort_by(f64::total_cmp);
    for b in &bands {
        check_minutes("--bands", *b)?;
    }
    check_speed(a.speed)?;
    in_range(
        "--buffer",
        a.buffer,
        1.0,
        2000.0,
        "metres either side of a street",
    )?;
    in_range(
        "--cell",
        a.cell,
        1.0,
        1000.0,
        "metres; finer than 1 m adds nothing a map can show and costs memory",
    )?;
    check_max_snap(a.max_snap)?;
    Ok(bands)
}
