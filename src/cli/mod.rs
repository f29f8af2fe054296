//! Headless commands. Thin: parse arguments, call the library, print.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use carecircle::coverage::scenario::MAX_SNAP_M;
use carecircle::model::{Dataset, FacilityKind, LayerRole, UnitLevel};
use carecircle::progress::Progress;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

mod access;
mod inspect;
mod siting;
mod walking;
use access::*;
use inspect::*;
use siting::*;
use walking::*;

#[derive(Parser)]
#[command(
    name = "carecircle",
    version,
    about = "一老一小 facility siting: coverage gaps and proposals"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Refuse datasets whose estimated memory use exceeds this (e.g. 8G, 512M; default:
    /// the memory available now). The estimate comes from the files' sizes, before loading.
    #[arg(long, global = true, value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// "8G", "512M", "1.5g", "100000" (bytes) → bytes (binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.strip_suffix('B').unwrap_or(&t);
    let (num, mul) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok((v * mul as f64) as u64),
        _ => Err(format!("'{s}': a size such as 8G, 512M or 100000 (bytes)")),
    }
}

/// Refuses a dataset that will not fit (see `carecircle::io::load::check_memory`).
pub fn check_memory(path: &std::path::Path) -> anyhow::Result<()> {
    Ok(carecircle::io::load::check_memory(path)?)
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
    /// Accessibility per demand point and unit: 2SFCA, enhanced 2SFCA with a decay,
    /// gravity, or the mean distance to the n nearest facilities; with equity figures.
    Access(AccessArgs),
    /// Origin–facility pairs within a walk (or straight-line distance), as sparse CSV.
    Matrix(MatrixArgs),
    /// Walking catchment bands (e.g. 5/10/15 min) of facilities as GeoJSON polygons.
    Catchments(CatchmentArgs),
    /// Solve a facility-location instance in the shared benchmark format.
    Solve(SolveArgs),
    Propose(Box<ProposeArgs>),
    /// The PDF report (体检报告): cover, summary table, a page per rule with its map, the
    /// 15-minute circle by district, proposals, data notes.
    Report(ReportArgs),
    /// Field edits kept beside a dataset (made in the app): list them, or write the
    /// facilities with the edits applied (GeoJSON, GeoPackage, Excel or CSV), every source
    /// attribute and id kept.
    Edits(EditsArgs),
    /// Draw the analysis as a presentation map (PNG or SVG): units coloured by a rule,
    /// facilities, uncovered demand, legend, scale bar, north arrow and data sources.
    Map(MapArgs),
}

/// `carecircle report`: the PDF a bureau hands to the city government.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Proposals from `propose --json` on the same data: adds their page.
    #[arg(long, conflicts_with = "propose")]
    pub proposals: Option<PathBuf>,
    /// Compute proposals for the report: KIND:MODEL:P, e.g. day_care:mclp:10 (solved
    /// exactly within --time-limit, so the page can state the proof).
    #[arg(long)]
    pub propose: Option<String>,
    /// Seconds for the exact solve of --propose.
    #[arg(long, default_value_t = 60.0)]
    pub time_limit: f64,
    /// Paper size (portrait): A4 or A3.
    #[arg(long, default_value = "A4")]
    pub paper: String,
    /// The date on the cover (default: today, UTC).
    #[arg(long)]
    pub date: Option<String>,
    /// Output file (.pdf).
    #[arg(long)]
    pub out: PathBuf,
}

