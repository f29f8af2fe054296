//! The desktop app: loads a dataset and runs the coverage analysis on a named worker thread
//! (progress, cancel); draws units coloured by rule status (earcut meshes), the street
//! network and facilities; Rules panel (preset, walking time × speed = distance, straight
//! line or walking network), a dashboard of targets, and an Inspect window for a clicked
//! unit and spot. Load warnings and data attribution have their own windows.
//!
//! UI code never mutates state directly during drawing: it pushes [`Command`]s, drained once
//! per frame (the rerun pattern), so jobs and UI stay decoupled.

use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

use crate::coverage::rules::PRESETS;
use crate::coverage::{DistanceMode, Report, Scenario, WalkSpeed};
use crate::model::{Dataset, FacilityKind, FacilityStatus, UnitId};
use crate::network::Graph;
use crate::progress::{Progress, SharedProgress};
use crate::spatial::UnitIndexes;

mod data;
pub mod layers;
pub mod map;
mod panels;
pub use data::{ExportKind, Purpose};
use map::View;

/// The CJK font shipped with the app (WenQuanYi Micro Hei, GB2312 subset; Apache-2.0).
pub use crate::report::map::CJK_FONT;

/// Installs the CJK font as a fallback for every family, so Chinese renders on machines
/// with no CJK fonts installed (and in headless tests).
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "wqy".to_owned(),
        std::sync::Arc::new(egui::FontData::from_static(CJK_FONT)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("wqy".to_owned());
    }
    ctx.set_fonts(fonts);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Zh,
    En,
}

/// What the app remembers between sessions.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    dataset: Option<PathBuf>,
    preset: String,
    minutes: f64,
    speed: f64,
    network: bool,
    english: bool,
    with_planned: bool,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    layers: Vec<layers::LayerStyle>,
    #[serde(default)]
    map_rule: Option<String>,
}

const SAVED_KEY: &str = "carecircle-settings";

/// Everything the UI can ask for.
pub enum Command {
    Load(PathBuf),
    /// Run the coverage analysis with the current rule settings.
    Analyze,
    CancelJob,
    FitView,
    SetLang(Lang),
    ToggleWarnings,
    ToggleAbout,
    /// Show a unit in the Inspect panel.
    Inspect(UnitId),
    /// Run the siting model set in the Proposals panel.
    Propose,
    /// Accept (true) or reject (false) proposal `rank - 1`.
    Decide(usize, bool),
    /// Zoom the map to a unit (Gaps table).
    ZoomTo(UnitId),
    /// Multiply the map scale (the +/- buttons).
    ZoomBy(f64),
    /// Fit a box (local metres) in the map: zoom to layer.
    ZoomToBounds([f64; 2], [f64; 2]),
    /// Zoom to the selected unit.
    ZoomToSelection,
    /// Move layer `index` (bottom = 0) up (+1) or down (-1).
    MoveLayer(usize, i32),
    OpenDialog(Purpose),
    /// Read a file or folder's layers and columns and show the import dialog (with the
    /// reason, when the loader was unsure).
    InspectImport(PathBuf, Option<String>),
    /// Load the layers as set in the import dialog.
    LoadManifest(Box<data::ImportState>),
    SaveProject(PathBuf),
    OpenProject(PathBuf),
    Export(ExportKind, PathBuf),
}

/// A walking catchment band ready to draw: minutes and earcut triangles (local metres).
pub struct Band {
    pub minutes: f64,
    pub triangles: Vec<[f64; 2]>,
}

/// What a loaded dataset brings with it, prepared off the UI thread.
pub struct Loaded {
    pub dataset: Arc<Dataset>,
    /// Unit outlines and earcut fill meshes at several levels of detail, with an R-tree
    /// for culling: egui fills only convex shapes, so concave polygons and holes are
    /// triangulated once here.
    pub map: map::MapCache,
    pub index: UnitIndexes,
}

enum JobResult {
    Loaded(Box<Loaded>),
    Inspected(Box<data::ImportState>),
    Exported(PathBuf),
    Proposed(Box<crate::siting::propose::Proposals>),
    Analyzed(Box<Report>, Option<Arc<Graph>>, Vec<Band>),
    Failed(String),
}

struct Job {
    progress: SharedProgress,
    rx: mpsc::Receiver<JobResult>,
}

pub struct CareCircleApp {
    dataset: Option<Arc<Dataset>>,
    map: Option<Arc<map::MapCache>>,
    index: Option<UnitIndexes>,
    report: Option<Report>,
    graph: Option<Arc<Graph>>,
    bands: Vec<Band>,
    /// Plan, walk, distance mode, planned projects and year: the library's one type.
    scenario: Scenario,
    selected: Option<UnitId>,
    /// The spot last clicked on the map (local metres): "is this spot covered?".
    spot: Option<[f64; 2]>,
    /// Nearest facility of each kind to `spot`, computed once per click (not per frame).
    spot_facts: Option<Vec<SpotFact>>,
    /// The rule the choropleth shows; `None` = overall status over all rules.
    map_rule: Option<String>,
    job_label: &'static str,
    job: Option<Job>,
    errors: Vec<String>,
    commands: Vec<Command>,
    view: Option<View>,
    lang: Lang,
    show_warnings: bool,
    show_about: bool,
    path_input: String,
    /// Proposals panel: settings, the last run, and each proposal's decision.
    pub(crate) siting: panels::SitingState,
    /// Gaps table: sort column and direction.
    pub(crate) gaps_sort: (panels::GapSort, bool),
    /// The map's smaller side in points, for zoom-to.
    last_map_size: f64,
    /// The map's rect in the last frame (for scripted clicks in UI tests).
    last_map_rect: Option<Rect>,
    /// Map layers, bottom to top, with visibility and style.
    layers: Vec<layers::LayerStyle>,
    /// Facility kinds switched off in the Layers panel.
    hidden_kinds: Vec<FacilityKind>,
    /// Uncovered demand of the map's rule in local metres, computed once per rule.
    uncovered: Option<(Option<String>, Vec<[f64; 2]>)>,
    dialog: Option<data::FileDialog>,
    import: Option<data::ImportState>,
    /// What the last load tried to open (for the import dialog when it fails).
    last_load: Option<PathBuf>,
    /// The import settings the last load used, if it came from the import dialog.
    last_import: Option<data::ImportState>,
    project_path: Option<PathBuf>,
    /// Project parts applied once its data has loaded (view, proposals).
    pending_project: Option<data::Project>,
    /// Confirmations (saved, exported).
    notices: Vec<String>,
    /// The last job the user cancelled, said where its progress bar was (not an error).
    cancelled: Option<String>,
}

impl CareCircleApp {
    pub fn new(ctx: &egui::Context, dataset: Option<PathBuf>) -> Self {
        Self::with_storage(ctx, dataset, None)
    }

    /// Restores the last session's settings (and dataset, when none is given and it still
    /// exists) from eframe's storage.
    pub fn with_storage(
        ctx: &egui::Context,
        dataset: Option<PathBuf>,
        storage: Option<&dyn eframe::Storage>,
    ) -> Self {
        install_fonts(ctx);
        // Light theme: maps and reports are read on white, and projected in meeting rooms.
        ctx.set_visuals(egui::Visuals::light());
        let mut app = CareCircleApp {
            dataset: None,
            map: None,
            index: None,
            report: None,
            graph: None,
            bands: Vec::new(),
            scenario: Scenario::new(PRESETS[0].0).expect("shipped presets parse (tested)"),
            selected: None,
            spot: None,
            spot_facts: None,
            map_rule: Some("elderly_15min_circle".into()),
            job_label: "",
            job: None,
            errors: Vec::new(),
            commands: Vec::new(),
            view: None,
            lang: Lang::Zh,
            show_warnings: false,
            show_about: false,
            path_input: String::new(),
            siting: panels::SitingState::default(),
            gaps_sort: (panels::GapSort::Deficit, true),
            last_map_size: 800.0,
            last_map_rect: None,
            layers: layers::default_layers(),
            hidden_kinds: Vec::new(),
            uncovered: None,
            dialog: None,
            import: None,
            last_load: None,
            last_import: None,
            project_path: None,
            pending_project: None,
            notices: Vec::new(),
            cancelled: None,
        };
        let path = dataset
            .or_else(|| app.restore(storage))
            .or_else(default_dataset);
        if let Some(p) = path {
            app.path_input = p.display().to_string();
            app.commands.push(Command::Load(p));
        }
        app
    }

