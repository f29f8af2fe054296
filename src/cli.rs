//! Headless commands. Thin: parse arguments, call the library, print.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use carecircle::model::{Dataset, FacilityKind, LayerRole, UnitLevel};
use carecircle::progress::Progress;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "carecircle",
    version,
    about = "一老一小 facility siting: coverage gaps and proposals"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Open the desktop app, optionally on a dataset.
    App {
        dataset: Option<PathBuf>,
    },
    /// Print a dataset's layers, counts, CRS/datum, extent and every load warning.
    Info {
        /// A folder with dataset.toml, a dataset.toml, or a single data file.
        dataset: PathBuf,
        /// Print at most this many warnings (all by default).
        #[arg(long)]
        max_warnings: Option<usize>,
    },
    /// Check a dataset against a plan's rules: which units fail, by how much, and why.
    Analyze(AnalyzeArgs),
    /// Walking time from every demand point to its nearest facility of a kind, as CSV.
    Reach(ReachArgs),
    /// Walking catchment bands (e.g. 5/10/15 min) of facilities as GeoJSON polygons.
    Catchments(CatchmentArgs),
    /// Solve a facility-location instance in the shared benchmark format.
    Solve(SolveArgs),
    Propose(ProposeArgs),
    /// Draw the analysis as a presentation map (PNG or SVG): units coloured by a rule,
    /// facilities, uncovered demand, legend, scale bar, north arrow and data sources.
    Map(MapArgs),
}

/// `carecircle map`: a presentation map of the analysis.
#[derive(clap::Args)]
pub struct MapArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Rule that colours the units (e.g. elderly_15min_circle, day_care_per_community);
    /// `all` = overall status over every rule.
    #[arg(long, default_value = "elderly_15min_circle")]
    pub rule: String,
    /// Output file: .png or .svg.
    #[arg(long)]
    pub out: PathBuf,
    /// Image size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1600x1100")]
    pub size: String,
    /// Map title (default: dataset and rule).
    #[arg(long)]
    pub title: Option<String>,
}

/// `carecircle propose`: where the next sites of a kind should go.
#[derive(clap::Args)]
pub struct ProposeArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// day_care | street_station | township_institution | nursery (or any facility kind).
    #[arg(long)]
    pub kind: String,
    /// mclp | lscp | pmedian | capacitated
    #[arg(long, default_value = "mclp")]
    pub model: String,
    /// Number of new sites (MCLP, p-median; capacitated: default the fewest that close the
    /// places gaps).
    #[arg(long)]
    pub p: Option<usize>,
    /// A point layer of candidate sites (GeoJSON, Shapefile, CSV); default: generated.
    #[arg(long)]
    pub candidates: Option<PathBuf>,
    /// CRS of the candidate file when it does not say (WGS84, GCJ-02, BD-09, EPSG:4547 …).
    #[arg(long)]
    pub candidates_crs: Option<String>,
    /// Solve the MILP with HiGHS and report the proven bound and gap.
    #[arg(long)]
    pub exact: bool,
    #[arg(long, default_value_t = 60.0)]
    pub time_limit: f64,
    /// One site in every unit failing the kind's presence rule (where a candidate lies).
    #[arg(long)]
    pub quota: bool,
    /// Radius in metres when the preset has no reach rule for the kind.
    #[arg(long)]
    pub radius: Option<f64>,
    /// Minimum spacing of generated candidates, metres (default radius / 4).
    #[arg(long)]
    pub spacing: Option<f64>,
    /// Nursery module sizes in places.
    #[arg(long, default_value = "80,150")]
    pub modules: String,
    /// Proposals as GeoJSON (.geojson/.json) or CSV (.csv).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The whole answer (proposals, before/after rules) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Before/after coverage reports as JSON files: <stem>-before.json, <stem>-after.json.
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// A presentation map (.png or .svg) of the coverage after the proposals, with the
    /// proposed sites ranked on it.
    #[arg(long)]
    pub map: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct SolveArgs {
    /// Folder with demand.csv, candidates.csv, optional existing.csv, problem.json.
    pub instance: PathBuf,
    /// Prove optimality with the HiGHS MILP solver (warm-started by the heuristic).
    #[arg(long)]
    pub exact: bool,
    /// Time limit in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub time_limit: f64,
    /// Print one JSON object: objective, selected_ids, bound, gap, seconds.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct CatchmentArgs {
    pub dataset: PathBuf,
    /// Facility kinds, comma-separated (e.g. day_care,street_station).
    #[arg(long)]
    pub kind: String,
    /// Only this facility (its id in the source file): a per-facility catchment.
    #[arg(long)]
    pub facility: Option<String>,
    /// Walking speed in m/s: elderly 0.8, adult 1.2, wheelchair 0.6.
    #[arg(long, default_value_t = carecircle::coverage::WalkSpeed::Elderly.m_s())]
    pub speed: f64,
    /// Band limits in minutes, comma-separated.
    #[arg(long, default_value = "5,10,15")]
    pub bands: String,
    /// How far either side of a reached street the band extends, metres.
    #[arg(long, default_value_t = carecircle::network::DEFAULT_BUFFER_M)]
    pub buffer: f64,
    /// Raster cell for dissolving, metres.
    #[arg(long, default_value_t = carecircle::network::DEFAULT_CELL_M)]
    pub cell: f64,
    #[arg(long, default_value_t = carecircle::coverage::scenario::DEFAULT_MAX_SNAP_M)]
    pub max_snap: f64,
    /// Output GeoJSON (WGS84): cumulative bands and per-band rings.
    #[arg(long)]
    pub geojson: PathBuf,
}

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Write the report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write units coloured by status and uncovered demand as GeoJSON (WGS84).
    #[arg(long)]
    pub geojson: Option<PathBuf>,
    /// Write units.csv, rules.csv and uncovered_demand.csv into this folder.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Units listed per failing rule.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
}