/// `carecircle edits`: the edit log of a dataset.
#[derive(clap::Args)]
pub struct EditsArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    /// The edit log (default: the one the app keeps for this dataset).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Write the edited facilities here (.geojson, .gpkg, .xlsx or .csv).
    #[arg(long)]
    pub export: Option<PathBuf>,
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
    /// Output file: .png, .svg or .pdf (vector, text searchable, font embedded).
    #[arg(long)]
    pub out: PathBuf,
    /// Image size in pixels, WIDTHxHEIGHT (screen layout; see --paper for print).
    #[arg(long, default_value = "1600x1100")]
    pub size: String,
    /// Print layout on paper (A4 or A3): sizes in millimetres, the legend, north arrow and
    /// scale bar in a column beside the data (never over it). Overrides --size.
    #[arg(long)]
    pub paper: Option<String>,
    /// With --paper: landscape instead of portrait.
    #[arg(long)]
    pub landscape: bool,
    /// PNG resolution in dots per inch (print: 300).
    #[arg(long, default_value_t = 96.0)]
    pub dpi: f64,
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
    /// mclp | lscp | pmedian | threshold | sized | capacitated
    #[arg(long, default_value = "mclp")]
    pub model: String,
    /// Threshold model: the share of demand (0–1] to bring within reach with the fewest
    /// new sites (0.9 = 90 %).
    #[arg(long)]
    pub share: Option<f64>,
    /// A layer of polygons or points where no site may go (rivers, parks, military land).
    #[arg(long)]
    pub exclude: Option<PathBuf>,
    /// CRS of the --exclude file when it does not say.
    #[arg(long)]
    pub exclude_crs: Option<String>,
    /// Candidates within this many metres of an excluded shape are dropped too (needed for
    /// points; 0 = inside polygons only).
    #[arg(long, default_value_t = 0.0)]
    pub exclude_buffer: f64,
    /// No new site within this many metres of an existing facility of the kind.
    #[arg(long)]
    pub forbidden_radius: Option<f64>,
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
    /// Module sizes in places or beds (capacitated and sized models).
    #[arg(long, default_value = "80,150")]
    pub modules: String,
    /// Sized model: the cost of each module, in the budget's unit (default 1 each).
    #[arg(long)]
    pub module_costs: Option<String>,
    /// Sized model: what all new sites may cost together.
    #[arg(long)]
    pub budget: Option<f64>,
    /// Sized model: the share of the group that needs a place (e.g. a nursery uptake).
    #[arg(long, default_value_t = 1.0)]
    pub uptake: f64,
    /// Proposals as GeoJSON (.geojson/.json) or CSV (.csv).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The whole answer (proposals, before/after rules) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// An Excel workbook: the coverage after the proposals (rules, units, gaps, equity)
    /// and the proposals with their before → after.
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
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
    /// Solve as this model instead of the instance's (mclp, lscp, pmedian, threshold).
    #[arg(long)]
    pub model: Option<String>,
    /// Threshold covering: the share of demand weight (0–1] to reach.
    #[arg(long)]
    pub share: Option<f64>,
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
    /// A folder with dataset.toml, a dataset.toml, or a single data file (with --compare:
    /// optional, default the first project's data).
    #[arg(required_unless_present = "compare")]
    pub dataset: Option<PathBuf>,
    /// Compare two scenarios: project files (their settings and accepted proposals) or
    /// FILE#NAME for a named scenario kept in a project. Rule by rule, unit by unit.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub compare: Option<Vec<String>>,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Write the report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write units coloured by status and uncovered demand as GeoJSON (WGS84); a .gpkg
    /// name writes a GeoPackage.
    #[arg(long)]
    pub geojson: Option<PathBuf>,
    /// Write units.csv, rules.csv, uncovered_by_unit.csv and uncovered_grid.csv (and with
    /// `--uncovered points` uncovered_demand.csv) into this folder.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// An Excel workbook: rules, units, gaps and equity sheets.
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// Write the exports in this format into the folder `--out`. `geoparquet`:
    /// units.parquet, unit_rules.parquet, uncovered_grid.parquet (and with `--uncovered
    /// points` uncovered_demand.parquet), GeoParquet 1.1 in WGS84, every row tagged with
    /// the dataset — per-province outputs that Sedona, DuckDB or GeoPandas read as one table.
    #[arg(long, value_enum, requires = "out")]
    pub format: Option<ExportFormat>,
    /// The folder `--format` writes into.
    #[arg(long, requires = "format")]
    pub out: Option<PathBuf>,
    /// Uncovered demand in the JSON/GeoJSON/CSV exports: summed per unit and per grid cell
    /// (`aggregate`), or those plus every uncovered point (`points`: large for a province).
    #[arg(long, value_enum, default_value_t = UncoveredArg::Aggregate)]
    pub uncovered: UncoveredArg,
    /// Cell size of the uncovered-demand grid, metres.
    #[arg(long, default_value_t = 1000.0, value_parser = positive_metres)]
    pub grid_m: f64,
    /// Units listed per failing rule.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum ExportFormat {
    /// GeoParquet 1.1 (a folder of .parquet files).
    Geoparquet,
}

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum UncoveredArg {
    /// Per unit and per grid cell.
    Aggregate,
    /// Per unit, per grid cell and every point.
    Points,
}

impl AnalyzeArgs {
    pub fn uncovered_export(&self) -> carecircle::report::UncoveredExport {
        carecircle::report::UncoveredExport {
            points: self.uncovered == UncoveredArg::Points,
            cell_m: self.grid_m,
        }
    }
}

