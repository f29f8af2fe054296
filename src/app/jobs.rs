//! The job runner: every slow step (load, analyse, propose) runs on one worker thread
//! with progress and cancel; its result lands through `apply` (state.rs), the one place
//! results are applied to the app state.

use super::*;

/// A walking catchment band ready to draw: minutes and earcut triangles (local metres),
/// the same the exported maps and the report draw.
pub use crate::report::map::BandMark as Band;

/// What a loaded dataset brings with it, prepared off the UI thread.
pub struct Loaded {
    pub dataset: Arc<Dataset>,
    /// Unit outlines and earcut fill meshes at several levels of detail, with an R-tree
    /// for culling: egui fills only convex shapes, so concave polygons and holes are
    /// triangulated once here.
    pub map: map::MapCache,
    pub index: UnitIndexes,
    /// The dataset's edit log, opened (and replayed) here.
    pub(super) edits: edit::EditSession,
}

pub(super) enum JobResult {
    Loaded(Box<Loaded>),
    Inspected(Box<data::ImportState>),
    Exported(PathBuf),
    Proposed(Box<crate::siting::propose::Proposals>),
    /// The report, the graph network mode used, the walking bands, and the demand model
    /// (under its settings key) for later runs to reuse.
    Analyzed(
        Box<Report>,
        Option<Arc<Graph>>,
        Vec<Band>,
        Option<(String, crate::coverage::DemandModel)>,
    ),
    /// Edits applied to the data as loaded, and its analysis.
    Edited(Box<edit::Edited>),
    /// What covers a clicked spot: the spot and the nearest facility of each kind.
    Spot([f64; 2], Vec<SpotFact>),
    /// A map rule's uncovered demand (local metres) and its raster pyramid.
    Uncovered(Option<String>, Vec<[f64; 2]>, Box<map::DotPyramid>),
    Compared(Box<scenarios::Compared>),
    Failed(JobError),
}

pub(super) struct Job {
    pub(super) progress: SharedProgress,
    pub(super) rx: mpsc::Receiver<JobResult>,
}

impl CareCircleApp {
    /// Runs `work` on the named worker thread; the UI polls its result and progress.
    pub(super) fn spawn(
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
        let p = progress.clone();
        if let Some(rx) = self.on_thread(ctx, "carecircle-worker", move || work(&p)) {
            self.job = Some(Job { progress, rx });
            self.job_label = label;
            self.cancelled = None;
        }
    }

    /// Runs `work` on a thread of its own; its result arrives on the returned receiver and
    /// wakes the UI. `None` (said in the errors) when no thread could start.
    pub(super) fn on_thread(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        work: impl FnOnce() -> JobResult + Send + 'static,
    ) -> Option<mpsc::Receiver<JobResult>> {
        let (tx, rx) = mpsc::sync_channel(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(work());
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => Some(rx),
            Err(e) => {
                self.errors
                    .push(format!("cannot start a worker thread: {e}"));
                None
            }
        }
    }

    /// Answers "what covers this spot?" off the UI thread: the nearest facility of each
    /// kind, straight-line and walking (one Dijkstra from the spot on the cached graph). The
    /// answer lands in `poll_job`; an answer for an older click is dropped.
    pub(super) fn start_spot_query(&mut self, ctx: &egui::Context, spot: [f64; 2]) {
        let Some(ds) = self.data.dataset.clone() else {
            return;
        };
        let graph = self.data.graph.clone();
        let max_snap = self.scenario.max_snap_m;
        if let Some(rx) = self.on_thread(ctx, "carecircle-spot", move || {
            JobResult::Spot(spot, spot_facts(&ds, graph.as_deref(), spot, max_snap))
        }) {
            self.data.spot_query = Some((spot, rx));
        }
    }

    pub(super) fn start_load(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.last_load = Some(path.clone());
        self.last_import = None;
        self.spawn(ctx, "load", move |p| {
            // A dataset that will not fit is refused before reading, as in the CLI.
            let loaded_ds = crate::io::load::check_memory(&path)
                .and_then(|()| crate::io::load_path_with(&path, p));
            match loaded_ds {
                Ok(ds) => loaded(ds),
                Err(error) => JobResult::Failed(JobError::Load {
                    path,
                    error: Box::new(error),
                }),
            }
        });
    }