/// The scenario `analyze` and `propose` share: plan, distance mode, walk, planned projects.
#[derive(clap::Args)]
pub struct ScenarioArgs {
    /// A shipped preset (heilongjiang-2021, heihe-2022, heilongjiang-2020, gansu-2021) or a
    /// TOML file (copy a preset from assets/rules/ and edit it).
    #[arg(long, default_value = "heilongjiang-2021")]
    pub rules: String,
    /// Distance mode.
    #[arg(long, value_enum, default_value_t = Mode::Euclidean)]
    pub mode: Mode,
    /// Network mode: points farther than this from any street are unreachable, metres.
    #[arg(long, default_value_t = carecircle::coverage::scenario::DEFAULT_MAX_SNAP_M)]
    pub max_snap: f64,
    /// Walking time of the elderly circle in minutes (overrides the preset).
    #[arg(long)]
    pub minutes: Option<f64>,
    /// Walking speed in m/s (overrides the preset).
    #[arg(long)]
    pub speed: Option<f64>,
    /// Count planned facilities as built (the "if the projects are built" scenario).
    #[arg(long)]
    pub with_planned: bool,
    /// Scenario year: existing facilities plus planned projects completed by this year
    /// (implies --with-planned for those); rules say whether their deadline is due.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1990..=2100))]
    pub year: Option<i32>,
    /// Language of the printed table.
    #[arg(long, default_value = "zh", value_parser = ["zh", "en"])]
    pub lang: String,
}

impl ScenarioArgs {
    /// The scenario these arguments describe: the one library type the app fills too.
    fn scenario(&self) -> anyhow::Result<carecircle::coverage::Scenario> {
        let mut sc = carecircle::coverage::Scenario::new(&self.rules)?;
        if self.minutes.is_some() || self.speed.is_some() {
            let m = self.minutes.unwrap_or(sc.rules().settings.walk_minutes);
            let s = self.speed.unwrap_or(sc.rules().settings.walk_speed_m_s);
            sc.set_walk(m, s)
                .map_err(|_| anyhow::anyhow!("--minutes and --speed must be positive"))?;
        }
        sc.mode = self.mode.into();
        sc.max_snap_m = self.max_snap;
        sc.include_planned = self.with_planned;
        sc.year = self.year;
        Ok(sc)
    }