fn positive_metres(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 10.0 => Ok(v),
        Ok(v) => Err(format!("{v} m: the grid cell must be at least 10 m")),
        Err(e) => Err(e.to_string()),
    }
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
            sc.set_walk(m, s).context("--minutes / --speed")?;
        }
        sc.mode = self.mode.into();
        check_max_snap(self.max_snap)?;
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

    /// The coverage analysis of `ds` in scenario `sc`, with a progress bar.
    fn analyze(
        &self,
        sc: &carecircle::coverage::Scenario,
        ds: &Dataset,
    ) -> anyhow::Result<carecircle::coverage::Report> {
        let bar = BarProgress::new();
        let report = self.with_access(sc, ds, |access| {
            carecircle::coverage::analyze(ds, sc.rules(), &sc.options(), access, &bar)
        })?;
        bar.finish();
        report.context("analysis")
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
        Command::Access(a) => access(a),
        Command::Matrix(a) => matrix(a),
        Command::Catchments(a) => catchments(a),
        Command::Solve(a) => solve(a),
        Command::Propose(a) => propose(*a),
        Command::Map(a) => map(a),
        Command::Report(a) => report(a),
        Command::Edits(a) => edits(a),
        Command::App { .. } => unreachable!("dispatched in main"),
    }
}

/// `carecircle edits`: lists the log's edits; with `--export`, writes the edited layer.
fn edits(a: EditsArgs) -> anyhow::Result<()> {
    use carecircle::io::edits::{log_place, write_facilities, EditLog};
    use carecircle::model::edits::apply_edits;
    let ds = load(&a.dataset)?;
    let path = match &a.log {
        Some(p) => p.clone(),
        None => log_place(&ds).path,
    };
    anyhow::ensure!(
        path.is_file(),
        "{}: no edit log (edits made in the app are kept there)",
        path.display()
    );
    if let Some(out) = &a.export {
        use carecircle::io::write::OutputFormat as F;
        let format = if out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
        {
            F::Xlsx
        } else if out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            F::Csv
        } else {
            F::GeoJson
        };
        let log_path: &Path = &path;
        check_outputs(&ds, &[log_path], &[(out, format)])?;
    }
    let opened = EditLog::open(&path, &ds)?;
    for n in &opened.notes {
        eprintln!("note: {}", n.en);
    }
    let h = opened.history;
    println!(
        "{}: {} edits in force, {} undone",
        path.display(),
        h.done.len(),
        h.undone.len()
    );
    for e in &h.done {
        println!(
            "  {}  {:<12} {}  {}",
            e.at,
            e.kind.en(),
            e.key,
            edit_summary(e)
        );
    }
    if let Some(out) = &a.export {
        let (edited, notes) = apply_edits(&ds, &h.done);
        for n in &notes {
            eprintln!("note: {}", n.en);
        }
        write_facilities(out, &edited, &ds)?;
        println!(
            "{} facilities with the edits applied: {}",
            edited.facilities.len(),
            out.display()
        );
    }
    Ok(())
}

/// What an edit changed, in a few words.
fn edit_summary(e: &carecircle::model::edits::Edit) -> String {
    match (&e.before, &e.after) {
        (None, Some(a)) => format!("{} ({})", a.name, a.kind.key()),
        (Some(b), None) => format!("{} ({})", b.name, b.kind.key()),
        (Some(b), Some(a)) => {
            let mut parts = Vec::new();
            if a.name != b.name {
                parts.push(format!("name {} → {}", b.name, a.name));
            }
            if a.kind != b.kind {
                parts.push(format!("kind {} → {}", b.kind.key(), a.kind.key()));
            }
            if a.capacity != b.capacity {
                parts.push(format!("capacity {:?} → {:?}", b.capacity, a.capacity));
            }
            if a.status != b.status {
                parts.push(format!("status {} → {}", b.status.key(), a.status.key()));
            }
            if a.location != b.location {
                if let (Some(p), Some(q)) = (b.location, a.location) {
                    parts.push(format!("moved {:.0} m", (p[0] - q[0]).hypot(p[1] - q[1])));
                } else {
                    parts.push("location set".into());
                }
            }
            if a.qualifiers != b.qualifiers || a.year != b.year {
                parts.push("qualifiers/year".into());
            }
            if let Some(v) = a
                .verification()
                .filter(|v| Some(v) != b.verification().as_ref())
            {
                parts.push(format!("verified {} by {}", v.date, v.by));
            }
            parts.join("; ")
        }
        (None, None) => String::new(),
    }
}

