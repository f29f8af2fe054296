//! Project files (.ccproj): data, scenario, layers, view and each proposal decision.

use super::*;
use crate::report::scenarios::{ProjectFile, ScenarioSettings};

/// What a project file keeps: data, settings, layers, view and the proposals with their
/// decisions. Unknown keys of newer versions are ignored on load.
#[derive(Serialize, Deserialize)]
pub struct Project {
    /// What the CLI reads too: version, data, settings, proposals and decisions, named
    /// scenarios (`analyze --compare FILE#NAME`). Dataset path relative to the project
    /// file when it can be, else absolute.
    #[serde(flatten)]
    pub core: ProjectFile,
    pub english: bool,
    pub map_rule: Option<String>,
    pub layers: Vec<LayerStyle>,
    #[serde(default)]
    pub hidden_kinds: Vec<String>,
    /// Centre x, y (local metres) and pixels per metre.
    pub view: Option<[f64; 3]>,
    pub siting_kind: String,
    pub siting_model: ProposeModel,
    pub siting_p: usize,
    /// Threshold covering's share in percent.
    #[serde(default)]
    pub siting_share_pct: Option<f64>,
    pub siting_exact: bool,
}

/// `target` relative to `dir` when it lies inside it.
pub(super) fn relative_to(target: &Path, dir: &Path) -> PathBuf {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let (t, d) = (abs(target), abs(dir));
    t.strip_prefix(&d).map(Path::to_owned).unwrap_or(t)
}

impl CareCircleApp {
    /// The project as it stands.
    pub(in crate::app) fn project(&self, path: &Path) -> Project {
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Project {
            core: ProjectFile {
                version: 1,
                dataset: self
                    .data
                    .dataset
                    .as_ref()
                    .map(|d| relative_to(&d.source, &dir)),
                settings: ScenarioSettings::of(&self.scenario),
                proposals: self.siting.result.clone(),
                decisions: self.siting.decisions.clone(),
                scenarios: self.scenarios.list.clone(),
            },
            english: self.lang == Lang::En,
            map_rule: self.map_rule.clone(),
            layers: self.layers.clone(),
            hidden_kinds: self
                .hidden_kinds
                .iter()
                .map(|k| k.key().to_owned())
                .collect(),
            view: self.view.map(|v| [v.center[0], v.center[1], v.scale]),
            siting_kind: self.siting.kind.key().to_owned(),
            siting_model: self.siting.model,
            siting_p: self.siting.p,
            siting_share_pct: Some(self.siting.share_pct),
            siting_exact: self.siting.exact,
        }
    }

    pub(in crate::app) fn save_project(&mut self, path: PathBuf) {
        let path = if path.extension().is_none() {
            path.with_extension("ccproj")
        } else {
            path
        };
        let project = self.project(&path);
        let result = serde_json::to_vec_pretty(&project)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::io::write::write_atomic(&path, &b).map_err(|e| e.to_string()));
        match result {
            Ok(()) => {
                self.notices.push(format!(
                    "{} {}",
                    self.t("项目已保存", "Project saved"),
                    path.display()
                ));
                self.project_path = Some(path);
            }
            Err(e) => self.errors.push(e),
        }
    }

    /// Reads a project: settings apply now; the view and proposals once its data is loaded.
    pub(in crate::app) fn open_project(&mut self, path: PathBuf) {
        let read = crate::files::read_input(&path)
            .map_err(|e| match self.lang {
                Lang::Zh => e.zh(),
                Lang::En => e.to_string(),
            })
            .and_then(|b| {
                serde_json::from_slice::<Project>(&b).map_err(|e| {
                    format!(
                        "{}: {} ({e})",
                        path.display(),
                        self.t("不是 CareCircle 项目文件", "not a CareCircle project file")
                    )
                })
            });
        let p = match read {
            Ok(p) => p,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let st = &p.core.settings;
        self.set_scenario(
            &st.preset,
            st.minutes,
            st.speed,
            st.network,
            st.with_planned,
            st.year,
        );
        self.lang = if p.english { Lang::En } else { Lang::Zh };
        self.map_rule = p.map_rule.clone();
        self.layers = super::super::layers::normalise(p.layers.clone());
        self.hidden_kinds = p
            .hidden_kinds
            .iter()
            .filter_map(|k| FacilityKind::parse(k))
            .collect();
        if let Some(k) = FacilityKind::parse(&p.siting_kind) {
            self.siting.kind = k;
        }
        self.siting.model = p.siting_model;
        self.siting.p = p.siting_p.max(1);
        if let Some(s) = p
            .siting_share_pct
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 100.0)
        {
            self.siting.share_pct = s;
        }
        self.siting.exact = p.siting_exact;
        self.scenarios.list = p.core.scenarios.clone();
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        let data = p.core.dataset.as_ref().map(|d| {
            if d.is_absolute() {
                d.clone()
            } else {
                dir.join(d)
            }
        });
        self.project_path = Some(path);
        match data {
            Some(d) if d.exists() => {
                self.path_input = d.display().to_string();
                self.pending_project = Some(p);
                self.commands.push(Command::Load(d));
            }
            Some(d) => self.errors.push(format!(
                "{}: {}",
                d.display(),
                self.t("项目的数据不存在", "the project's data is missing")
            )),
            None => {}
        }
    }

    /// Applies the parts of a project that need its data (after the load).
    pub(in crate::app) fn apply_pending_project(&mut self) {
        let Some(p) = self.pending_project.take() else {
            return;
        };
        if let Some([x, y, s]) = p.view {
            if s > 0.0 && s.is_finite() {
                self.view = Some(super::super::map::View {
                    center: [x, y],
                    scale: s,
                });
            }
        }
        if let Some(r) = p.core.proposals {
            let mut d = p.core.decisions;
            d.resize(r.proposals.len(), None);
            self.siting.decisions = d;
            self.siting.result = Some(r);
        }
    }
}