    /// Runs `f` with the scenario's distance (building or reading the walking graph).
    fn with_access<T>(
        &self,
        sc: &carecircle::coverage::Scenario,
        ds: &Dataset,
        f: impl FnOnce(&dyn carecircle::coverage::Accessibility) -> T,
    ) -> anyhow::Result<T> {
        let graph = match sc.mode {
            carecircle::coverage::DistanceMode::Network => Some(build_graph(ds)?),
            carecircle::coverage::DistanceMode::Euclidean => None,
        };
        let access = sc.access(graph.as_ref())?;
        Ok(f(access.as_ref()))
    }

    fn english(&self) -> bool {
        self.lang == "en"
    }
}

/// The command-line spelling of [`carecircle::coverage::DistanceMode`].
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Mode {
    /// Straight-line distance (R-tree).
    Euclidean,
    /// Walking distance along the street network.
    Network,
}

impl From<Mode> for carecircle::coverage::DistanceMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Euclidean => carecircle::coverage::DistanceMode::Euclidean,
            Mode::Network => carecircle::coverage::DistanceMode::Network,
        }
    }
}

#[derive(clap::Args)]
pub struct ReachArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    /// Facility kind to reach (day_care, street_station, nursery, …).
    #[arg(long)]
    pub kind: String,
    #[arg(long, value_enum, default_value_t = Mode::Network)]
    pub mode: Mode,
    /// Walking speed in m/s: elderly 0.8, adult 1.2, wheelchair 0.6.
    #[arg(long, default_value_t = carecircle::coverage::WalkSpeed::Elderly.m_s())]
    pub speed: f64,
    /// Search no farther than this many minutes of walking.
    #[arg(long, default_value_t = 60.0)]
    pub max_minutes: f64,
    /// Points farther than this from any street are unreachable, metres.
    #[arg(long, default_value_t = carecircle::coverage::scenario::DEFAULT_MAX_SNAP_M)]
    pub max_snap: f64,
    /// Rule preset whose demand settings (grid cell …) to use.
    #[arg(long, default_value = "heilongjiang-2021")]
    pub rules: String,
    /// Output CSV: id,lon,lat,facility_id,distance_m,minutes.
    #[arg(long)]
    pub csv: PathBuf,
}

pub fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Info {
            dataset,
            max_warnings,
        } => info(&dataset, max_warnings),
        Command::Analyze(a) => analyze(a),
        Command::Reach(a) => reach(a),
        Command::Catchments(a) => catchments(a),
        Command::Solve(a) => solve(a),
        Command::Propose(a) => propose(a),
        Command::Map(a) => map(a),
        Command::App { .. } => unreachable!("dispatched in main"),
    }
}