    fn restore(&mut self, storage: Option<&dyn eframe::Storage>) -> Option<PathBuf> {
        let st: Saved = eframe::get_value(storage?, SAVED_KEY)?;
        self.set_scenario(
            &st.preset,
            st.minutes,
            st.speed,
            st.network,
            st.with_planned,
            st.year,
        );
        self.lang = if st.english { Lang::En } else { Lang::Zh };
        if !st.layers.is_empty() {
            self.layers = layers::normalise(st.layers);
        }
        if st.map_rule.is_some() {
            self.map_rule = st.map_rule;
        }
        st.dataset.filter(|p| p.exists())
    }

    pub fn dataset(&self) -> Option<&Dataset> {
        self.dataset.as_deref()
    }

    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    pub fn selected(&self) -> Option<UnitId> {
        self.selected
    }

    /// Queue a command, as the UI's widgets do (for tests and scripted use).
    pub fn push(&mut self, c: Command) {
        self.commands.push(c);
    }

    /// Where local metres `(x, y)` were on screen in the last frame, if the map was drawn.
    pub fn screen_pos(&self, x: f64, y: f64) -> Option<Pos2> {
        Some(self.view?.to_screen(self.last_map_rect?, x, y))
    }

    /// Decisions on the last proposal run (accepted / rejected / undecided), in rank order.
    pub fn proposal_decisions(&self) -> &[Option<bool>] {
        &self.siting.decisions
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Map scale in pixels per metre, once the map has been drawn.
    pub fn map_scale(&self) -> Option<f64> {
        self.view.map(|v| v.scale)
    }

    /// Layer visibility and style, bottom to top.
    pub fn layers_mut(&mut self) -> &mut Vec<layers::LayerStyle> {
        &mut self.layers
    }

    /// Whether the file dialog is open.
    pub fn dialog_open(&self) -> bool {
        self.dialog.is_some()
    }

    /// Errors shown to the user.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The job the user cancelled last, as the top bar says it.
    pub fn cancelled(&self) -> Option<&str> {
        self.cancelled.as_deref()
    }

    /// Confirmations shown to the user (saved, exported).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The import dialog's settings, when it is open (tests set a layer's CRS here).
    pub fn import_manifest_mut(&mut self) -> Option<&mut crate::io::manifest::Manifest> {
        self.import.as_mut().map(|i| &mut i.manifest)
    }

    /// Why the import dialog opened, when it did by itself.
    pub fn import_problem(&self) -> Option<&str> {
        self.import.as_ref().and_then(|i| i.problem.as_deref())
    }

    /// The uncovered demand of the map's rule (local metres), cached per rule.
    fn uncovered_points(&self) -> &[[f64; 2]] {
        match &self.uncovered {
            Some((rule, pts)) if *rule == self.map_rule => pts,
            _ => &[],
        }
    }

    fn refresh_uncovered(&mut self) {
        if self
            .uncovered
            .as_ref()
            .is_some_and(|(r, _)| *r == self.map_rule)
        {
            return;
        }
        let pts = match (&self.dataset, &self.report, &self.map_rule) {
            (Some(ds), Some(r), Some(rule)) => crate::report::map::uncovered_points(ds, r, rule),
            _ => Vec::new(),
        };
        self.uncovered = Some((self.map_rule.clone(), pts));
    }

    fn zoom_to_box(&mut self, lo: [f64; 2], hi: [f64; 2]) {
        if let Some(v) = self.view.as_mut() {
            v.center = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
            let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(200.0);
            v.scale = self.last_map_size / span * 0.9;
        }
    }

    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    fn handle_commands(&mut self, ctx: &egui::Context) {
        for cmd in std::mem::take(&mut self.commands) {
            match cmd {
                Command::Load(path) => self.start_load(ctx, path),
                Command::Analyze => self.start_analysis(ctx),
                Command::Inspect(u) => self.selected = Some(u),
                Command::CancelJob => {
                    if let Some(j) = &self.job {
                        j.progress.cancel();
                    }
                }
                Command::FitView => self.view = None,
                Command::SetLang(l) => self.lang = l,
                Command::ToggleWarnings => self.show_warnings = !self.show_warnings,
                Command::ToggleAbout => self.show_about = !self.show_about,
                Command::Propose => self.start_proposal(ctx),
                Command::Decide(k, yes) => {
                    if let Some(d) = self.siting.decisions.get_mut(k) {
                        *d = Some(yes);
                    }
                }
                Command::ZoomTo(u) => {
                    self.selected = Some(u);
                    self.zoom_to_selection();
                }
                Command::ZoomToSelection => self.zoom_to_selection(),
                Command::ZoomBy(f) => {
                    if let Some(v) = self.view.as_mut() {
                        v.scale *= f;
                    }
                }
                Command::ZoomToBounds(lo, hi) => self.zoom_to_box(lo, hi),
                Command::MoveLayer(i, d) => {
                    let j = i as i64 + d as i64;
                    if i < self.layers.len() && j >= 0 && (j as usize) < self.layers.len() {
                        self.layers.swap(i, j as usize);
                    }
                }
                Command::OpenDialog(p) => self.open_dialog(p),
                Command::InspectImport(path, problem) => self.start_inspect(ctx, path, problem),
                Command::LoadManifest(st) => self.start_load_manifest(ctx, *st),
                Command::SaveProject(p) => self.save_project(p),
                Command::OpenProject(p) => self.open_project(p),
                Command::Export(k, p) => self.export(ctx, k, p),
            }
        }
    }

    fn zoom_to_selection(&mut self) {
        let Some(u) = self.selected else { return };
        let b = self.dataset.as_ref().and_then(|ds| {
            ds.unit(u)
                .geometry
                .as_ref()
                .and_then(geo::BoundingRect::bounding_rect)
        });
        if let Some(b) = b {
            self.zoom_to_box([b.min().x, b.min().y], [b.max().x, b.max().y]);
        }
    }

    /// Runs `work` on the named worker thread; the UI polls its result and progress.
    fn spawn(
        &mut self,
        ctx: &egui::Context,
        label: &'static str,
        work: impl FnOnce(&SharedProgress) -> JobResult + Send + 'static,
    ) {
        if self.job.is_some() {
            self.errors.push(
                self.t(
                    "已有任务在运行，请等待或取消",
                    "A job is running: wait or cancel it",
                )
                .to_owned(),
            );
            return;
        }
        let progress = SharedProgress::new();
        let (tx, rx) = mpsc::sync_channel(1);
        let p = progress.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("carecircle-worker".into())
            .spawn(move || {
                let _ = tx.send(work(&p));
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.job = Some(Job { progress, rx });
                self.job_label = label;
                self.cancelled = None;
            }
            Err(e) => self
                .errors
                .push(format!("cannot start a worker thread: {e}")),
        }
    }

    fn start_load(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.last_load = Some(path.clone());
        self.last_import = None;
        let lang = self.lang;
        self.spawn(ctx, "load", move |p| {
            match crate::io::load_path_with(&path, p) {
                Ok(ds) => loaded(ds),
                Err(e) => JobResult::Failed(load_failure(lang, &path, &e)),
            }
        });
    }

    /// The scenario as saved (settings, project files): a preset that no longer loads
    /// keeps the current one, with a message.
    fn set_scenario(
        &mut self,
        preset: &str,
        minutes: f64,
        speed: f64,
        network: bool,
        planned: bool,
        year: Option<i32>,
    ) {
        if preset != self.scenario.preset {
            match Scenario::new(preset) {
                Ok(s) => self.scenario = s,
                Err(e) => self.errors.push(e.to_string()),
            }
        }
        let _ = self.scenario.set_walk(minutes, speed);
        self.scenario.mode = if network {
            DistanceMode::Network
        } else {
            DistanceMode::Euclidean
        };
        self.scenario.include_planned = planned;
        self.scenario.year = year;
    }

    /// What every job starts from: the dataset and the scenario as the Rules panel has it;
    /// `None` when there is no dataset.
    fn job_inputs(&mut self) -> Option<(Arc<Dataset>, Scenario)> {
        Some((self.dataset.clone()?, self.scenario.clone()))
    }

    fn start_analysis(&mut self, ctx: &egui::Context) {
        let Some((ds, sc)) = self.job_inputs() else {
            return;
        };
        let lang = self.lang;
        let cached = self.graph.clone();
        self.spawn(ctx, "analyze", move |p| {
            let graph = match walking_graph(sc.mode, &ds, cached) {
                Ok(g) => g,
                Err(e) => return JobResult::Failed(e),
            };
            let result = sc.access(graph.as_deref()).and_then(|acc| {
                crate::coverage::analyze(&ds, sc.rules(), &sc.options(), acc.as_ref(), p)
            });
            // Network mode: the elderly-care circle's walking bands (⅓, ⅔ and all of the
            // walking time, widest first so the nearer ones paint over it) for the map.
            let mut bands = Vec::new();
            if let (Some(g), Ok(_)) = (&graph, &result) {
                let speed = sc.rules().settings.walk_speed_m_s;
                for band in sc.bands(g, &ds.facilities) {
                    let mut triangles = Vec::new();
                    use geo::TriangulateEarcut;
                    for p in &band.area.0 {
                        let raw = p.earcut_triangles_raw();
                        triangles.extend(raw.triangle_indices.iter().map(|i| raw.vertices[*i]));
                    }
                    bands.push(Band {
                        minutes: band.limit_m / (60.0 * speed),
                        triangles,
                    });
                }
            }
            match result {
                Ok(r) => JobResult::Analyzed(Box::new(r), graph, bands),
                Err(e) => JobResult::Failed(failure_text(lang, ("分析", "analysis"), &e)),
            }
        });
    }

    fn poll_job(&mut self) {
        let Some(job) = &self.job else { return };
        match job.rx.try_recv() {
            Ok(JobResult::Loaded(l)) => {
                let l = *l;
                self.dataset = Some(l.dataset);
                self.map = Some(Arc::new(l.map));
                self.index = Some(l.index);
                self.report = None;
                self.graph = None;
                self.bands.clear();
                self.selected = None;
                self.spot = None;
                self.spot_facts = None;
                self.view = None;
                self.uncovered = None;
                self.siting.result = None;
                self.siting.decisions.clear();
                self.job = None;
                self.import = None;
                self.last_import = None;
                self.apply_pending_project();
                // A planner opens data to see the gaps: analyse right away.
                self.commands.push(Command::Analyze);
            }
            Ok(JobResult::Inspected(st)) => {
                self.import = Some(*st);
                self.job = None;
            }
            Ok(JobResult::Exported(p)) => {
                self.notices
                    .push(format!("{} {}", self.t("已导出", "Exported"), p.display()));
                self.job = None;
            }
            Ok(JobResult::Analyzed(r, g, bands)) => {
                self.report = Some(*r);
                self.uncovered = None;
                self.bands = bands;
                if g.is_some() {
                    self.graph = g;
                    // Walking distances are now available for the clicked spot.
                    if let (Some(ds), Some(spot)) = (&self.dataset, self.spot) {
                        self.spot_facts = Some(spot_facts(
                            ds,
                            self.graph.as_deref(),
                            spot,
                            self.scenario.max_snap_m,
                        ));
                    }
                }
                self.job = None;
            }
            Ok(JobResult::Proposed(p)) => {
                self.siting.decisions = vec![None; p.proposals.len()];
                self.siting.result = Some(*p);
                self.job = None;
            }
            Ok(JobResult::Failed(_))
                if self.job.as_ref().is_some_and(|j| j.progress.is_cancelled()) =>
            {
                // The user stopped it: say so, without an error or the import dialog.
                let (_, noun) = self.job_words();
                self.cancelled = Some(match self.lang {
                    Lang::Zh => format!("已取消{noun}"),
                    Lang::En => format!("Cancelled: {noun}"),
                });
                self.job = None;
            }
            Ok(JobResult::Failed(e)) => {
                // The loader could not read the data as given: offer the import dialog
                // (role, CRS, fields) with the reason, unless the path itself is missing.
                if self.job_label == "load" {
                    if let Some(mut st) = self.last_import.take() {
                        // Reopen with the user's edits, not the file's defaults.
                        st.problem = Some(e.clone());
                        self.import = Some(st);
                    } else if let Some(src) = self.last_load.clone().filter(|p| p.exists()) {
                        self.commands
                            .push(Command::InspectImport(src, Some(e.clone())));
                    }
                }
                self.errors.push(e);
                self.job = None;
            }
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                self.errors
                    .push("the loader stopped without a result".into());
                self.job = None;
            }
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading(self.t("CareCircle 一老一小设施选址", "CareCircle siting"));
            ui.separator();
            let l = ui.label(self.t("数据集路径", "Dataset path"));
            ui.add(egui::TextEdit::singleline(&mut self.path_input).desired_width(220.0))
                .labelled_by(l.id);
            if ui.button(self.t("打开", "Open")).clicked() && !self.path_input.trim().is_empty() {
                self.commands
                    .push(Command::Load(PathBuf::from(self.path_input.trim())));
            }
            if ui.button(self.t("全图", "Fit")).clicked() {
                self.commands.push(Command::FitView);
            }
            ui.separator();
            let (label, next) = match self.lang {
                Lang::Zh => ("English", Lang::En),
                Lang::En => ("中文", Lang::Zh),
            };
            if ui.button(label).clicked() {
                self.commands.push(Command::SetLang(next));
            }
            let n_warn = self.dataset.as_ref().map_or(0, |d| d.warnings.len());
            if ui
                .button(format!("{} ({n_warn})", self.t("加载警告", "Warnings")))
                .clicked()
            {
                self.commands.push(Command::ToggleWarnings);
            }
            if ui
                .button(self.t("关于与数据来源", "About & data sources"))
                .clicked()
            {
                self.commands.push(Command::ToggleAbout);
            }
        });
        if let Some(job) = &self.job {
            let (stage, frac) = job.progress.snapshot();
            ui.horizontal(|ui| {
                let (what, _) = self.job_words();
                ui.label(format!("{what} {}", stage_text(self.lang, &stage)));
                match frac {
                    Some(f) => ui.add(
                        egui::ProgressBar::new(f)
                            .desired_width(240.0)
                            .show_percentage(),
                    ),
                    None => ui.spinner(),
                };
                if ui.button(self.t("取消", "Cancel")).clicked() {
                    self.commands.push(Command::CancelJob);
                }
            });
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        if let Some(c) = &self.cancelled {
            ui.weak(c);
        }
        for e in &self.errors {
            ui.colored_label(Color32::from_rgb(200, 40, 40), e);
        }
    }

