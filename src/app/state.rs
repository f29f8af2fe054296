//! The app's state of the open data, and `apply`: the one place a job's result lands.
//!
//! Views read the state and push [`Command`]s; the dispatcher starts jobs; each job's
//! result comes back as a [`JobResult`] and is applied here, so what a load resets, what an
//! analysis replaces and how a failure is shown are decided in one function.

use super::*;

/// Everything tied to the open dataset. A load replaces it whole, so nothing of the old
/// data (analysis, graph, selection, spot, proposals' map layers) can survive by accident.
#[derive(Default)]
pub(super) struct Session {
    /// The data with the edits applied (what every view and job reads).
    pub(super) dataset: Option<Arc<Dataset>>,
    /// The data as loaded: edits replay onto it, never onto the source files.
    pub(super) base: Option<Arc<Dataset>>,
    /// The edit log and history of this data.
    pub(super) edits: Option<super::edit::EditSession>,
    /// The demand model of the last analysis, under its settings key: edits reuse it.
    pub(super) demand: Option<(String, crate::coverage::DemandModel)>,
    /// Unit outlines and fill meshes, prepared on the worker.
    pub(super) map: Option<Arc<map::MapCache>>,
    pub(super) index: Option<UnitIndexes>,
    /// Shared with the threads that read it (the uncovered-demand raster).
    pub(super) report: Option<Arc<Report>>,
    /// The walking graph, once network mode has built or read it.
    pub(super) graph: Option<Arc<Graph>>,
    pub(super) bands: Vec<Band>,
    pub(super) selected: Option<UnitId>,
    /// The spot last clicked on the map (local metres): "is this spot covered?".
    pub(super) spot: Option<[f64; 2]>,
    /// Nearest facility of each kind to `spot`, computed once per click (not per frame).
    pub(super) spot_facts: Option<Vec<SpotFact>>,
    /// The spot query running off the UI thread (a Dijkstra on a big graph takes time):
    /// the spot it answers and where its answer arrives.
    pub(super) spot_query: Option<([f64; 2], mpsc::Receiver<JobResult>)>,
    /// The map rule's uncovered demand in local metres and its raster pyramid, computed
    /// once per rule off the UI thread (174 ms for the province's 808,164 points).
    pub(super) uncovered: Option<(Option<String>, Vec<[f64; 2]>, super::map::DotPyramid)>,
    /// The uncovered demand being computed: for which rule, and where it arrives.
    pub(super) uncovered_query: Option<(Option<String>, mpsc::Receiver<JobResult>)>,
    /// Two scenarios run on this data and compared.
    pub(super) comparison: Option<Box<super::scenarios::Compared>>,
}

impl Session {
    fn loaded(l: Loaded) -> Session {
        Session {
            base: Some(l.dataset.clone()),
            dataset: Some(l.dataset),
            edits: Some(l.edits),
            map: Some(Arc::new(l.map)),
            index: Some(l.index),
            ..Session::default()
        }
    }
}

/// A job's failure, kept typed until it is shown; then said in the UI's language.
pub(super) enum JobError {
    /// The library failed while doing `what` (中文, English).
    In {
        what: (&'static str, &'static str),
        error: Box<crate::Error>,
    },
    /// Reading `path` failed (the message names it once).
    Load {
        path: PathBuf,
        error: Box<crate::Error>,
    },
    /// Writing `path` failed.
    Export {
        path: PathBuf,
        error: Box<crate::Error>,
    },
    /// Network mode on a dataset without streets.
    NoStreets,
}

impl JobError {
    pub(super) fn text(&self, lang: Lang) -> String {
        match self {
            JobError::In { what, error } => failure_text(lang, *what, error),
            JobError::Load { path, error } => load_failure(lang, path, error),
            JobError::Export { path, error } => {
                with_path(path, &failure_text(lang, ("导出", "export"), error))
            }
            JobError::NoStreets => match lang {
                Lang::Zh => "数据中没有可步行的道路：请用直线距离".into(),
                Lang::En => "no walkable streets in this dataset: use straight-line mode".into(),
            },
        }
    }
}