/// Drives an indicatif bar from library progress.
pub struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    pub fn new() -> Self {
        let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        bar.enable_steady_tick(Duration::from_millis(120));
        BarProgress { bar }
    }
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for BarProgress {
    fn stage(&self, name: &str, total: Option<u64>) {
        match total {
            Some(t) => {
                self.bar.set_length(t);
                self.bar.set_style(
                    ProgressStyle::with_template("{msg:30} [{bar:40}] {pos}/{len}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
            }
            None => self.bar.set_style(ProgressStyle::default_spinner()),
        }
        self.bar.set_position(0);
        self.bar.set_message(name.to_owned());
    }
    fn advance(&self, done: u64) {
        self.bar.set_position(done);
    }
}

pub fn load(path: &std::path::Path) -> anyhow::Result<Dataset> {
    let bar = BarProgress::new();
    let ds = carecircle::io::load_path_with(path, &bar)
        .with_context(|| format!("loading {}", path.display()));
    bar.finish();
    ds
}

fn info(path: &std::path::Path, max_warnings: Option<usize>) -> anyhow::Result<()> {
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
    for l in &ds.layers {
        println!(
            "  [{:<10}] {}  — {} of {} features loaded; CRS {} (datum {}, from {})",
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
        let stats = carecircle::io::graph::network_stats(&ds);
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

fn analyze(a: AnalyzeArgs) -> anyhow::Result<()> {
    use carecircle::coverage;
    let sc = a.scenario.scenario()?;
    let ds = load(&a.dataset)?;
    let bar = BarProgress::new();
    let report = a.scenario.with_access(&sc, &ds, |access| {
        coverage::analyze(&ds, sc.rules(), &sc.options(), access, &bar)
    })?;
    bar.finish();
    let report = report.context("analysis")?;
    print!(
        "{}",
        carecircle::report::to_text(&report, a.scenario.english(), a.top)
    );
    if let Some(p) = &a.json {
        carecircle::report::write_json(&report, p)?;
        println!("JSON: {}", p.display());
    }
    if let Some(p) = &a.geojson {
        carecircle::report::write_geojson(&report, &ds, p)?;
        println!("GeoJSON: {}", p.display());
    }
    if let Some(d) = &a.csv {
        carecircle::report::write_csv_dir(&report, d)?;
        println!("CSV: {}", d.display());
    }
    Ok(())
}

fn build_graph(ds: &Dataset) -> anyhow::Result<carecircle::network::Graph> {
    anyhow::ensure!(
        !ds.network.is_empty(),
        "{}: no walkable street lines in this dataset (add a network layer: OSM PBF or a line GeoJSON/Shapefile), or use --mode euclidean",
        ds.source.display()
    );
    let t = std::time::Instant::now();
    let (g, cached) =
        carecircle::io::graph::load_or_build(ds, &carecircle::io::graph::cache_dir(ds));
    eprintln!(
        "walking graph: {} nodes, {} edges, {} components (largest {} nodes), {} in {:.0} ms",
        g.node_count(),
        g.edge_count(),
        g.component_sizes.len(),
        g.component_sizes.first().copied().unwrap_or(0),
        if cached { "read from cache" } else { "built" },
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(g)
}

fn reach(a: ReachArgs) -> anyhow::Result<()> {
    use carecircle::coverage::{self, Accessibility, RuleSet};
    let kind = FacilityKind::parse(&a.kind)
        .with_context(|| format!("unknown facility kind '{}' (day_care, street_station, district_center, township_institution, county_hardship, village_mutual_aid, care_home, nursery)", a.kind))?;
    anyhow::ensure!(
        a.speed > 0.0,
        "--speed must be positive (elderly 0.8, adult 1.2, wheelchair 0.6 m/s)"
    );
    anyhow::ensure!(a.max_minutes > 0.0, "--max-minutes must be positive");
    let rules = RuleSet::load(&a.rules)?;
    let ds = load(&a.dataset)?;
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
            net = carecircle::coverage::NetworkAccess {
                graph: &graph,
                max_snap: a.max_snap,
            };
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
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "lon", "lat", "facility_id", "distance_m", "minutes"])?;
    let mut reached = 0;
    for (i, (d, n)) in demand.points.iter().zip(&near).enumerate() {
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
        w.write_record([
            i.to_string(),
            format!("{lon:.7}"),
            format!("{lat:.7}"),
            fid,
            dist,
            min,
        ])?;
    }
    let bytes = w.into_inner()?;
    carecircle::io::geojson::write_atomic(&a.csv, &bytes)?;
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

fn catchments(a: CatchmentArgs) -> anyhow::Result<()> {
    use geo::{Area, BooleanOps, MapCoords};
    let kinds: Vec<FacilityKind> = a
        .kind
        .split(',')
        .map(|k| {
            FacilityKind::parse(k.trim()).with_context(|| format!("unknown facility kind '{k}'"))
        })
        .collect::<anyhow::Result<_>>()?;
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
    anyhow::ensure!(
        bands.iter().all(|b| *b > 0.0),
        "--bands must be positive minutes"
    );
    anyhow::ensure!(
        a.speed > 0.0 && a.buffer > 0.0 && a.cell > 0.0,
        "--speed, --buffer and --cell must be positive"
    );
    let ds = load(&a.dataset)?;
    let graph = build_graph(&ds)?;
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
    carecircle::io::geojson::write_atomic(&a.geojson, serde_json::to_string(&fc)?.as_bytes())?;
    println!("GeoJSON: {}", a.geojson.display());
    Ok(())
}

fn solve(a: SolveArgs) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let pb = carecircle::siting::read_instance(&a.instance)?;
    let sol = pb.solve_heuristic()?;
    let check = pb.objective(&sol.selected);
    anyhow::ensure!(
        (check - sol.objective).abs() <= 1e-6 * check.abs().max(1.0),
        "internal check failed: objective {} recomputes to {check}",
        sol.objective
    );
    let (selected, objective, bound, gap, solver) = if a.exact {
        let remaining = (a.time_limit - t.elapsed().as_secs_f64()).max(0.1);
        let bar = BarProgress::new();
        let ex = carecircle::siting::exact::solve_exact_with(&pb, remaining, Some(&sol), &bar);
        bar.finish();
        let ex = ex?;
        // Keep the better of the two answers (the heuristic may beat a timed-out MILP).
        let better = match pb.model {
            carecircle::siting::Model::Mclp => ex.objective >= sol.objective,
            _ => ex.objective <= sol.objective,
        };
        let (sel, obj) = if better {
            (ex.selected.clone(), ex.objective)
        } else {
            (sol.selected.clone(), sol.objective)
        };
        let gap = if ex.bound.is_finite() {
            (ex.bound - obj).abs() / obj.abs().max(1e-12)
        } else {
            f64::INFINITY
        };
        (
            sel,
            obj,
            Some(ex.bound),
            Some(gap),
            format!(
                "{} ({}), warm-started by {}",
                ex.method,
                ex.status,
                pb.heuristic_name()
            ),
        )
    } else {
        (
            sol.selected.clone(),
            sol.objective,
            None,
            None,
            format!("{} (heuristic; no bound)", pb.heuristic_name()),
        )
    };
    let secs = t.elapsed().as_secs_f64();
    let ids: Vec<&str> = selected
        .iter()
        .map(|i| pb.candidate_ids[*i].as_str())
        .collect();
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "objective": objective, "selected_ids": ids, "bound": bound, "gap": gap,
                "seconds": secs, "heuristic_objective": sol.objective,
                "greedy_objective": sol.greedy_objective, "solver": solver,
            })
        );
    } else {
        println!(
            "{:?}: objective {} (heuristic {}, greedy {}){} in {:.3} s [{solver}]; sites: {}",
            pb.model,
            objective,
            sol.objective,
            sol.greedy_objective,
            match (bound, gap) {
                (Some(b), Some(g)) => format!(", bound {b}, gap {:.4}%", g * 100.0),
                _ => String::new(),
            },
            secs,
            ids.join(", ")
        );
    }
    Ok(())
}