    /// What the running job does, for its progress line ("Analysing") and as a noun
    /// ("cancelled: analysis"), in the UI's language.
    fn job_words(&self) -> (&'static str, &'static str) {
        let (doing, noun) = match self.job_label {
            "analyze" => (("正在分析", "Analysing"), ("分析", "analysis")),
            "propose" => (("正在选址", "Proposing sites"), ("选址", "site proposal")),
            "export" => (("正在导出", "Exporting"), ("导出", "export")),
            "inspect" => (
                ("正在读取字段", "Reading fields"),
                ("读取字段", "reading fields"),
            ),
            _ => (("正在加载", "Loading"), ("加载", "loading")),
        };
        (self.t(doing.0, doing.1), self.t(noun.0, noun.1))
    }

    fn legend_ui(&self, ui: &mut egui::Ui) {
        let Some(ds) = &self.dataset else {
            ui.label(self.t("未加载数据", "No data loaded"));
            return;
        };
        ui.heading(&ds.name);
        ui.label(format!(
            "{}: {}",
            self.t("投影", "Projection"),
            ds.projection.describe()
        ));
        ui.separator();
        for level in crate::model::UnitLevel::ALL {
            let n = ds.count_units(level);
            if n > 0 {
                let name = match self.lang {
                    Lang::Zh => level.zh().to_owned(),
                    Lang::En => level.key().replace('_', "-"),
                };
                ui.label(format!("{name}: {n}"));
            }
        }
        ui.separator();
        for kind in FacilityKind::ALL {
            let fs: Vec<_> = ds.facilities.iter().filter(|f| f.kind == kind).collect();
            if fs.is_empty() {
                continue;
            }
            let synthetic = fs.iter().filter(|f| f.synthetic).count();
            ui.horizontal(|ui| {
                let (r, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
                ui.painter()
                    .circle_filled(r.center(), 5.0, kind_color(kind));
                let name = match self.lang {
                    Lang::Zh => kind.zh(),
                    Lang::En => kind.en(),
                };
                ui.label(format!("{name}: {}", fs.len()));
                if synthetic > 0 {
                    ui.colored_label(
                        Color32::from_rgb(180, 90, 0),
                        format!("({} {synthetic})", self.t("模拟数据", "synthetic")),
                    );
                }
            });
        }
        if ds.facilities.iter().any(|f| f.synthetic) {
            ui.colored_label(
                Color32::from_rgb(180, 90, 0),
                self.t(
                    "空心圆 = 模拟设施（非真实数据）",
                    "Hollow ring = synthetic facility (not real)",
                ),
            );
        }
        if !ds.network.is_empty() {
            ui.label(format!(
                "{}: {}",
                self.t("步行路网线段", "Walk network lines"),
                ds.network.len()
            ));
        }
    }

    fn map_ui(&mut self, ui: &mut egui::Ui) {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_rgb(246, 245, 240));
        let Some(ds) = &self.dataset else { return };
        self.last_map_size = rect.width().min(rect.height()) as f64;
        self.last_map_rect = Some(rect);
        let view = *self.view.get_or_insert_with(|| fit_view(ds, rect));
        let mut view = view;
        if response.dragged() {
            let d = response.drag_delta();
            view.center[0] -= d.x as f64 / view.scale;
            view.center[1] += d.y as f64 / view.scale;
        }
        if response.hovered() {
            let zoom = ui.input(|i| i.zoom_delta() * (i.smooth_scroll_delta.y / 300.0).exp());
            if (zoom - 1.0).abs() > 1e-4 {
                if let Some(p) = response.hover_pos() {
                    // Keep the point under the cursor fixed.
                    let mx = view.center[0] + (p.x - rect.center().x) as f64 / view.scale;
                    let my = view.center[1] - (p.y - rect.center().y) as f64 / view.scale;
                    view.scale *= zoom as f64;
                    view.center[0] = mx - (p.x - rect.center().x) as f64 / view.scale;
                    view.center[1] = my + (p.y - rect.center().y) as f64 / view.scale;
                }
            }
        }
        self.view = Some(view);
        if response.clicked() {
            if let Some(p) = response.interact_pointer_pos() {
                let x = view.center[0] + (p.x - rect.center().x) as f64 / view.scale;
                let y = view.center[1] - (p.y - rect.center().y) as f64 / view.scale;
                self.spot = Some([x, y]);
                self.spot_facts = Some(spot_facts(
                    ds,
                    self.graph.as_deref(),
                    [x, y],
                    self.scenario.max_snap_m,
                ));
                if let Some(u) = self
                    .index
                    .as_ref()
                    .and_then(|i| i.locate_finest(ds, geo::Point::new(x, y)))
                {
                    self.commands.push(Command::Inspect(u));
                }
            }
        }
        let tx = |x: f64, y: f64| view.to_screen(rect, x, y);
        let visible = self
            .map
            .as_ref()
            .map(|m| m.visible(view, rect))
            .unwrap_or_default();
        // Layers bottom to top, as the Layers panel orders them.
        for style in self.layers.clone() {
            if !style.visible {
                continue;
            }
            match style.id {
                layers::LayerId::Units => {
                    // Choropleth: the finest units with shapes, coloured by their rule status.
                    if let (Some(report), Some(cache)) = (&self.report, &self.map) {
                        let finest = ds.finest_shaped_tier();
                        let mesh = cache.fill_mesh(view, rect, &visible, |u| {
                            if Some(ds.unit(u).level.tier()) != finest {
                                return None;
                            }
                            crate::report::map::unit_fill(report, u, self.map_rule.as_deref())
                                .map(|c| layers::fade(rgba(c), style.opacity))
                        });
                        painter.add(egui::Shape::mesh(mesh));
                    }
                }
                layers::LayerId::Bands => {
                    // Walking bands (network mode), outermost first so inner bands draw on top.
                    for (k, band) in self.bands.iter().enumerate() {
                        let color = [
                            Color32::from_rgba_unmultiplied(70, 110, 220, 45),
                            Color32::from_rgba_unmultiplied(70, 110, 220, 60),
                            Color32::from_rgba_unmultiplied(70, 110, 220, 80),
                        ][k.min(2)];
                        let color = layers::fade(color, style.opacity);
                        let mut mesh = egui::Mesh::default();
                        for t in band.triangles.chunks_exact(3) {
                            let base = mesh.vertices.len() as u32;
                            for v in t {
                                mesh.colored_vertex(tx(v[0], v[1]), color);
                            }
                            mesh.add_triangle(base, base + 1, base + 2);
                        }
                        painter.add(egui::Shape::mesh(mesh));
                    }
                }
                layers::LayerId::Streets => {
                    // Street network under everything, culled by bounding box.
                    let street = Stroke::new(0.6, Color32::from_rgb(190, 190, 190));
                    for l in &ds.network {
                        let pts: Vec<Pos2> = l.geometry.0.iter().map(|c| tx(c.x, c.y)).collect();
                        if pts.iter().any(|p| rect.contains(*p)) {
                            painter.add(egui::Shape::line(pts, street));
                        }
                    }
                }
                layers::LayerId::Outlines => {
                    // Unit boundaries: county level thick, township level thin; culled by the R-tree,
                    // simplified to the scale.
                    if let Some(cache) = &self.map {
                        let mut shapes = Vec::new();
                        cache.outlines(
                            view,
                            rect,
                            &visible,
                            |u| {
                                Some(match ds.unit(u).level.tier() {
                                    1 => Stroke::new(2.0, Color32::from_rgb(60, 60, 110)),
                                    2 => Stroke::new(1.0, Color32::from_rgb(90, 110, 160)),
                                    _ => Stroke::new(0.6, Color32::from_rgb(140, 150, 180)),
                                })
                            },
                            &mut shapes,
                        );
                        painter.extend(shapes);
                    }
                }
                layers::LayerId::Uncovered => {
                    // Uncovered demand of the map's rule: one dot per pixel.
                    let pts = self.uncovered_points();
                    if !pts.is_empty() {
                        let [r, g, b, a] = crate::report::map::UNCOVERED_RGBA;
                        painter.add(egui::Shape::mesh(map::dot_mesh(
                            view,
                            rect,
                            pts,
                            1.2 * style.size,
                            Color32::from_rgba_unmultiplied(r, g, b, a),
                        )));
                    }
                }
                layers::LayerId::Facilities => {
                    for f in &ds.facilities {
                        let Some(p) = f.location else { continue };
                        let pos = tx(p.x(), p.y());
                        if !rect.contains(pos) {
                            continue;
                        }
                        if self.hidden_kinds.contains(&f.kind) {
                            continue;
                        }
                        let c = kind_color(f.kind);
                        let z = style.size;
                        if f.synthetic {
                            painter.circle_stroke(pos, 3.5 * z, Stroke::new(1.5, c));
                        } else if f.status == FacilityStatus::Existing {
                            painter.circle_filled(pos, 4.0 * z, c);
                        } else {
                            painter.rect_filled(
                                Rect::from_center_size(pos, Vec2::splat(7.0 * z)),
                                0.0,
                                c,
                            );
                        }
                    }
                }
                layers::LayerId::Proposals => {
                    // Proposals: diamonds, filled once accepted, hidden once rejected.
                    if let Some(r) = &self.siting.result {
                        for (k, p) in r.proposals.iter().enumerate() {
                            let d = self.siting.decisions.get(k).copied().flatten();
                            if d == Some(false) {
                                continue;
                            }
                            let pos = tx(p.x, p.y);
                            if !rect.contains(pos) {
                                continue;
                            }
                            let pts = vec![
                                pos + Vec2::new(0.0, -7.0 * style.size),
                                pos + Vec2::new(7.0 * style.size, 0.0),
                                pos + Vec2::new(0.0, 7.0 * style.size),
                                pos + Vec2::new(-7.0 * style.size, 0.0),
                            ];
                            let c = Color32::from_rgb(230, 120, 0);
                            if d == Some(true) {
                                painter.add(egui::Shape::convex_polygon(
                                    pts,
                                    c,
                                    Stroke::new(1.0, Color32::BLACK),
                                ));
                            } else {
                                painter.add(egui::Shape::closed_line(pts, Stroke::new(2.0, c)));
                            }
                        }
                    }
                }
            }
        }
        if let Some(u) = self.selected {
            if let Some(g) = &ds.unit(u).geometry {
                for poly in &g.0 {
                    let pts: Vec<Pos2> = poly.exterior().0.iter().map(|c| tx(c.x, c.y)).collect();
                    painter.add(egui::Shape::closed_line(
                        pts,
                        Stroke::new(3.0, Color32::from_rgb(255, 170, 0)),
                    ));
                }
            }
        }
        if let Some([x, y]) = self.spot {
            let p = tx(x, y);
            painter.circle_stroke(p, 6.0, Stroke::new(2.0, Color32::BLACK));
            painter.line_segment(
                [p - Vec2::new(9.0, 0.0), p + Vec2::new(9.0, 0.0)],
                Stroke::new(1.0, Color32::BLACK),
            );
            painter.line_segment(
                [p - Vec2::new(0.0, 9.0), p + Vec2::new(0.0, 9.0)],
                Stroke::new(1.0, Color32::BLACK),
            );
        }
        if let Some(report) = &self.report {
            let (title, items) = crate::report::map::choropleth_legend(
                report,
                self.map_rule.as_deref(),
                self.lang == Lang::En,
            );
            let items: Vec<(Color32, String)> =
                items.into_iter().map(|(c, l)| (rgba(c), l)).collect();
            let mut items = items;
            for b in &self.bands {
                items.push((
                    Color32::from_rgba_unmultiplied(70, 110, 220, 110),
                    format!(
                        "{} {:.0} {}",
                        self.t("步行", "Walk"),
                        b.minutes,
                        self.t("分钟可达范围", "min reach")
                    ),
                ));
            }
            let mut y = rect.top() + 10.0;
            painter.text(
                Pos2::new(rect.left() + 10.0, y),
                egui::Align2::LEFT_TOP,
                title,
                egui::FontId::proportional(13.0),
                Color32::BLACK,
            );
            y += 20.0;
            for (c, label) in items {
                painter.rect_filled(
                    Rect::from_min_size(Pos2::new(rect.left() + 10.0, y), Vec2::new(14.0, 14.0)),
                    2.0,
                    c,
                );
                painter.text(
                    Pos2::new(rect.left() + 30.0, y + 7.0),
                    egui::Align2::LEFT_CENTER,
                    label,
                    egui::FontId::proportional(13.0),
                    Color32::BLACK,
                );
                y += 18.0;
            }
        }
        scale_bar(&painter, rect, view.scale);
        // Zoom buttons in the bottom-right corner (windows such as Inspect open at the top).
        let b = |k: f32| {
            Rect::from_min_size(
                Pos2::new(rect.right() - 48.0, rect.bottom() - 132.0 + k * 30.0),
                Vec2::new(38.0, 26.0),
            )
        };
        if ui
            .put(b(0.0), egui::Button::new("+"))
            .on_hover_text(self.t("放大", "Zoom in"))
            .clicked()
        {
            self.commands.push(Command::ZoomBy(1.5));
        }
        if ui
            .put(b(1.0), egui::Button::new("−"))
            .on_hover_text(self.t("缩小", "Zoom out"))
            .clicked()
        {
            self.commands.push(Command::ZoomBy(1.0 / 1.5));
        }
        if ui
            .put(b(2.0), egui::Button::new(self.t("全", "Fit")))
            .on_hover_text(self.t("全图", "Fit all"))
            .clicked()
        {
            self.commands.push(Command::FitView);
        }
        if ui
            .put(b(3.0), egui::Button::new(self.t("选", "Sel")))
            .on_hover_text(self.t("缩放至所选单元", "Zoom to selection"))
            .clicked()
        {
            self.commands.push(Command::ZoomToSelection);
        }
    }

