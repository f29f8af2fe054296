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

mod access;
mod canvas;
mod data;
mod edit;
mod equity;
mod frame;
mod inspect;
mod jobs;
pub mod layers;
pub mod map;
mod panels;
mod present;
mod rules_panel;
mod scenarios;
mod settings;
mod state;
mod targets;

use canvas::*;
pub use data::{ExportKind, Purpose};
use inspect::*;
use jobs::*;
use map::View;
pub use settings::install_fonts;
use settings::*;
use state::JobError;

/// The CJK font shipped with the app (WenQuanYi Micro Hei, GB2312 subset; Apache-2.0).
pub use crate::report::map::CJK_FONT;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Zh,
    En,
}

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
    /// Find what covers a clicked spot (local metres), off the UI thread.
    SpotQuery([f64; 2]),
    /// Run the siting model set in the Proposals panel.
    Propose,
    /// Accept (true) or reject (false) proposal `rank - 1`.
    Decide(usize, bool),
    /// Zoom the map to a unit (Gaps table).
    ZoomTo(UnitId),
    /// Keep the current settings and accepted proposals as a named scenario.
    KeepScenario(String),
    /// Remove scenario `i` from the list.
    DropScenario(usize),
    /// Run scenarios `a` and `b` on the worker and compare them.
    Compare(usize, usize),
    /// Enter (true) or leave presentation mode.
    Present(bool),
    /// Step the presentation by this many slides.
    SlideBy(i32),
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
    /// Edit mode on or off.
    SetEditing(bool),
    /// Select a facility for its form (edit mode), or none.
    SelectFacility(Option<crate::model::edits::FacilityKey>),
    /// Add a facility of the chosen kind here (local metres).
    AddFacility([f64; 2]),
    /// Record an edit (logged and synced first), then re-apply and re-analyse.
    ApplyEdit(Box<crate::model::edits::Edit>),
    Undo,
    Redo,
    /// Restore (true) the edits found in the log at load, or set the log aside.
    RestoreEdits(bool),
}

pub struct CareCircleApp {
    /// What the app knows of the open data; replaced whole when new data loads.
    data: state::Session,
    /// Plan, walk, distance mode, planned projects and year: the library's one type.
    scenario: Scenario,
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
    /// Named scenarios and the comparison's choices.
    pub(crate) scenarios: scenarios::ScenarioState,
    /// Which report the map being drawn shows (side by side: A, then B).
    map_side: scenarios::MapSide,
    /// Presentation mode, when on: the slide shown.
    present: Option<present::Presenting>,
    /// Edit mode: on/off, the selected facility and its form, a drag.
    pub(crate) edit: edit::EditState,
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
            data: state::Session::default(),
            scenario: Scenario::new(PRESETS[0].0).expect("shipped presets parse (tested)"),
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
            dialog: None,
            import: None,
            last_load: None,
            last_import: None,
            project_path: None,
            pending_project: None,
            notices: Vec::new(),
            cancelled: None,
            scenarios: scenarios::ScenarioState::default(),
            map_side: scenarios::MapSide::Main,
            present: None,
            edit: edit::EditState::default(),
        };
        let path = dataset
            .or_else(|| app.restore(storage).filter(|p| p.exists()))
            .or_else(default_dataset);
        match path {
            // A project file (double-clicked, or given on the command line) opens as one.
            Some(p)
                if p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("ccproj")) =>
            {
                app.commands.push(Command::OpenProject(p));
            }
            Some(p) => {
                app.path_input = p.display().to_string();
                app.commands.push(Command::Load(p));
            }
            None => {
                // A missing or damaged demo: an empty map, and where we looked.
                let looked: Vec<String> = settings::demo_candidates()
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                app.errors.push(format!(
                    "{}: {}",
                    app.t(
                        "未找到演示数据，已在以下位置查找",
                        "the demo data was not found; looked in"
                    ),
                    looked.join(", ")
                ));
            }
        }
        app
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
                Command::Inspect(u) => self.data.selected = Some(u),
                Command::SpotQuery(spot) => self.start_spot_query(ctx, spot),
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
                    self.data.selected = Some(u);
                    self.zoom_to_selection();
                }
                Command::ZoomToSelection => self.zoom_to_selection(),
                Command::KeepScenario(name) => {
                    let s = self.current_scenario(&name);
                    // A name kept again replaces the older scenario of that name.
                    match self.scenarios.list.iter_mut().find(|x| x.name == name) {
                        Some(old) => *old = s,
                        None => self.scenarios.list.push(s),
                    }
                    let n = self.scenarios.list.len();
                    self.scenarios.b = n - 1;
                    self.scenarios.name_input.clear();
                }
                Command::DropScenario(i) => {
                    if i < self.scenarios.list.len() {
                        self.scenarios.list.remove(i);
                    }
                    let n = self.scenarios.list.len().max(1);
                    self.scenarios.a = self.scenarios.a.min(n - 1);
                    self.scenarios.b = self.scenarios.b.min(n - 1);
                }
                Command::Compare(a, b) => self.start_compare(ctx, a, b),
                Command::Present(on) => {
                    self.set_presenting(ctx, on);
                    self.step_slide(0);
                }
                Command::SlideBy(by) => self.step_slide(by),
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
                Command::SetEditing(on) => {
                    self.edit.on = on;
                    if !on {
                        self.edit.drag = None;
                    }
                }
                Command::SelectFacility(k) => self.select_facility(k),
                Command::AddFacility(at) => self.add_facility(at),
                Command::ApplyEdit(e) => {
                    let key = e.key.clone();
                    self.record_step(ctx, crate::model::edits::HistoryStep::Edit { edit: e });
                    if self.edit.selected.as_ref() == Some(&key) {
                        // The form shows the edited record once the data lands.
                        self.edit.form = None;
                    }
                }
                Command::Undo => {
                    self.record_step(ctx, crate::model::edits::HistoryStep::Undo);
                    self.edit.form = None;
                }
                Command::Redo => {
                    self.record_step(ctx, crate::model::edits::HistoryStep::Redo);
                    self.edit.form = None;
                }
                Command::RestoreEdits(yes) => self.answer_restore(ctx, yes),
            }
        }
    }
}

/// Opens the desktop window.
/// glibc's malloc hands large blocks back to the system as soon as they are freed, unless
/// the program's earlier frees raised its thresholds (they adapt to its history). Each frame
/// builds and drops large vertex buffers; with the default thresholds every one was an
/// mmap/munmap pair with fresh page faults, and the map's p99 frame was three times slower
/// or not depending on what the loader happened to allocate before (measured with `cargo
/// bench --bench frame`: 23 ms vs 8 ms with tessellation). Fixed thresholds make it the
/// same every time: blocks up to 32 MB come from the heap, and up to 256 MB freed is kept.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets two of glibc's allocator parameters (it takes the
    // allocator's own lock); no memory is touched.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

pub fn run(dataset: Option<PathBuf>) -> anyhow::Result<()> {
    tune_allocator();
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