fn propose(a: ProposeArgs) -> anyhow::Result<()> {
    use carecircle::siting::propose::{self as pr, ProposeModel, ProposeOptions};
    let sc = a.scenario.scenario()?;
    let kind = FacilityKind::parse(&a.kind).with_context(|| {
        format!(
            "--kind '{}': expected one of day_care, street_station, township_institution, nursery",
            a.kind
        )
    })?;
    let model = ProposeModel::parse(&a.model).with_context(|| {
        format!(
            "--model '{}': expected mclp, lscp, pmedian or capacitated",
            a.model
        )
    })?;
    let modules: Vec<f64> = a
        .modules
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--modules '{}': expected numbers like 80,150", a.modules))?;
    let ds = load(&a.dataset)?;
    let given = match &a.candidates {
        Some(p) => {
            let layer =
                carecircle::io::load::load_candidate_layer(p, a.candidates_crs.as_deref(), kind)?;
            Some(pr::candidates_from(&ds, &layer, p)?)
        }
        None => None,
    };
    let opts = ProposeOptions {
        kind,
        model,
        p: a.p,
        exact: a.exact,
        time_limit: a.time_limit,
        quotas: a.quota,
        include_planned: sc.include_planned,
        year: sc.year,
        spacing_m: a.spacing,
        radius_m: a.radius,
        modules,
    };
    let bar = BarProgress::new();
    let out = a.scenario.with_access(&sc, &ds, |access| {
        pr::propose(&ds, sc.rules(), &opts, given, access, &bar)
    })?;
    bar.finish();
    let out = out.context("proposal")?;
    print!("{}", out.proposals.to_text(a.scenario.english()));
    if let Some(p) = &a.out {
        let bytes = if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            out.proposals.to_csv().into_bytes()
        } else {
            serde_json::to_vec_pretty(&out.proposals.to_geojson())?
        };
        carecircle::io::geojson::write_atomic(p, &bytes)?;
        println!("proposals: {}", p.display());
    }
    if let Some(p) = &a.json {
        carecircle::io::geojson::write_atomic(p, &serde_json::to_vec_pretty(&out.proposals)?)?;
        println!("JSON: {}", p.display());
    }
    if let Some(p) = &a.reports {
        let stem = p.with_extension("");
        let b = PathBuf::from(format!("{}-before.json", stem.display()));
        let af = PathBuf::from(format!("{}-after.json", stem.display()));
        carecircle::report::write_json(&out.before, &b)?;
        carecircle::report::write_json(&out.after, &af)?;
        println!("reports: {} {}", b.display(), af.display());
    }
    if let Some(p) = &a.map {
        use carecircle::report::map::{write_map, MapSpec, ProposalMark};
        let en = a.scenario.english();
        let kind_name = if en { kind.en() } else { kind.zh() };
        let mut spec = MapSpec::new(
            1600,
            1100,
            if en {
                format!("{} — proposed {kind_name} sites", ds.name)
            } else {
                format!("{} — 新增{kind_name}选址建议", ds.name)
            },
        );
        spec.english = en;
        // Colour by the kind's reach rule if the plan has one, else by its first rule.
        let of_kind = |r: &&carecircle::coverage::RuleResult| r.kinds.contains(&kind.key());
        spec.rule = out
            .after
            .rules
            .iter()
            .filter(of_kind)
            .find(|r| r.test == "population_within")
            .or_else(|| out.after.rules.iter().find(of_kind))
            .map(|r| r.id.clone());
        spec.subtitle = proposal_subtitle(&out.proposals, en);
        spec.proposals = out
            .proposals
            .proposals
            .iter()
            .map(|q| ProposalMark {
                x: q.x,
                y: q.y,
                rank: q.rank,
                accepted: true,
            })
            .collect();
        write_map(&ds, Some(&out.after), &spec, p)?;
        println!("map: {}", p.display());
    }
    Ok(())
}

fn proposal_subtitle(p: &carecircle::siting::propose::Proposals, en: bool) -> String {
    let gap = p
        .gap
        .map(|g| format!(" · gap {:.3}%", g * 100.0))
        .unwrap_or_default();
    let (sites, model) = if en {
        ("new sites", "model")
    } else {
        ("处新增", "模型")
    };
    format!(
        "{} {sites} · {model} {} · {}{gap}",
        p.proposals.len(),
        format!("{:?}", p.model).to_lowercase(),
        carecircle::report::map::mode_label(&p.mode, en)
    )
}

fn map(a: MapArgs) -> anyhow::Result<()> {
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
    let sc = a.scenario.scenario()?;
    let ds = load(&a.dataset)?;
    let bar = BarProgress::new();
    let report = a.scenario.with_access(&sc, &ds, |access| {
        carecircle::coverage::analyze(&ds, sc.rules(), &sc.options(), access, &bar)
    })?;
    bar.finish();
    let report = report.context("analysis")?;
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
    write_map(&ds, Some(&report), &spec, &a.out)?;
    println!("map: {}", a.out.display());
    Ok(())
}