    fn rules_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("规则", "Rules"));
        let mut preset = self.scenario.preset.clone();
        egui::ComboBox::from_label(self.t("规划依据", "Plan"))
            .selected_text(preset.clone())
            .show_ui(ui, |ui| {
                for (name, _) in PRESETS {
                    ui.selectable_value(&mut preset, name.to_owned(), name);
                }
            });
        if preset != self.scenario.preset {
            // A new plan brings its own walk settings; the rest of the scenario stays.
            match Scenario::new(&preset) {
                Ok(mut s) => {
                    s.mode = self.scenario.mode;
                    s.max_snap_m = self.scenario.max_snap_m;
                    s.include_planned = self.scenario.include_planned;
                    s.year = self.scenario.year;
                    self.scenario = s;
                }
                Err(e) => self.errors.push(e.to_string()),
            }
        }
        let settings = &self.scenario.rules().settings;
        let (mut minutes, mut speed) = (settings.walk_minutes, settings.walk_speed_m_s);
        ui.horizontal(|ui| {
            ui.label(self.t("步行时间", "Walk"));
            ui.add(
                egui::DragValue::new(&mut minutes)
                    .range(1.0..=60.0)
                    .suffix(" min"),
            );
            ui.label(self.t("速度", "speed"));
            ui.add(
                egui::DragValue::new(&mut speed)
                    .range(0.3..=2.0)
                    .speed(0.05)
                    .suffix(" m/s"),
            );
        });
        ui.horizontal(|ui| {
            for w in WalkSpeed::ALL {
                let label = if self.lang == Lang::En {
                    w.en()
                } else {
                    w.zh()
                };
                if ui.small_button(format!("{label} {}", w.m_s())).clicked() {
                    speed = w.m_s();
                }
            }
        });
        let settings = &self.scenario.rules().settings;
        if minutes != settings.walk_minutes || speed != settings.walk_speed_m_s {
            // The widgets keep both positive, so this cannot fail.
            let _ = self.scenario.set_walk(minutes, speed);
        }
        ui.label(format!("= {}", self.scenario.walk().describe()));
        ui.horizontal(|ui| {
            let (a, b) = (
                self.t("直线距离", "Straight line"),
                self.t("步行路网", "Walking network"),
            );
            ui.radio_value(&mut self.scenario.mode, DistanceMode::Euclidean, a);
            ui.radio_value(&mut self.scenario.mode, DistanceMode::Network, b);
        });
        let planned = self.t("计入规划项目", "Count planned projects");
        ui.checkbox(&mut self.scenario.include_planned, planned);
        ui.horizontal(|ui| {
            let mut on = self.scenario.year.is_some();
            let label = ui
                .checkbox(&mut on, self.t("情景年份", "Scenario year"))
                .on_hover_text(self.t(
                    "现有设施加上该年及以前完成的规划项目；显示各目标是否到期",
                    "Existing facilities plus planned projects done by then; shows which targets are due",
                ));
            let mut y = self.scenario.year.unwrap_or(2025);
            ui.add_enabled(on, egui::DragValue::new(&mut y).range(2000..=2050).suffix(" 年"))
                .labelled_by(label.id);
            self.scenario.year = on.then_some(y);
        });
        if ui
            .add_enabled(
                self.dataset.is_some() && self.job.is_none(),
                egui::Button::new(self.t("运行分析", "Run analysis")),
            )
            .clicked()
        {
            self.commands.push(Command::Analyze);
        }
    }

    fn dashboard_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("达标情况", "Targets"));
        let Some(r) = &self.report else {
            ui.label(self.t("尚未分析", "Not analysed yet"));
            return;
        };
        let en = self.lang == Lang::En;
        ui.label(format!(
            "{} · {}",
            r.preset,
            crate::report::map::mode_label(r.mode, en)
        ));
        let mut map_rule = self.map_rule.clone();
        ui.label(self.t("地图显示", "Map shows"));
        egui::ComboBox::from_id_salt("map_rule")
            .selected_text(
                match map_rule
                    .as_ref()
                    .and_then(|id| r.rules.iter().find(|x| &x.id == id))
                {
                    Some(x) => {
                        if en {
                            x.title_en.clone()
                        } else {
                            x.title.clone()
                        }
                    }
                    None => self.t("全部规则", "All rules").to_owned(),
                },
            )
            .width(280.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut map_rule, None, self.t("全部规则", "All rules"));
                for x in r
                    .rules
                    .iter()
                    .filter(|x| x.status != crate::coverage::analysis::Status::NotEvaluable)
                {
                    ui.selectable_value(
                        &mut map_rule,
                        Some(x.id.clone()),
                        if en { &x.title_en } else { &x.title },
                    );
                }
            });
        use crate::coverage::analysis::Status;
        let skipped: Vec<_> = r
            .rules
            .iter()
            .filter(|x| x.status == Status::NotEvaluable)
            .collect();
        if let Some(y) = r.year {
            ui.label(format!(
                "{} {y}{}",
                self.t("情景年份", "Scenario year"),
                self.t(
                    "：现有设施 + 当年及以前完成的规划项目",
                    ": existing + planned projects done by then"
                )
            ));
        }
        ui.small(r.preset_citation.as_str());
        for rule in r.rules.iter().filter(|x| x.status != Status::NotEvaluable) {
            let (bg, verdict) = match rule.status {
                Status::Pass => (Color32::from_rgb(220, 240, 225), self.t("达标", "PASS")),
                Status::Fail => (Color32::from_rgb(250, 222, 218), self.t("未达标", "FAIL")),
                Status::Unknown => (Color32::from_rgb(246, 238, 200), self.t("未知", "UNKNOWN")),
                Status::NotEvaluable => {
                    (Color32::from_rgb(235, 235, 235), self.t("无法评估", "n/a"))
                }
            };
            egui::Frame::new()
                .fill(bg)
                .inner_margin(6.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.label(
                        egui::RichText::new(if en { &rule.title_en } else { &rule.title }).strong(),
                    );
                    let fmt = |v: f64| match rule.test {
                        "places_per_1000" | "beds_per_1000" => format!("{v:.2}/1000"),
                        "capacity_total" | "count" => crate::coverage::analysis::thousands(v),
                        _ => format!("{:.1}%", v * 100.0),
                    };
                    let value = match (rule.value, rule.range) {
                        (Some(v), Some((_, Some(h)))) if (h - v).abs() > 1e-9 => {
                            format!("{}–{}", fmt(v), fmt(h))
                        }
                        (Some(v), Some((_, None))) => format!("≥ {}", fmt(v)),
                        (Some(v), _) => fmt(v),
                        (None, _) => "-".into(),
                    };
                    let target = match (rule.test, rule.scope) {
                        ("presence", crate::coverage::rules::Scope::PerUnit) => {
                            format!("≥{} {}", rule.target, self.t("每单元", "each unit"))
                        }
                        _ => fmt(rule.target),
                    };
                    ui.label(format!(
                        "{verdict} · {}: {value}  {}: {target}{}",
                        self.t("实际", "value"),
                        self.t("目标", "target"),
                        if rule.target_user_set {
                            self.t(
                                "（用户设定，规划未给数值）",
                                " (user setting; the plan gives no figure)",
                            )
                        } else {
                            ""
                        },
                    ));
                    ui.small(format!(
                        "{}: {}{}{}",
                        self.t("范围", "scope"),
                        if en { rule.scope.en() } else { rule.scope.zh() },
                        if matches!(
                            rule.scope,
                            crate::coverage::rules::Scope::PerUnit
                                | crate::coverage::rules::Scope::Share
                        ) {
                            format!(
                                " ({}/{}{})",
                                rule.units_meeting,
                                rule.units_total,
                                if rule.units_unknown > 0 {
                                    format!(
                                        ", {} {}",
                                        rule.units_unknown,
                                        self.t("个未知", "unknown")
                                    )
                                } else {
                                    String::new()
                                }
                            )
                        } else {
                            String::new()
                        },
                        match (rule.deadline, rule.due) {
                            (Some(d), Some(false)) => format!(
                                " · {} {d}{}",
                                self.t("期限", "due"),
                                self.t("（尚未到期）", " (not yet due)")
                            ),
                            (Some(d), _) => format!(" · {} {d}", self.t("期限", "due")),
                            _ => String::new(),
                        }
                    ));
                    if let Some(e) = if en {
                        &rule.explain_en
                    } else {
                        &rule.explain_zh
                    } {
                        ui.small(e.as_str());
                    }
                    if let Some(b) = &rule.base {
                        ui.small(format!("{}: {b}", self.t("人口基数", "base")));
                    }
                    if let Some(a) = &rule.area {
                        ui.small(a.as_str());
                    }
                    if let Some(d) = &rule.distance {
                        ui.small(d);
                    }
                    if let Some(o) = rule.people_overclaimed {
                        ui.small(format!(
                            "{}: {o:.0}",
                            self.t("直线距离多算人数", "over-claimed by straight line")
                        ));
                    }
                    ui.small(format!(
                        "{} {}{}",
                        self.t("依据", "Source"),
                        rule.citation.cite(),
                        if rule.convention {
                            self.t("（规划惯例）", " (planning convention)")
                        } else {
                            ""
                        }
                    ))
                    .on_hover_text(&rule.citation.quote);
                });
            ui.add_space(3.0);
        }
        if !skipped.is_empty() {
            ui.collapsing(
                format!(
                    "{} ({})",
                    self.t("无法评估的规则", "Rules not evaluated"),
                    skipped.len()
                ),
                |ui| {
                    for x in &skipped {
                        ui.label(if en { &x.title_en } else { &x.title });
                        if let Some(e) = if en { &x.explain_en } else { &x.explain_zh } {
                            ui.small(e.as_str());
                        }
                        for n in &x.notes {
                            ui.small(n);
                        }
                    }
                },
            );
        }
        if !r.not_checked.is_empty() {
            ui.collapsing(
                format!(
                    "{} ({})",
                    self.t("未检查的规划目标", "Plan targets not checked"),
                    r.not_checked.len()
                ),
                |ui| {
                    for n in &r.not_checked {
                        ui.label(if en { &n.title_en } else { &n.title_zh });
                        ui.small(format!("{} — {}", n.citation.cite(), n.reason));
                    }
                },
            );
        }
        if r.summary.synthetic_facilities > 0 {
            ui.colored_label(
                Color32::from_rgb(180, 90, 0),
                format!(
                    "{} {}",
                    r.summary.synthetic_facilities,
                    self.t("处设施为模拟数据", "facilities are synthetic")
                ),
            );
        }
        // By district: the elderly circle share per county-level unit.
        if let Some(rule) = r.rules.iter().find(|x| {
            x.test == "population_within"
                && x.status != crate::coverage::analysis::Status::NotEvaluable
        }) {
            ui.separator();
            ui.label(
                egui::RichText::new(format!(
                    "{} · {}",
                    if en { &rule.title_en } else { &rule.title },
                    self.t("按区县", "by district")
                ))
                .strong(),
            );
            for u in r.units.iter().filter(|u| u.level.tier() == 1) {
                if let Some(v) = u.rules.get(&rule.id).and_then(|s| s.value) {
                    let ok = v + 1e-12 >= rule.target;
                    ui.horizontal(|ui| {
                        ui.label(format!("{:<6}", u.name));
                        ui.add(
                            egui::ProgressBar::new(v as f32)
                                .desired_width(140.0)
                                .fill(if ok {
                                    Color32::from_rgb(46, 158, 79)
                                } else {
                                    Color32::from_rgb(212, 61, 47)
                                })
                                .text(format!("{:.1}%", v * 100.0)),
                        );
                    });
                }
            }
        }
        self.map_rule = map_rule;
    }

    fn inspect_ui(&mut self, ctx: &egui::Context) {
        let (Some(ds), Some(u)) = (self.dataset.clone(), self.selected) else {
            return;
        };
        let unit = ds.unit(u);
        let mut open = true;
        let en = self.lang == Lang::En;
        egui::Window::new(format!("{}: {}", self.t("查看", "Inspect"), unit.name))
            .id(egui::Id::unique("inspect"))
            // Over the map's right edge, clear of the Rules panel and the dashboard.
            .anchor(egui::Align2::RIGHT_TOP, [-360.0, 40.0])
            .open(&mut open)
            .default_width(380.0)
            .show(ctx, |ui| {
                ui.label(format!(
                    "{} {} · {}",
                    if en {
                        unit.level.key()
                    } else {
                        unit.level.zh()
                    },
                    unit.name,
                    unit.code
                ));
                if let Some(r) = &self.report {
                    let ur = &r.units[u.index()];
                    let num = |x: Option<f64>| x.map(|v| format!("{v:.0}")).unwrap_or("-".into());
                    ui.label(format!(
                        "{} {} · 60+ {} · 0-3 {}",
                        self.t("人口", "Population"),
                        num(ur.population),
                        num(ur.pop_60plus),
                        num(ur.pop_0_3)
                    ));
                    ui.label(format!(
                        "{} {:.0} · {} {}",
                        self.t("托位", "Nursery places"),
                        ur.nursery_places,
                        self.t("每千人", "per 1000"),
                        ur.nursery_places_per_1000
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or("-".into())
                    ));
                    for (k, n) in &ur.facilities {
                        let kind = FacilityKind::parse(k).expect("own keys");
                        ui.label(format!("{}: {n}", if en { kind.en() } else { kind.zh() }));
                    }
                    let here: Vec<&crate::model::Facility> = ds
                        .facilities
                        .iter()
                        .filter(|f| f.unit.is_some_and(|fu| ds.ancestors(fu).any(|a| a == u)))
                        .take(200)
                        .collect();
                    if !here.is_empty() {
                        ui.collapsing(
                            format!(
                                "{} ({})",
                                self.t("设施及其属性", "Facilities and attributes"),
                                here.len()
                            ),
                            |ui| {
                                for f in &here {
                                    ui.label(facility_line(f, en));
                                }
                            },
                        );
                    }
                    ui.separator();
                    for rule in &r.rules {
                        let Some(st) = ur.rules.get(&rule.id) else {
                            continue;
                        };
                        use crate::coverage::analysis::Status;
                        let (c, verdict) = match st.status {
                            Status::Pass => {
                                (Color32::from_rgb(30, 130, 60), self.t("达标", "PASS"))
                            }
                            Status::Fail => {
                                (Color32::from_rgb(200, 50, 40), self.t("未达标", "FAIL"))
                            }
                            Status::Unknown => {
                                (Color32::from_rgb(160, 120, 0), self.t("未知", "unknown"))
                            }
                            Status::NotEvaluable => (Color32::GRAY, self.t("无法评估", "n/a")),
                        };
                        ui.horizontal_wrapped(|ui| {
                            ui.colored_label(c, verdict);
                            ui.label(if en { &rule.title_en } else { &rule.title });
                            if let (Some(false), Some(d)) = (st.pass, st.deficit) {
                                ui.label(format!("({} {d:.0})", self.t("缺口", "short")));
                            }
                        })
                        .response
                        .on_hover_text(format!(
                            "{}\n{}{}",
                            rule.citation.cite(),
                            rule.citation.quote,
                            st.reason
                                .as_ref()
                                .map(|r| format!("\n{r}"))
                                .unwrap_or_default()
                        ));
                    }
                }
                if self.spot.is_some() {
                    ui.separator();
                    ui.label(self.t(
                        "点击位置最近的设施",
                        "Nearest facilities to the clicked spot",
                    ));
                    let speed = self.scenario.rules().settings.walk_speed_m_s;
                    for fact in self.spot_facts.iter().flatten() {
                        let f = ds.facility(fact.facility);
                        let mut line = format!(
                            "{}: {} · {} {:.0} m",
                            if en { f.kind.en() } else { f.kind.zh() },
                            f.name,
                            self.t("直线", "straight"),
                            fact.straight_m
                        );
                        match fact.walk_m {
                            Some(c) => line.push_str(&format!(
                                " · {} {:.0} m = {:.1} min",
                                self.t("步行", "walk"),
                                c,
                                c / speed / 60.0
                            )),
                            None if self.graph.is_some() => line.push_str(
                                self.t(" · 步行5公里内不可达", " · not reachable within 5 km walk"),
                            ),
                            None => {}
                        }
                        ui.label(line);
                    }
                }
            });
        if !open {
            self.selected = None;
        }
    }
}