    /// The scenario as saved (settings, project files): a preset that no longer loads
    /// keeps the current one, with a message.
    pub(super) fn set_scenario(
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
    pub(super) fn job_inputs(&mut self) -> Option<(Arc<Dataset>, Scenario)> {
        Some((self.data.dataset.clone()?, self.scenario.clone()))
    }

    pub(super) fn start_analysis(&mut self, ctx: &egui::Context) {
        let Some((ds, sc)) = self.job_inputs() else {
            return;
        };
        let cached = self.data.graph.clone();
        let (key, demand) = self.cached_demand(&sc);
        self.spawn(ctx, "analyze", move |p| {
            let graph = match walking_graph(sc.mode, &ds, cached) {
                Ok(g) => g,
                Err(e) => return JobResult::Failed(e),
            };
            let result = analyze_with(&sc, &ds, graph.as_deref(), demand, p);
            let (result, demand) = match result {
                Ok((r, d)) => (Ok(r), Some((key, d))),
                Err(e) => (Err(e), None),
            };
            // Network mode: the elderly-care circle's walking bands (⅓, ⅔ and all of the
            // walking time, widest first so the nearer ones paint over it) for the map.
            let bands = match (&graph, &result) {
                (Some(g), Ok(_)) => crate::report::map::band_marks(&sc, g, &ds.facilities),
                _ => Vec::new(),
            };
            match result {
                Ok(r) => JobResult::Analyzed(Box::new(r), graph, bands, demand),
                Err(error) => JobResult::Failed(JobError::In {
                    what: ("分析", "analysis"),
                    error: Box::new(error),
                }),
            }
        });
    }

    /// The demand model of the last analysis when the scenario's demand settings match
    /// (edits and rule changes keep the people where they are), with the settings key.
    pub(super) fn cached_demand(
        &self,
        sc: &Scenario,
    ) -> (String, Option<crate::coverage::DemandModel>) {
        let key = crate::coverage::demand_key(sc.rules());
        let demand = self
            .data
            .demand
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, d)| d.clone());
        (key, demand)
    }

    /// What the running job does, for its progress line ("Analysing") and as a noun
    /// ("cancelled: analysis"), in the UI's language.
    pub(super) fn job_words(&self) -> (&'static str, &'static str) {
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
}

/// In a worker: every rule of the scenario on `ds`, reusing `demand` when given.
pub(super) fn analyze_with(
    sc: &Scenario,
    ds: &Dataset,
    graph: Option<&Graph>,
    demand: Option<crate::coverage::DemandModel>,
    p: &SharedProgress,
) -> crate::Result<(Report, crate::coverage::DemandModel)> {
    sc.access(graph).and_then(|acc| {
        crate::coverage::analyze_reusing(ds, sc.rules(), &sc.options(), acc.as_ref(), demand, p)
    })
}

/// Earcut triangles of every unit shape, in local metres (3 vertices per triangle).
/// In a worker: the walking graph network mode needs (the cached one, else read or built
/// from the graph cache); `None` in straight-line mode.
pub(super) fn walking_graph(
    mode: DistanceMode,
    ds: &Dataset,
    cached: Option<Arc<Graph>>,
) -> Result<Option<Arc<Graph>>, JobError> {
    match mode {
        DistanceMode::Euclidean => Ok(None),
        DistanceMode::Network if ds.network.is_empty() => Err(JobError::NoStreets),
        DistanceMode::Network => Ok(Some(cached.unwrap_or_else(|| {
            Arc::new(crate::io::graph::load_or_build(ds, &crate::io::graph::cache_dir(ds)).0)
        }))),
    }
}

/// A failed job's message in the UI's language (the library's Chinese where the UI is
/// Chinese: see [`crate::Error::zh`]); `what` names the job (中文, English).
pub(super) fn failure_text(lang: Lang, what: (&str, &str), e: &crate::Error) -> String {
    match lang {
        Lang::Zh => format!("{}：{}", what.0, e.zh()),
        Lang::En => format!("{}: {e}", what.1),
    }
}

/// A load error in the UI's language, naming `path` once.
pub(super) fn load_failure(lang: Lang, path: &std::path::Path, e: &crate::Error) -> String {
    match lang {
        Lang::Zh => with_path(path, &e.zh()),
        Lang::En => with_path(path, &e.to_string()),
    }
}

/// An error message that names `path` once (library errors usually name their file).
pub(super) fn with_path(path: &std::path::Path, msg: &str) -> String {
    let shown = path.display().to_string();
    if msg.contains(&shown) {
        msg.to_owned()
    } else {
        format!("{shown}: {msg}")
    }
}

/// Prepares a loaded dataset for drawing (on the worker).
pub(super) fn loaded(ds: Dataset) -> JobResult {
    let map = map::MapCache::new(&ds);
    let index = UnitIndexes::new(&ds);
    let edits = edit::open_log(&ds);
    JobResult::Loaded(Box::new(Loaded {
        dataset: Arc::new(ds),
        map,
        index,
        edits,
    }))
}

/// A worker's stage name (the library reports them in English) in the UI's language;
/// file names and unknown stages pass through unchanged.
pub(super) fn stage_text(lang: Lang, stage: &str) -> String {
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
        "coordinates" => "坐标转换",
        "features" => "解读要素",
        "facilities in units" => "设施归属单元",
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
            share: None,
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