impl CareCircleApp {
    /// Takes a finished job's result, if any, and applies it; likewise the spot query's.
    pub(super) fn poll_job(&mut self, ctx: &egui::Context) {
        if let Some(r) = arrived(&mut self.data.spot_query) {
            self.apply(ctx, r);
        }
        if let Some(r) = arrived(&mut self.data.uncovered_query) {
            self.apply(ctx, r);
        }
        let Some(job) = &self.job else { return };
        match job.rx.try_recv() {
            Ok(r) => {
                let cancelled = job.progress.is_cancelled();
                let label = self.job_label;
                let words = self.job_words();
                self.job = None;
                match r {
                    // The user stopped it: say so, without an error or the import dialog.
                    JobResult::Failed(_) if cancelled => {
                        self.cancelled = Some(match self.lang {
                            Lang::Zh => format!("已取消{}", words.1),
                            Lang::En => format!("Cancelled: {}", words.1),
                        });
                    }
                    JobResult::Failed(e) => self.failed(label, e),
                    r => self.apply(ctx, r),
                }
                // Edits made while the job ran are applied now.
                if self.edit.stale {
                    self.refresh_edited(ctx);
                }
            }
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                self.errors.push(
                    self.t(
                        "后台任务意外停止，没有结果",
                        "the worker stopped without a result",
                    )
                    .into(),
                );
                self.job = None;
            }
        }
    }

    /// Applies a job's result to the state: the one place results land.
    pub(super) fn apply(&mut self, ctx: &egui::Context, result: JobResult) {
        match result {
            JobResult::Loaded(l) => {
                self.data = Session::loaded(*l);
                self.edit.selected = None;
                self.edit.form = None;
                self.edit.drag = None;
                self.edit.preview = None;
                if let Some(es) = &mut self.data.edits {
                    for n in std::mem::take(&mut es.notes) {
                        self.notices.push(match self.lang {
                            Lang::Zh => n.zh.unwrap_or(n.en),
                            Lang::En => n.en,
                        });
                    }
                }
                self.view = None;
                self.siting.result = None;
                self.siting.decisions.clear();
                self.import = None;
                self.last_import = None;
                self.apply_pending_project();
                // A planner opens data to see the gaps: analyse right away.
                self.commands.push(Command::Analyze);
            }
            JobResult::Inspected(st) => self.import = Some(*st),
            JobResult::Exported(p) => {
                self.notices
                    .push(format!("{} {}", self.t("已导出", "Exported"), p.display()))
            }
            JobResult::Edited(e) => {
                let e = *e;
                self.data.dataset = Some(e.dataset);
                self.data.report = Some(Arc::new(e.report));
                self.data.uncovered = None;
                self.data.uncovered_query = None;
                self.data.bands = e.bands;
                self.data.demand = Some(e.demand);
                if e.graph.is_some() {
                    self.data.graph = e.graph;
                }
                self.edit.preview = None;
                for n in e.notes {
                    self.errors.push(match self.lang {
                        Lang::Zh => n.zh.unwrap_or(n.en),
                        Lang::En => n.en,
                    });
                }
                // The selection follows its facility; gone (deleted, undone) = none.
                let sel = self.edit.selected.clone();
                self.select_facility(sel);
                if let Some(spot) = self.data.spot {
                    self.start_spot_query(ctx, spot);
                }
            }
            JobResult::Analyzed(r, g, bands, demand) => {
                if let Some(d) = demand {
                    self.data.demand = Some(d);
                }
                self.data.report = Some(Arc::from(r));
                self.data.uncovered = None;
                self.data.uncovered_query = None;
                self.data.bands = bands;
                if g.is_some() {
                    self.data.graph = g;
                    // Walking distances are now available for the clicked spot.
                    if let Some(spot) = self.data.spot {
                        self.start_spot_query(ctx, spot);
                    }
                }
            }
            JobResult::Proposed(p) => {
                self.siting.decisions = vec![None; p.proposals.len()];
                self.siting.result = Some(*p);
            }
            JobResult::Spot(spot, facts) => {
                // An answer for an older click is dropped.
                if self.data.spot == Some(spot) {
                    self.data.spot_facts = Some(facts);
                }
                self.data.spot_query = None;
            }
            JobResult::Uncovered(rule, pts, pyramid) => {
                // Computed for a rule the map has since left: dropped.
                if rule == self.map_rule {
                    self.data.uncovered = Some((rule, pts, *pyramid));
                }
                self.data.uncovered_query = None;
            }
            JobResult::Compared(c) => {
                self.data.comparison = Some(c);
            }
            JobResult::Failed(e) => self.failed("", e),
        }
    }

    /// Shows a failure. A load the loader could not read as given offers the import
    /// dialog (role, CRS, fields) with the reason, unless the path itself is missing.
    fn failed(&mut self, label: &str, e: JobError) {
        let text = e.text(self.lang);
        if label == "load" {
            if let Some(mut st) = self.last_import.take() {
                // Reopen with the user's edits, not the file's defaults.
                st.problem = Some(text.clone());
                self.import = Some(st);
            } else if let Some(src) = self.last_load.clone().filter(|p| p.exists()) {
                self.commands
                    .push(Command::InspectImport(src, Some(text.clone())));
            }
        }
        self.errors.push(text);
    }
}

/// A query's answer once it has arrived; a query whose thread ended without one is
/// forgotten.
fn arrived<K>(query: &mut Option<(K, mpsc::Receiver<JobResult>)>) -> Option<JobResult> {
    let (_, rx) = query.as_ref()?;
    match rx.try_recv() {
        Ok(r) => Some(r),
        Err(mpsc::TryRecvError::Empty) => None,
        Err(mpsc::TryRecvError::Disconnected) => {
            *query = None;
            None
        }
    }
}