/// One facility as Inspect lists it: name, kind, status and year, capacity and each
/// qualifier as yes / no / unknown (unknown is never shown as no).
fn facility_line(f: &crate::model::Facility, en: bool) -> String {
    use crate::model::Qualifier;
    let yn = |v: Option<bool>| match (v, en) {
        (Some(true), false) => "是",
        (Some(false), false) => "否",
        (None, false) => "未知",
        (Some(true), true) => "yes",
        (Some(false), true) => "no",
        (None, true) => "unknown",
    };
    let quals = Qualifier::ALL
        .iter()
        .map(|q| {
            format!(
                "{} {}",
                if en { q.en() } else { q.zh() },
                yn(f.qualifiers.get(*q))
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let status = match (f.status, en) {
        (crate::model::FacilityStatus::Existing, false) => "现有",
        (crate::model::FacilityStatus::Planned, false) => "规划",
        (crate::model::FacilityStatus::Proposed, false) => "建议",
        (crate::model::FacilityStatus::Closed, false) => "已关闭",
        (s, true) => s.key(),
    };
    format!(
        "{} — {} · {}{}{}{}{} · {}{}",
        f.name,
        if en { f.kind.en() } else { f.kind.zh() },
        status,
        f.year.map(|y| format!(" {y}")).unwrap_or_default(),
        if f.renovation {
            if en {
                " (renovation)"
            } else {
                "（改造）"
            }
        } else {
            ""
        },
        f.capacity
            .map(|c| format!(" · {} {c:.0}", if en { "capacity" } else { "容量" }))
            .unwrap_or_default(),
        f.nursing_beds
            .map(|c| format!(
                " · {} {c:.0}",
                if en {
                    "nursing beds"
                } else {
                    "护理型床位"
                }
            ))
            .unwrap_or_default(),
        quals,
        f.qualifiers
            .grade
            .map(|g| format!(" · {} {g}", if en { "grade" } else { "等级" }))
            .unwrap_or_default()
    )
}

/// The nearest facility of one kind to a clicked spot.
struct SpotFact {
    facility: crate::model::FacilityId,
    straight_m: f64,
    /// Walking distance (one Dijkstra from the spot, up to 5 km); `None` without a graph or
    /// beyond reach.
    walk_m: Option<f64>,
}

/// For each facility kind, the straight-line nearest facility to `spot`, with its walking
/// distance when the network graph exists.
fn spot_facts(ds: &Dataset, graph: Option<&Graph>, spot: [f64; 2], max_snap: f64) -> Vec<SpotFact> {
    let p = geo::Point::new(spot[0], spot[1]);
    let labels = graph.and_then(|g| {
        g.snap(p, max_snap)
            .map(|s| (g, g.distances_from(&[s], 5000.0)))
    });
    FacilityKind::ALL
        .iter()
        .filter_map(|kind| {
            let (f, d) = ds
                .facilities
                .iter()
                .filter(|f| f.kind == *kind)
                .filter_map(|f| {
                    f.location.map(|l| {
                        (
                            f,
                            ((l.x() - spot[0]).powi(2) + (l.y() - spot[1]).powi(2)).sqrt(),
                        )
                    })
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))?;
            let walk_m = labels.as_ref().and_then(|(g, l)| {
                g.snap(f.location?, max_snap)
                    .and_then(|fs| g.cost_to(l, &fs))
            });
            Some(SpotFact {
                facility: f.id,
                straight_m: d,
                walk_m,
            })
        })
        .collect()
}

/// Earcut triangles of every unit shape, in local metres (3 vertices per triangle).
/// In a worker: the walking graph network mode needs (the cached one, else read or built
/// from the graph cache); `None` in straight-line mode.
fn walking_graph(
    mode: DistanceMode,
    ds: &Dataset,
    cached: Option<Arc<Graph>>,
) -> Result<Option<Arc<Graph>>, String> {
    match mode {
        DistanceMode::Euclidean => Ok(None),
        DistanceMode::Network if ds.network.is_empty() => {
            Err("no walkable streets in this dataset: use straight-line mode".into())
        }
        DistanceMode::Network => Ok(Some(cached.unwrap_or_else(|| {
            Arc::new(crate::io::graph::load_or_build(ds, &crate::io::graph::cache_dir(ds)).0)
        }))),
    }
}

/// A failed job's message in the UI's language (the library's Chinese where the UI is
/// Chinese: see [`crate::Error::zh`]); `what` names the job (中文, English).
fn failure_text(lang: Lang, what: (&str, &str), e: &crate::Error) -> String {
    match lang {
        Lang::Zh => format!("{}：{}", what.0, e.zh()),
        Lang::En => format!("{}: {e}", what.1),
    }
}

/// A load error in the UI's language, naming `path` once.
fn load_failure(lang: Lang, path: &std::path::Path, e: &crate::Error) -> String {
    match lang {
        Lang::Zh => with_path(path, &e.zh()),
        Lang::En => with_path(path, &e.to_string()),
    }
}

/// An error message that names `path` once (library errors usually name their file).
fn with_path(path: &std::path::Path, msg: &str) -> String {
    let shown = path.display().to_string();
    if msg.contains(&shown) {
        msg.to_owned()
    } else {
        format!("{shown}: {msg}")
    }
}

/// Prepares a loaded dataset for drawing (on the worker).
fn loaded(ds: Dataset) -> JobResult {
    let map = map::MapCache::new(&ds);
    let index = UnitIndexes::new(&ds);
    JobResult::Loaded(Box::new(Loaded {
        dataset: Arc::new(ds),
        map,
        index,
    }))
}

fn rgba(c: crate::report::map::Rgba) -> Color32 {
    Color32::from_rgba_unmultiplied(c[0], c[1], c[2], c[3])
}

fn kind_color(kind: FacilityKind) -> Color32 {
    let [r, g, b] = crate::report::map::kind_rgb(kind);
    Color32::from_rgb(r, g, b)
}

fn fit_view(ds: &Dataset, rect: Rect) -> View {
    match ds.focus_bounds() {
        Some(b) => {
            let sx = rect.width() as f64 / b.width().max(1.0);
            let sy = rect.height() as f64 / b.height().max(1.0);
            View {
                center: [b.center().x, b.center().y],
                scale: sx.min(sy) * 0.95,
            }
        }
        None => View {
            center: [500_000.0, 5_000_000.0],
            scale: 0.001,
        },
    }
}

/// A scale bar with a round length of about a fifth of the map width.
fn scale_bar(painter: &egui::Painter, rect: Rect, scale: f64) {
    let (nice, label) = crate::report::map::scale_bar_length(rect.width() as f64 / 5.0 / scale);
    let len = (nice * scale) as f32;
    let y = rect.bottom() - 20.0;
    let x0 = rect.left() + 20.0;
    let stroke = Stroke::new(2.0, Color32::BLACK);
    painter.line_segment([Pos2::new(x0, y), Pos2::new(x0 + len, y)], stroke);
    painter.line_segment([Pos2::new(x0, y - 5.0), Pos2::new(x0, y + 1.0)], stroke);
    painter.line_segment(
        [Pos2::new(x0 + len, y - 5.0), Pos2::new(x0 + len, y + 1.0)],
        stroke,
    );
    painter.text(
        Pos2::new(x0 + len / 2.0, y - 8.0),
        egui::Align2::CENTER_BOTTOM,
        label,
        egui::FontId::proportional(12.0),
        Color32::BLACK,
    );
    // North arrow.
    let nx = rect.right() - 30.0;
    let ny = rect.top() + 20.0;
    painter.add(egui::Shape::convex_polygon(
        vec![
            Pos2::new(nx, ny),
            Pos2::new(nx - 7.0, ny + 20.0),
            Pos2::new(nx + 7.0, ny + 20.0),
        ],
        Color32::BLACK,
        Stroke::NONE,
    ));
    painter.text(
        Pos2::new(nx, ny + 22.0),
        egui::Align2::CENTER_TOP,
        "N",
        egui::FontId::proportional(12.0),
        Color32::BLACK,
    );
}

/// The demo to open with no arguments: `maps/harbin` next to the executable's project, or
/// in the working directory.
fn default_dataset() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("maps/harbin"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("dataset.toml").exists())
}

impl eframe::App for CareCircleApp {
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let saved = Saved {
            dataset: self.dataset.as_ref().map(|d| d.source.clone()),
            preset: self.scenario.preset.clone(),
            minutes: self.scenario.rules().settings.walk_minutes,
            speed: self.scenario.rules().settings.walk_speed_m_s,
            network: self.scenario.mode == DistanceMode::Network,
            english: self.lang == Lang::En,
            with_planned: self.scenario.include_planned,
            year: self.scenario.year,
            layers: self.layers.clone(),
            map_rule: self.map_rule.clone(),
        };
        eframe::set_value(storage, SAVED_KEY, &saved);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.poll_job();
        let ctx = ui.ctx().clone();
        // Files dropped on the window open like "Open data"; a project opens as a project.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_owned())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.path_input = p.display().to_string();
            self.commands.push(
                if p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("ccproj"))
                {
                    Command::OpenProject(p)
                } else {
                    Command::Load(p)
                },
            );
        }
        self.handle_commands(&ctx);
        self.refresh_uncovered();
        egui::Panel::top("top").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::left("legend")
            .default_size(270.0)
            .max_size(380.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.data_ui(ui);
                    ui.separator();
                    self.rules_ui(ui);
                    ui.separator();
                    self.layers_ui(ui);
                    ui.separator();
                    self.legend_ui(ui);
                });
            });
        egui::Panel::right("dashboard")
            .default_size(340.0)
            .max_size(460.0)
            .show(ui, |ui| {
                // The targets scroll on their own (a plan has a dozen or more), so the
                // proposals and gaps below stay in reach.
                let half = ui.available_height() * 0.5;
                egui::ScrollArea::vertical()
                    .id_salt("targets")
                    .max_height(half)
                    .show(ui, |ui| self.dashboard_ui(ui));
                ui.separator();
                egui::ScrollArea::vertical()
                    .id_salt("proposals_gaps")
                    .show(ui, |ui| {
                        self.proposals_ui(ui);
                        ui.separator();
                        self.gaps_ui(ui);
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| self.map_ui(ui));
        self.inspect_ui(&ctx);
        self.dialog_ui(&ctx);
        self.import_ui(&ctx);
        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::NULL.with("carecircle-drop"),
            ));
            let r = ctx.content_rect();
            painter.rect_filled(r, 0.0, Color32::from_black_alpha(120));
            painter.text(
                r.center(),
                egui::Align2::CENTER_CENTER,
                self.t("松开鼠标以打开数据", "Drop to open the data"),
                egui::FontId::proportional(28.0),
                Color32::WHITE,
            );
        }
        if self.show_warnings {
            let mut open = true;
            egui::Window::new(self.t("加载警告", "Load warnings"))
                .open(&mut open)
                .default_width(600.0)
                .show(&ctx, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        if let Some(ds) = &self.dataset {
                            for w in &ds.warnings {
                                ui.label(match self.lang {
                                    Lang::Zh => w.zh(),
                                    Lang::En => w.to_string(),
                                });
                            }
                        }
                    });
                });
            self.show_warnings = open;
        }
        if self.show_about {
            let mut open = true;
            egui::Window::new(self.t("关于与数据来源", "About & data sources"))
                .open(&mut open)
                .default_width(520.0)
                .show(&ctx, |ui| {
                    ui.label("CareCircle — 一老一小设施覆盖分析与选址");
                    ui.label(self.t(
                        "字体：文泉驿微米黑（Apache-2.0 / GPLv3）",
                        "Font: WenQuanYi Micro Hei (Apache-2.0 / GPLv3)",
                    ));
                    ui.separator();
                    if let Some(ds) = &self.dataset {
                        for a in &ds.attribution {
                            ui.label(a);
                        }
                    }
                });
            self.show_about = open;
        }
    }
}

