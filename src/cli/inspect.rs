//! `info`, `analyze` and `map`: what a dataset holds and how it meets the plan.

use super::*;

pub(super) fn info(path: &std::path::Path, max_warnings: Option<usize>) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let ds = load(path)?;
    let secs = t0.elapsed().as_secs_f64();
    println!("Dataset: {}  ({})", ds.name, ds.source.display());
    println!(
        "Loaded in {secs:.2} s; local projection: {}",
        ds.projection.describe()
    );
    println!();
    println!("Layers:");
    // Where each layer was read from, said plainly when it lies outside the dataset's
    // folder (a manifest may name `../x` or an absolute path).
    let home = carecircle::io::graph::cache_dir(&ds)
        .parent()
        .and_then(|d| std::fs::canonicalize(d).ok());
    for l in &ds.layers {
        let outside = match (&home, std::fs::canonicalize(&l.path)) {
            (Some(h), Ok(p)) if !p.starts_with(h) => {
                format!("  (outside the dataset folder: {})", p.display())
            }
            _ => String::new(),
        };
        println!(
            "  [{:<10}] {}  — {} of {} features loaded; CRS {} (datum {}, from {}){outside}",
            l.role.key(),
            l.path.display(),
            l.features_loaded,
            l.features_read,
            l.crs,
            l.crs.datum(),
            l.crs_source
        );
    }
    println!();
    println!("Units:");
    for level in UnitLevel::ALL {
        let n = ds.count_units(level);
        if n > 0 {
            let with_geom = ds.units_at(level).filter(|u| u.geometry.is_some()).count();
            let with_pop = ds
                .units_at(level)
                .filter(|u| u.population.total.is_some())
                .count();
            let with_parent = ds.units_at(level).filter(|u| u.parent.is_some()).count();
            println!(
                "  {:<13} {:>5} {}  (shapes {with_geom}, population {with_pop}, linked to parent {with_parent})",
                level.key(),
                n,
                level.zh()
            );
        }
    }
    print_contents(&ds);
    if let Some(b) = ds.bounds() {
        let (w, s) = ds.projection.inverse(b.min().x, b.min().y);
        let (e, n) = ds.projection.inverse(b.max().x, b.max().y);
        println!(
            "Extent (WGS84): {w:.4}–{e:.4} E, {s:.4}–{n:.4} N  ({:.1} × {:.1} km)",
            b.width() / 1000.0,
            b.height() / 1000.0
        );
    }
    let synthetic_layers: Vec<_> = ds
        .layers
        .iter()
        .filter(|l| {
            l.role == LayerRole::Facilities
                && ds.facilities.iter().any(|f| f.layer == l.id && f.synthetic)
        })
        .collect();
    if !synthetic_layers.is_empty() {
        println!(
            "NOTE: synthetic (generated, not real) facilities in: {}",
            synthetic_layers
                .iter()
                .map(|l| l.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !ds.attribution.is_empty() {
        println!("Attribution:");
        for a in &ds.attribution {
            println!("  {a}");
        }
    }
    println!();
    println!("Warnings: {}", ds.warnings.len());
    let limit = max_warnings.unwrap_or(usize::MAX);
    for w in ds.warnings.iter().take(limit) {
        println!("  - {w}");
    }
    if ds.warnings.len() > limit {
        println!(
            "  … {} more (use --max-warnings)",
            ds.warnings.len() - limit
        );
    }
    Ok(())
}

pub(super) fn analyze(a: AnalyzeArgs) -> anyhow::Result<()> {
    if let Some(c) = &a.compare {
        return compare(&a, &c[0], &c[1]);
    }
    let sc = a.scenario.scenario()?;
    let ds = load(a.dataset.as_deref().expect("required without --compare"))?;
    {
        use carecircle::io::write::OutputFormat as F;
        let csv_files: Vec<PathBuf> = a
            .csv
            .iter()
            .flat_map(|d| carecircle::report::CSV_FILES.iter().map(|f| d.join(f)))
            .collect();
        let mut outs: Vec<(&Path, F)> = Vec::new();
        outs.extend(a.json.as_deref().map(|p| (p, F::Json)));
        outs.extend(a.geojson.as_deref().map(|p| (p, F::GeoJson)));
        outs.extend(csv_files.iter().map(|p| (p.as_path(), F::Csv)));
        outs.extend(a.xlsx.as_deref().map(|p| (p, F::Xlsx)));
        let parquet_files: Vec<PathBuf> = a
            .out
            .iter()
            .flat_map(|d| {
                carecircle::report::geoparquet::FILES
                    .iter()
                    .map(|f| d.join(f))
            })
            .collect();
        outs.extend(parquet_files.iter().map(|p| (p.as_path(), F::Parquet)));
        let extra: Vec<&Path> = rules_file(&a.scenario.rules).into_iter().collect();
        check_outputs(&ds, &extra, &outs)?;
    }
    let report = a.scenario.analyze(&sc, &ds)?;
    // An output written to standard output (`-`) owns it: the table goes to stderr.
    let piped = [&a.json, &a.geojson]
        .iter()
        .any(|p| p.as_deref() == Some(Path::new("-")));
    let say = |text: &str| {
        if piped {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    };
    say(&carecircle::report::to_text(
        &report,
        a.scenario.english(),
        a.top,
    ));
    let how = a.uncovered_export();
    if a.json.is_some() || a.geojson.is_some() || a.csv.is_some() || a.out.is_some() {
        let agg = carecircle::report::aggregate(&report, &ds, how.cell_m);
        // A grid coarser than a unit hides that unit among its neighbours: said per unit
        // (all of them in the files' warnings), the first few here.
        if !agg.warnings.is_empty() {
            // The JSON, GeoJSON and CSV outputs carry every warning and an
            // uncovered_by_unit table; GeoParquet has the per-unit figures in
            // unit_rules.parquet and no warnings, so then all are said here.
            let listed = a.json.is_some() || a.geojson.is_some() || a.csv.is_some();
            eprintln!(
                "warning: {} units with uncovered demand are smaller than one {} m grid cell (--grid-m); their own figures are in {}:",
                agg.warnings.len(),
                how.cell_m,
                match (listed, a.out.is_some()) {
                    (true, true) => "uncovered_by_unit (JSON/GeoJSON/CSV) and unit_rules.parquet",
                    (true, false) => "uncovered_by_unit",
                    _ => "unit_rules.parquet (uncovered_people, uncovered_points)",
                }
            );
            let shown = if listed { 5 } else { agg.warnings.len() };
            for w in agg.warnings.iter().take(shown) {
                eprintln!("  - {w}");
            }
            if agg.warnings.len() > shown {
                eprintln!(
                    "  … {} more in the output's uncovered_grid.warnings",
                    agg.warnings.len() - shown
                );
            }
        }
        let listed = if how.points {
            "every uncovered point listed"
        } else {
            "uncovered demand per unit and grid cell; --uncovered points lists every point"
        };
        if let Some(p) = &a.json {
            carecircle::report::write_json_with(&report, &agg, p, &how)?;
            say(&format!("JSON: {} ({listed})\n", p.display()));
        }
        if let Some(p) = &a.geojson {
            carecircle::report::write_geojson_with(&report, &ds, &agg, p, &how)?;
            say(&format!("GeoJSON: {} ({listed})\n", p.display()));
        }
        if let Some(d) = &a.csv {
            carecircle::report::write_csv_dir_with(&report, &agg, d, &how)?;
            say(&format!("CSV: {} ({listed})\n", d.display()));
        }
        if let (Some(super::ExportFormat::Geoparquet), Some(d)) = (a.format, &a.out) {
            carecircle::report::geoparquet::write_dir(&report, &ds, &agg, d, &how)?;
            say(&format!("GeoParquet: {} ({listed})\n", d.display()));
        }
    }
    if let Some(p) = &a.xlsx {
        let bytes = carecircle::report::xlsx::workbook(&report, None, a.scenario.english())?;
        carecircle::io::write::write_atomic(p, &bytes)?;
        say(&format!("Excel: {}\n", p.display()));
    }
    Ok(())
}

/// `analyze --compare A B`: both scenarios on the same data, rule by rule and unit by
/// unit. Settings come from the projects; the scenario options on the command line do not
/// apply (and are refused when given).
fn compare(a: &AnalyzeArgs, spec_a: &str, spec_b: &str) -> anyhow::Result<()> {
    use carecircle::report::scenarios::{compare, ProjectFile};
    let (pa, fa, sa) =
        ProjectFile::resolve(spec_a).with_context(|| format!("--compare {spec_a}"))?;
    let (pb, fb, sb) =
        ProjectFile::resolve(spec_b).with_context(|| format!("--compare {spec_b}"))?;
    anyhow::ensure!(
        a.xlsx.is_none(),
        "--xlsx is for one analysis: with --compare use --json or --csv"
    );
    anyhow::ensure!(
        a.scenario.rules == "heilongjiang-2021"
            && a.scenario.minutes.is_none()
            && a.scenario.speed.is_none()
            && !a.scenario.with_planned
            && a.scenario.year.is_none()
            && a.scenario.mode == Mode::Euclidean
            && a.geojson.is_none(),
        "--compare takes each scenario's settings from its project: leave out --rules, --minutes, --speed, --mode, --with-planned, --year and --geojson"
    );
    let data = match &a.dataset {
        Some(d) => d.clone(),
        None => fa.dataset_path(&pa).with_context(|| {
            format!(
                "{}: the project names no dataset; give DATASET",
                pa.display()
            )
        })?,
    };
    let same = |p: Option<PathBuf>| {
        let canon = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_owned());
        p.is_none_or(|p| canon(&p) == canon(&data))
    };
    anyhow::ensure!(
        a.dataset.is_some() || same(fb.dataset_path(&pb)),
        "{} and {} use different data ({} vs {}): scenarios are compared on the same data; give DATASET to run both on it",
        pa.display(),
        pb.display(),
        data.display(),
        fb.dataset_path(&pb).map(|p| p.display().to_string()).unwrap_or_default()
    );
    let ds = load(&data)?;
    {
        use carecircle::io::write::OutputFormat as F;
        let csv_file = a.csv.as_ref().map(|d| d.join("comparison.csv"));
        let mut outs: Vec<(&Path, F)> = Vec::new();
        outs.extend(a.json.as_deref().map(|p| (p, F::Json)));
        outs.extend(csv_file.as_deref().map(|p| (p, F::Csv)));
        check_outputs(&ds, &[pa.as_path(), pb.as_path()], &outs)?;
    }
    let graph = if sa.settings.network || sb.settings.network {
        Some(build_graph(&ds)?)
    } else {
        None
    };
    let bar = BarProgress::new();
    let ra = sa
        .run(&ds, graph.as_ref(), &bar)
        .with_context(|| format!("scenario A ({})", sa.name))?;
    let rb = sb
        .run(&ds, graph.as_ref(), &bar)
        .with_context(|| format!("scenario B ({})", sb.name))?;
    bar.finish();
    let cmp = compare(&ra, &rb, &sa.name, &sb.name);
    let piped = a.json.as_deref() == Some(Path::new("-"));
    let text = cmp.to_text(a.scenario.english(), a.top.max(20));
    if piped {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    if let Some(p) = &a.json {
        carecircle::io::write::write_atomic(p, &serde_json::to_vec_pretty(&cmp)?)?;
        eprintln!("JSON: {}", p.display());
    }
    if let Some(d) = &a.csv {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        carecircle::io::write::write_atomic(&d.join("comparison.csv"), &cmp.to_csv()?)?;
        eprintln!("CSV: {}", d.join("comparison.csv").display());
    }
    Ok(())
}

pub(super) fn report(a: ReportArgs) -> anyhow::Result<()> {
    use carecircle::report::pdf::{report_pdf, Paper, PdfOptions};
    let paper =
        Paper::parse(&a.paper).with_context(|| format!("--paper '{}': A4 or A3", a.paper))?;
    let sc = a.scenario.scenario()?;
    let ds = load(&a.dataset)?;
    {
        let mut extra: Vec<&Path> = rules_file(&a.scenario.rules).into_iter().collect();
        extra.extend(a.proposals.as_deref());
        use carecircle::io::write::OutputFormat as F;
        check_outputs(&ds, &extra, &[(&a.out, F::Pdf)])?;
    }
    let mut proposals: Option<carecircle::siting::propose::Proposals> = match &a.proposals {
        Some(p) => Some(
            serde_json::from_slice(&carecircle::files::read_input(p)?).with_context(|| {
                format!(
                    "--proposals {}: not the JSON of `carecircle propose --json`",
                    p.display()
                )
            })?,
        ),
        None => None,
    };
    // One walking graph (network mode) for the proposals, the analysis and the bands.
    let graph = match sc.mode {
        carecircle::coverage::DistanceMode::Network => Some(build_graph(&ds)?),
        carecircle::coverage::DistanceMode::Euclidean => None,
    };
    let access = sc.access(graph.as_ref())?;
    if let Some(spec) = &a.propose {
        proposals = Some(propose_for_report(&a, &sc, &ds, access.as_ref(), spec)?);
    }
    let bar = BarProgress::new();
    let report =
        carecircle::coverage::analyze(&ds, sc.rules(), &sc.options(), access.as_ref(), &bar);
    bar.finish();
    let report = report.context("analysis")?;
    // Walking-network mode: the circle's walking bands on its map.
    let bands = graph
        .as_ref()
        .map(|g| carecircle::report::map::band_marks(&sc, g, &ds.facilities))
        .unwrap_or_default();
    let opts = PdfOptions {
        english: a.scenario.english(),
        paper,
        bands,
        date: a
            .date
            .clone()
            .unwrap_or_else(carecircle::report::pdf::today),
    };
    let t = std::time::Instant::now();
    let pdf = report_pdf(&ds, &report, proposals.as_ref(), &opts)?;
    carecircle::io::write::write_atomic(&a.out, &pdf)?;
    println!(
        "report: {} ({} KB, {:.2} s)",
        a.out.display(),
        pdf.len() / 1024,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `report --propose KIND:MODEL:P`: the proposals the report states, solved exactly
/// within the time limit.
fn propose_for_report(
    a: &ReportArgs,
    sc: &carecircle::coverage::Scenario,
    ds: &Dataset,
    access: &dyn carecircle::coverage::Accessibility,
    spec: &str,
) -> anyhow::Result<carecircle::siting::propose::Proposals> {
    use carecircle::siting::propose::{self as pr, ProposeModel, ProposeOptions};
    check_time_limit(a.time_limit)?;
    let parts: Vec<&str> = spec.split(':').collect();
    let bad = || format!("--propose '{spec}': expected KIND:MODEL:P, e.g. day_care:mclp:10");
    anyhow::ensure!(parts.len() == 3, bad());
    let kind = FacilityKind::parse(parts[0]).with_context(bad)?;
    let model = ProposeModel::parse(parts[1]).with_context(bad)?;
    anyhow::ensure!(
        !matches!(model, ProposeModel::Threshold | ProposeModel::Sized),
        "--propose '{spec}': threshold and sized models need more settings; run `carecircle propose` and pass its --json with --proposals"
    );
    let p: usize = parts[2].parse().ok().with_context(bad)?;
    let opts = ProposeOptions {
        kind,
        model,
        p: Some(p),
        exact: true,
        time_limit: a.time_limit,
        include_planned: sc.include_planned,
        year: sc.year,
        ..Default::default()
    };
    let bar = BarProgress::new();
    let out = pr::propose(ds, sc.rules(), &opts, None, access, &bar);
    bar.finish();
    Ok(out.context("proposal")?.proposals)
}

pub(super) fn map(a: MapArgs) -> anyhow::Result<()> {
    use carecircle::report::map::{write_map, MapSpec};
    let (w, h) = a
        .size
        .split_once(['x', 'X', '×'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|(w, h)| (200..=10_000).contains(w) && (200..=10_000).contains(h))
        .with_context(|| {
            format!(
                "--size '{}': expected WIDTHxHEIGHT, 200–10000 each, e.g. 1600x1100",
                a.size
            )
        })?;
    in_range(
        "--dpi",
        a.dpi,
        36.0,
        1200.0,
        "dots per inch; 300 prints sharp",
    )?;
    // Paper in pixels at 96 to the inch (the layout's unit): A4 210 × 297 mm.
    let paper = match a.paper.as_deref() {
        None => None,
        Some(p) => {
            let (pw, ph) = match p.to_ascii_uppercase().as_str() {
                "A4" => (210.0, 297.0),
                "A3" => (297.0, 420.0),
                _ => anyhow::bail!("--paper '{p}': A4 or A3"),
            };
            let px = |mm: f64| (mm / 25.4 * 96.0).round() as u32;
            Some(if a.landscape {
                (px(ph), px(pw))
            } else {
                (px(pw), px(ph))
            })
        }
    };
    anyhow::ensure!(
        a.paper.is_some() || !a.landscape,
        "--landscape needs --paper A4 or A3"
    );
    let (w, h) = paper.unwrap_or((w, h));
    let sc = a.scenario.scenario()?;
    let ds = load(&a.dataset)?;
    let extra: Vec<&Path> = rules_file(&a.scenario.rules).into_iter().collect();
    check_outputs(&ds, &extra, &[(&a.out, map_format(&a.out))])?;
    let report = a.scenario.analyze(&sc, &ds)?;
    let en = a.scenario.english();
    let rule = (a.rule != "all").then(|| a.rule.clone());
    if let Some(id) = &rule {
        anyhow::ensure!(
            report.rules.iter().any(|r| &r.id == id),
            "--rule '{id}': not a rule of preset {}; choose one of: all, {}",
            a.scenario.rules,
            report
                .rules
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (rule_title, subtitle) =
        carecircle::report::map::analysis_titles(&report, rule.as_deref(), en);
    let mut spec = MapSpec::new(
        w,
        h,
        a.title
            .clone()
            .unwrap_or_else(|| format!("{} — {rule_title}", ds.name)),
    );
    spec.english = en;
    spec.rule = rule;
    spec.subtitle = subtitle;
    spec.legend_panel = paper.is_some();
    spec.dpi = a.dpi;
    write_map(&ds, Some(&report), &spec, &a.out)?;
    println!("map: {}", a.out.display());
    Ok(())
}

pub(super) fn build_graph(ds: &Dataset) -> anyhow::Result<carecircle::network::Graph> {
    anyhow::ensure!(
        !ds.network.is_empty(),
        "{}: no walkable street lines in this dataset (add a network layer: OSM PBF or a line GeoJSON/Shapefile), or use --mode euclidean",
        ds.source.display()
    );
    let t = std::time::Instant::now();
    let (g, how) = carecircle::io::graph::load_or_build(ds, &carecircle::io::graph::cache_dir(ds));
    let how = match how {
        carecircle::io::graph::CacheUse::Read => "read from cache".to_string(),
        carecircle::io::graph::CacheUse::Built => "built".to_string(),
        carecircle::io::graph::CacheUse::Rebuilt(why) => {
            format!("rebuilt (the cached graph was not used: {why})")
        }
    };
    eprintln!(
        "walking graph: {} nodes, {} edges, {} components (largest {} nodes), {} in {:.0} ms",
        g.node_count(),
        g.edge_count(),
        g.component_sizes.len(),
        g.component_sizes.first().copied().unwrap_or(0),
        how,
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(g)
}

/// Facilities by kind, demand, the walking graph and buildings, as `info` prints them.
fn print_contents(ds: &Dataset) {
    println!("Facilities:");
    for kind in FacilityKind::ALL {
        let fs: Vec<_> = ds.facilities.iter().filter(|f| f.kind == kind).collect();
        if fs.is_empty() {
            continue;
        }
        let planned = fs
            .iter()
            .filter(|f| f.status != carecircle::model::FacilityStatus::Existing)
            .count();
        let synthetic = fs.iter().filter(|f| f.synthetic).count();
        let located = fs.iter().filter(|f| f.location.is_some()).count();
        let joined = fs.iter().filter(|f| f.unit.is_some()).count();
        let cap: f64 = fs.iter().filter_map(|f| f.capacity).fold(0.0, |a, b| a + b);
        let est = fs.iter().filter(|f| f.capacity_estimated).count();
        println!(
            "  {:<21} {:>5} {}  (planned {planned}, synthetic {synthetic}, with point {located}, joined to unit {joined}; capacity {cap:.0}{})",
            kind.key(),
            fs.len(),
            kind.zh(),
            if est > 0 { format!(", {est} estimated") } else { String::new() }
        );
    }
    if !ds.demand.is_empty() {
        println!("Demand points: {}", ds.demand.len());
    }
    if !ds.network.is_empty() {
        let stats = carecircle::io::graph::network_stats(ds);
        println!(
            "Walk network: {} lines, {} graph edges, {} vertices, {:.0} km",
            ds.network.len(),
            stats.edges,
            stats.vertices,
            stats.length_m / 1000.0
        );
    }
    if !ds.buildings.is_empty() {
        use carecircle::model::BuildingKind;
        let n = |k| ds.buildings.iter().filter(|b| b.kind == k).count();
        println!(
            "Buildings: {} residential, {} other, {} residential landuse areas",
            n(BuildingKind::Residential),
            n(BuildingKind::Other),
            n(BuildingKind::ResidentialLanduse)
        );
    }
    if !ds.known_totals.is_empty() {
        println!("Known totals (no locations; aggregate rules count them):");
        for t in &ds.known_totals {
            println!(
                "  {}{}: {} facilities, capacity {}{} — {}",
                if t.at_least { "at least " } else { "" },
                t.label,
                t.facilities
                    .map(|x| format!("{x:.0}"))
                    .unwrap_or("?".into()),
                t.capacity.map(|x| format!("{x:.0}")).unwrap_or("?".into()),
                t.year.map(|y| format!(" ({y})")).unwrap_or_default(),
                t.source
            );
        }
    }
}