/// Drives an indicatif bar from library progress.
pub struct BarProgress {
    bar: ProgressBar,
    /// With `CARECIRCLE_STAGE_TIMES` set: when the current stage began, and its name, so
    /// each stage's time is printed to stderr when the next begins (for profiling).
    timed: Option<std::sync::Mutex<(std::time::Instant, String)>>,
}

impl BarProgress {
    pub fn new() -> Self {
        let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        bar.enable_steady_tick(Duration::from_millis(120));
        let timed = std::env::var_os("CARECIRCLE_STAGE_TIMES")
            .map(|_| std::sync::Mutex::new((std::time::Instant::now(), "start".to_owned())));
        BarProgress { bar, timed }
    }
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        self.time_stage("end");
    }
    fn time_stage(&self, next: &str) {
        if let Some(Ok(mut t)) = self.timed.as_ref().map(|m| m.lock()) {
            eprintln!("stage {:<40} {:>8.3} s", t.1, t.0.elapsed().as_secs_f64());
            *t = (std::time::Instant::now(), next.to_owned());
        }
    }
}

impl Progress for BarProgress {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.time_stage(name);
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
    check_memory(path)?;
    let bar = BarProgress::new();
    let ds = carecircle::io::load_path_with(path, &bar)
        .with_context(|| format!("loading {}", path.display()));
    bar.finish();
    ds
}

/// Checks a command's outputs before any work is done: none may overwrite a file the run
/// read (the dataset's files and graph cache, `extra` inputs such as candidates or a rule
/// file), and each must carry its format's extension.
pub(crate) fn check_outputs(
    ds: &Dataset,
    extra: &[&std::path::Path],
    outs: &[(&std::path::Path, carecircle::io::write::OutputFormat)],
) -> anyhow::Result<()> {
    let mut inputs = carecircle::io::write::Inputs::of_dataset(ds);
    for p in extra {
        inputs.add(p);
    }
    for (path, format) in outs {
        format.check(path)?;
        inputs.check(path)?;
    }
    Ok(())
}

/// A map's format from its file name: SVG for .svg, PNG for .png, nothing else.
pub(crate) fn map_format(path: &std::path::Path) -> carecircle::io::write::OutputFormat {
    use carecircle::io::write::OutputFormat;
    match path.extension().map(|e| e.to_string_lossy().to_lowercase()) {
        Some(e) if e == "svg" => OutputFormat::Svg,
        Some(e) if e == "pdf" => OutputFormat::Pdf,
        _ => OutputFormat::Png,
    }
}

/// A rule preset given as a file (not a shipped name) is an input of the run.
pub(crate) fn rules_file(rules: &str) -> Option<&std::path::Path> {
    let p = std::path::Path::new(rules);
    p.is_file().then_some(p)
}

/// `--speed` (m/s), as every command that walks takes it.
pub(crate) fn check_speed(v: f64) -> anyhow::Result<()> {
    in_range(
        "--speed",
        v,
        0.01,
        carecircle::coverage::scenario::MAX_WALK_SPEED_M_S,
        "m/s: elderly 0.8, adult 1.2, wheelchair 0.6; more is a run",
    )
}

/// `--max-snap` (metres to the nearest street).
pub(crate) fn check_max_snap(v: f64) -> anyhow::Result<()> {
    in_range(
        "--max-snap",
        v,
        0.0,
        MAX_SNAP_M,
        "metres to the nearest street; farther is off the network",
    )
}

/// `--time-limit` (seconds).
pub(crate) fn check_time_limit(v: f64) -> anyhow::Result<()> {
    in_range("--time-limit", v, 0.01, 86_400.0, "seconds; a day at most")
}

/// A walk in minutes (`--max-minutes`, each of `--bands`).
pub(crate) fn check_minutes(name: &str, v: f64) -> anyhow::Result<()> {
    in_range(name, v, 0.01, 1440.0, "minutes; a day's walk at most")
}

/// Refuses a numeric argument that is not finite or lies outside [lo, hi], naming it, its
/// value and why the bound is there.
pub(crate) fn in_range(name: &str, v: f64, lo: f64, hi: f64, why: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        v.is_finite() && v >= lo && v <= hi,
        "{name} {v}: must be between {lo} and {hi} ({why})"
    );
    Ok(())
}