/// Opens the desktop window.
pub fn run(dataset: Option<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 800.0])
            .with_title("CareCircle"),
        ..Default::default()
    };
    eframe::run_native(
        "CareCircle",
        options,
        Box::new(move |cc| {
            Ok(Box::new(CareCircleApp::with_storage(
                &cc.egui_ctx,
                dataset,
                cc.storage,
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// A worker's stage name (the library reports them in English) in the UI's language;
/// file names and unknown stages pass through unchanged.
fn stage_text(lang: Lang, stage: &str) -> String {
    if lang == Lang::En {
        return stage.to_owned();
    }
    if let Some(limit) = stage
        .strip_prefix("exact solve (time limit ")
        .and_then(|r| r.strip_suffix(" s)"))
    {
        return format!("精确求解（时限 {limit} 秒）");
    }
    let zh = match stage {
        "coverage before" => "方案前覆盖",
        "existing coverage" => "现有设施覆盖",
        "candidate sites" => "生成候选点",
        "candidate catchments" => "候选点步行范围",
        "optimising" => "优化求解",
        "coverage after" => "方案后覆盖",
        "walking network" => "步行路网",
        "walking catchments" => "步行可达范围",
        "demand" => "需求点",
        "reach" => "可达性",
        _ => stage,
    };
    zh.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A siting problem the planner can fix reads in Chinese in the Chinese UI, and in
    /// English (the library's text) in the English one.
    #[test]
    fn a_bad_proposal_input_reads_in_the_ui_language() {
        let pb = crate::siting::Problem {
            model: crate::siting::Model::Mclp,
            demand: vec![[0.0, 0.0]],
            weight: vec![1.0],
            demand_ids: vec!["d".into()],
            candidates: vec![[10.0, 0.0]],
            candidate_ids: vec!["c".into()],
            existing: Vec::new(),
            radius: Some(100.0),
            p: Some(3),
            cover: None,
            quotas: Vec::new(),
        };
        let e = pb.validate().unwrap_err();
        let zh = failure_text(Lang::Zh, ("选址", "proposal"), &e);
        assert_eq!(
            zh,
            "选址：新增数量 p = 3 多于 1 个候选点：请减小 p 或增加候选点"
        );
        let en = failure_text(Lang::En, ("选址", "proposal"), &e);
        assert!(
            en.starts_with("proposal: p = 3 is larger than the 1 candidate"),
            "{en}"
        );
        // Errors whose detail the library has only in English get a Chinese frame.
        let io = crate::Error::Analysis("x".into());
        assert_eq!(
            failure_text(Lang::Zh, ("分析", "analysis"), &io),
            "分析：分析错误：x"
        );
        // A load failure names the file once, in the UI's language.
        let path = std::path::Path::new("maps/x/units.geojson");
        let gone = crate::Error::Io {
            path: path.into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        assert_eq!(
            load_failure(Lang::Zh, path, &gone),
            "maps/x/units.geojson：找不到文件或文件夹"
        );
        assert!(load_failure(Lang::En, path, &gone).starts_with("maps/x/units.geojson: "));
    }

    /// Every fixed stage name the library reports has a Chinese label: a new stage added
    /// without one fails here rather than showing English in the Chinese UI.
    #[test]
    fn every_library_stage_reads_in_chinese() {
        fn sources(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    if !p.ends_with("app") {
                        sources(&p, out);
                    }
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut names = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for part in text.split(".stage(\"").skip(1) {
                names.push(part.split('"').next().unwrap().to_owned());
            }
        }
        assert!(names.len() >= 8, "found only {names:?}");
        for n in &names {
            let zh = stage_text(Lang::Zh, n);
            assert!(!zh.is_ascii(), "stage {n:?} has no Chinese label");
            assert_eq!(stage_text(Lang::En, n), *n);
        }
        assert_eq!(
            stage_text(Lang::Zh, "exact solve (time limit 30 s)"),
            "精确求解（时限 30 秒）"
        );
        // File names (load stages) pass through.
        assert_eq!(
            stage_text(Lang::Zh, "districts.geojson"),
            "districts.geojson"
        );
    }
}
