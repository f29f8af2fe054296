//! The Data panel and its dialogs: open data (file dialog, drag-and-drop, path field), the
//! import dialog (role, CRS/datum, level, kind, encoding and field mapping per layer) shown
//! when the loader is unsure, project files, and exports (map PNG/SVG, gaps and proposals as
//! GeoJSON/CSV).
//!
//! The file dialog is drawn by egui itself: native portals are often missing on planning
//! bureau desktops and in headless tests, and a dialog inside the app works offline
//! everywhere.

use std::path::{Path, PathBuf};

use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};

use super::layers::LayerStyle;
use super::{CareCircleApp, Command, JobResult, Lang};
use crate::coverage::DistanceMode;
use crate::io::manifest::Manifest;
use crate::model::FacilityKind;
use crate::siting::propose::{Proposals, ProposeModel};

/// What a file dialog is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Purpose {
    OpenData,
    OpenProject,
    SaveProject,
    Export(ExportKind),
}

/// Exports the app offers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExportKind {
    /// The current map view as PNG (or SVG by extension), with title, legend, scale and
    /// sources.
    Map,
    /// Units with their rule status and the uncovered demand, GeoJSON.
    GapsGeoJson,
    /// The Gaps table (failing unit × rule), CSV.
    GapsCsv,
    /// Accepted and undecided proposals, GeoJSON.
    ProposalsGeoJson,
    /// Accepted and undecided proposals, CSV.
    ProposalsCsv,
}

impl ExportKind {
    pub fn extension(self) -> &'static str {
        match self {
            ExportKind::Map => "png",
            ExportKind::GapsGeoJson | ExportKind::ProposalsGeoJson => "geojson",
            ExportKind::GapsCsv | ExportKind::ProposalsCsv => "csv",
        }
    }
    fn stem(self) -> &'static str {
        match self {
            ExportKind::Map => "map",
            ExportKind::GapsGeoJson | ExportKind::GapsCsv => "gaps",
            ExportKind::ProposalsGeoJson | ExportKind::ProposalsCsv => "proposals",
        }
    }
}

/// The in-app file dialog.
pub struct FileDialog {
    pub purpose: Purpose,
    pub dir: PathBuf,
    pub dir_text: String,
    /// File name (saving) or the picked entry (opening).
    pub name: String,
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

impl FileDialog {
    pub fn new(purpose: Purpose, dir: PathBuf, name: String) -> Self {
        let mut d = FileDialog {
            purpose,
            dir_text: dir.display().to_string(),
            dir,
            name,
            entries: Vec::new(),
            error: None,
        };
        d.refresh();
        d
    }

    fn refresh(&mut self) {
        self.entries.clear();
        self.error = None;
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => {
                let mut v: Vec<(String, bool)> = rd
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let is_dir = e.path().is_dir();
                        (!name.starts_with('.') && (is_dir || self.shows(&name)))
                            .then_some((name, is_dir))
                    })
                    .collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                self.entries = v;
            }
            Err(e) => self.error = Some(format!("{}: {e}", self.dir.display())),
        }
    }

    /// Files listed for the purpose.
    fn shows(&self, name: &str) -> bool {
        let n = name.to_lowercase();
        match self.purpose {
            Purpose::OpenData => {
                n.ends_with(".toml") || crate::io::manifest::format_of(Path::new(&n)).is_some()
            }
            Purpose::OpenProject | Purpose::SaveProject => n.ends_with(".ccproj"),
            Purpose::Export(k) => {
                n.ends_with(k.extension()) || (k == ExportKind::Map && n.ends_with(".svg"))
            }
        }
    }

    fn enter(&mut self, dir: PathBuf) {
        self.dir = dir;
        self.dir_text = self.dir.display().to_string();
        self.refresh();
    }
}

/// The import dialog: the manifest being edited and, per layer, the file's columns.
#[derive(Clone)]
pub struct ImportState {
    /// What the user opened (file, folder or dataset.toml).
    pub source: PathBuf,
    /// Folder the layer paths are relative to.
    pub base: PathBuf,
    pub manifest: Manifest,
    pub columns: Vec<Vec<String>>,
    /// Why the dialog opened (the loader's error or warnings), if it opened by itself.
    pub problem: Option<String>,
    pub message: Option<String>,
}

/// Reads what the import dialog needs (on the worker: shapefiles can be large); a failure
/// is said in `lang`.
pub fn inspect(source: &Path, problem: Option<String>, lang: Lang) -> Result<ImportState, String> {
    let (manifest, base) =
        crate::io::manifest_for(source).map_err(|e| super::load_failure(lang, source, &e))?;
    let columns = manifest
        .layers
        .iter()
        .map(|l| {
            crate::io::layer_columns(&base.join(&l.path), l.encoding.as_deref()).unwrap_or_default()
        })
        .collect();
    Ok(ImportState {
        source: source.to_owned(),
        base,
        manifest,
        columns,
        problem,
        message: None,
    })
}

const ROLES: &[&str] = &[
    "auto",
    "units",
    "facilities",
    "demand",
    "network",
    "buildings",
    "planned",
];
const CRS_CHOICES: &[(&str, &str, &str)] = &[
    ("", "从文件读取（默认 WGS84）", "From the file (else WGS84)"),
    (
        "WGS84",
        "WGS84 经纬度（GPS、OSM）",
        "WGS84 lon/lat (GPS, OSM)",
    ),
    (
        "GCJ-02",
        "GCJ-02（高德、腾讯地图坐标）",
        "GCJ-02 (Amap, Tencent maps)",
    ),
    ("BD-09", "BD-09（百度地图坐标）", "BD-09 (Baidu maps)"),
    ("CGCS2000", "CGCS2000 经纬度", "CGCS2000 lon/lat"),
];
const LEVELS: &[&str] = &[
    "district",
    "county",
    "sub_district",
    "township",
    "community",
    "village",
];
const ENCODINGS: &[&str] = &["UTF-8", "GBK"];

/// One labelled grid row choosing an optional value: `None` shows `none_label`; `choices`
/// are (value, shown text).
fn option_row(
    ui: &mut egui::Ui,
    label: &str,
    salt: impl std::hash::Hash + std::fmt::Debug,
    value: &mut Option<String>,
    none_label: &str,
    choices: &[(String, String)],
) {
    let lid = ui.label(label).id;
    let shown = value
        .as_ref()
        .and_then(|v| choices.iter().find(|(k, _)| k == v).map(|(_, s)| s.clone()))
        .or_else(|| value.clone())
        .unwrap_or_else(|| none_label.to_owned());
    egui::ComboBox::from_id_salt(salt)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            if ui.selectable_label(value.is_none(), none_label).clicked() {
                *value = None;
            }
            for (k, s) in choices {
                if ui
                    .selectable_label(value.as_deref() == Some(k), s)
                    .clicked()
                {
                    *value = Some(k.clone());
                }
            }
        })
        .response
        .labelled_by(lid);
    ui.end_row();
}

/// Model fields worth mapping for a role (the rest keep their defaults).
fn fields_for(role: &str) -> &'static [&'static str] {
    match role {
        "units" => &[
            "name",
            "code",
            "level",
            "parent",
            "population",
            "pop_60plus",
            "pop_0_3",
            "central_urban",
        ],
        "facilities" | "planned" => &[
            "name",
            "kind",
            "status",
            "capacity",
            "beds",
            "nursery_places",
            "nursing_beds",
            "public_benefit",
            "standardised",
            "public",
            "comprehensive",
            "demonstration",
            "grade",
            "renovation",
            "year",
            "unit_code",
            "town",
            "lon",
            "lat",
        ],
        "demand" => &["population", "pop_60plus", "pop_0_3", "lon", "lat"],
        "network" | "buildings" => &[],
        _ => &["name", "code", "population", "kind", "lon", "lat"],
    }
}

/// What a project file keeps: data, settings, layers, view and the proposals with their
/// decisions. Unknown keys of newer versions are ignored on load.
#[derive(Serialize, Deserialize)]
pub struct Project {
    pub version: u32,
    /// Dataset path relative to the project file when it can be, else absolute.
    pub dataset: Option<PathBuf>,
    pub preset: String,
    pub minutes: f64,
    pub speed: f64,
    pub network: bool,
    pub with_planned: bool,
    #[serde(default)]
    pub year: Option<i32>,
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
    pub siting_exact: bool,
    pub proposals: Option<Proposals>,
    #[serde(default)]
    pub decisions: Vec<Option<bool>>,
}

/// `target` relative to `dir` when it lies inside it.
fn relative_to(target: &Path, dir: &Path) -> PathBuf {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let (t, d) = (abs(target), abs(dir));
    t.strip_prefix(&d).map(Path::to_owned).unwrap_or(t)
}

impl CareCircleApp {
    /// Where dialogs start: the dataset's folder, else the working directory.
    fn start_dir(&self) -> PathBuf {
        self.dataset
            .as_ref()
            .map(|d| {
                if d.source.is_dir() {
                    d.source.clone()
                } else {
                    d.source.parent().map(Path::to_owned).unwrap_or_default()
                }
            })
            .filter(|p| p.is_dir())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    pub(super) fn open_dialog(&mut self, purpose: Purpose) {
        let stem = self
            .dataset
            .as_ref()
            .map(|d| d.name.replace([' ', '/', '\\'], "_"))
            .unwrap_or_else(|| "carecircle".into());
        let name = match purpose {
            Purpose::OpenData | Purpose::OpenProject => String::new(),
            Purpose::SaveProject => format!("{stem}.ccproj"),
            Purpose::Export(k) => format!("{stem}-{}.{}", k.stem(), k.extension()),
        };
        let dir = match (purpose, &self.project_path) {
            (Purpose::OpenProject | Purpose::SaveProject, Some(p)) => p
                .parent()
                .map(Path::to_owned)
                .unwrap_or_else(|| self.start_dir()),
            _ => self.start_dir(),
        };
        self.dialog = Some(FileDialog::new(purpose, dir, name));
    }

    /// The Data panel: open, import settings, project, exports.
    pub(super) fn data_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("数据", "Data"));
        ui.horizontal_wrapped(|ui| {
            if ui.button(self.t("打开数据…", "Open data…")).clicked() {
                self.commands.push(Command::OpenDialog(Purpose::OpenData));
            }
            if ui.button(self.t("导入设置…", "Import settings…")).clicked() {
                if let Some(src) = self.dataset.as_ref().map(|d| d.source.clone()) {
                    self.commands.push(Command::InspectImport(src, None));
                }
            }
        });
        ui.label(
            RichText::new(self.t(
                "也可把 GeoJSON / Shapefile / CSV / OSM PBF / dataset.toml 拖入窗口",
                "Or drop GeoJSON / Shapefile / CSV / OSM PBF / dataset.toml onto the window",
            ))
            .small(),
        );
        if let Some(ds) = &self.dataset {
            let field_warnings = ds.warnings.iter().filter(|w| w.field.is_some()).count();
            if field_warnings > 0 {
                ui.colored_label(
                    Color32::from_rgb(180, 90, 0),
                    format!(
                        "{field_warnings} {}",
                        self.t(
                            "条加载警告涉及字段：请在“导入设置”中检查字段映射",
                            "load warnings name a field: check the field mapping in Import settings",
                        )
                    ),
                );
            }
            for l in &ds.layers {
                ui.label(
                    RichText::new(format!(
                        "{} · {} · {} · {}",
                        l.path
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default(),
                        l.role.key(),
                        l.features_loaded,
                        l.crs
                    ))
                    .small(),
                );
            }
        }
        ui.separator();
        ui.label(self.t("项目", "Project"));
        ui.horizontal_wrapped(|ui| {
            if ui.button(self.t("打开项目…", "Open project…")).clicked() {
                self.commands
                    .push(Command::OpenDialog(Purpose::OpenProject));
            }
            if ui.button(self.t("保存项目…", "Save project…")).clicked() {
                self.commands
                    .push(Command::OpenDialog(Purpose::SaveProject));
            }
        });
        if let Some(p) = &self.project_path {
            ui.label(RichText::new(p.display().to_string()).small());
        }
        ui.separator();
        ui.label(self.t("导出", "Export"));
        let has_report = self.report.is_some();
        let has_props = self.siting.result.is_some();
        ui.horizontal_wrapped(|ui| {
            let items = [
                (ExportKind::Map, self.t("地图 PNG", "Map PNG"), has_report),
                (
                    ExportKind::GapsGeoJson,
                    self.t("缺口 GeoJSON", "Gaps GeoJSON"),
                    has_report,
                ),
                (
                    ExportKind::GapsCsv,
                    self.t("缺口 CSV", "Gaps CSV"),
                    has_report,
                ),
                (
                    ExportKind::ProposalsGeoJson,
                    self.t("选址 GeoJSON", "Proposals GeoJSON"),
                    has_props,
                ),
                (
                    ExportKind::ProposalsCsv,
                    self.t("选址 CSV", "Proposals CSV"),
                    has_props,
                ),
            ];
            for (k, label, enabled) in items {
                if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
                    self.commands.push(Command::OpenDialog(Purpose::Export(k)));
                }
            }
        });
        for n in &self.notices {
            ui.colored_label(Color32::from_rgb(30, 110, 60), n);
        }
    }

    /// The file dialog window, if open.
    pub(super) fn dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(d) = &mut self.dialog else { return };
        let lang = self.lang;
        let t = |zh: &'static str, en: &'static str| if lang == Lang::En { en } else { zh };
        let title = match d.purpose {
            Purpose::OpenData => t("打开数据", "Open data"),
            Purpose::OpenProject => t("打开项目", "Open project"),
            Purpose::SaveProject => t("保存项目", "Save project"),
            Purpose::Export(_) => t("导出", "Export"),
        };
        let saving = matches!(d.purpose, Purpose::SaveProject | Purpose::Export(_));
        let mut open = true;
        let mut chosen: Option<PathBuf> = None;
        egui::Window::new(title)
            .open(&mut open)
            .default_width(560.0)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button(t("上一级", "Up")).clicked() {
                        if let Some(p) = d.dir.parent().map(Path::to_owned) {
                            d.enter(p);
                        }
                    }
                    let l = ui.label(t("文件夹", "Folder"));
                    let r = ui
                        .add(egui::TextEdit::singleline(&mut d.dir_text).desired_width(380.0))
                        .labelled_by(l.id);
                    if r.lost_focus() {
                        let p = PathBuf::from(d.dir_text.trim());
                        if p.is_dir() {
                            d.enter(p);
                        }
                    }
                });
                if let Some(e) = &d.error {
                    ui.colored_label(Color32::from_rgb(200, 40, 40), e);
                }
                let mut enter = None;
                egui::ScrollArea::vertical()
                    .max_height(320.0)
                    .show(ui, |ui| {
                        for (name, is_dir) in &d.entries {
                            let label = if *is_dir {
                                format!("[{}] {name}", t("文件夹", "folder"))
                            } else {
                                name.clone()
                            };
                            let r = ui.selectable_label(d.name == *name, label);
                            if r.clicked() {
                                if *is_dir && saving {
                                    enter = Some(d.dir.join(name));
                                } else {
                                    d.name = name.clone();
                                }
                            }
                            if r.double_clicked() {
                                if *is_dir && d.purpose != Purpose::OpenData {
                                    enter = Some(d.dir.join(name));
                                } else {
                                    chosen = Some(d.dir.join(name));
                                }
                            }
                        }
                    });
                if let Some(p) = enter {
                    d.enter(p);
                    if !saving {
                        d.name.clear();
                    }
                }
                ui.horizontal(|ui| {
                    let l = ui.label(t("文件名", "File name"));
                    ui.add(egui::TextEdit::singleline(&mut d.name).desired_width(300.0))
                        .labelled_by(l.id);
                    let ok = if saving {
                        t("保存", "Save")
                    } else {
                        t("打开", "Open")
                    };
                    if ui.button(ok).clicked() && !d.name.trim().is_empty() {
                        // A folder typed but not yet applied counts too.
                        let typed = PathBuf::from(d.dir_text.trim());
                        if typed.is_dir() {
                            chosen = Some(typed.join(d.name.trim()));
                        } else {
                            d.error = Some(format!(
                                "{}: {}",
                                typed.display(),
                                t("文件夹不存在", "no such folder")
                            ));
                        }
                    }
                    if d.purpose == Purpose::OpenData
                        && ui.button(t("打开此文件夹", "Open this folder")).clicked()
                    {
                        chosen = Some(d.dir.clone());
                    }
                });
            });
        if let Some(path) = chosen {
            let purpose = d.purpose;
            self.dialog = None;
            self.commands.push(match purpose {
                Purpose::OpenData if path.is_dir() && !path.join("dataset.toml").exists() => {
                    Command::InspectImport(path, None)
                }
                Purpose::OpenData => Command::Load(path),
                Purpose::OpenProject => Command::OpenProject(path),
                Purpose::SaveProject => Command::SaveProject(path),
                Purpose::Export(k) => Command::Export(k, path),
            });
        } else if !open {
            self.dialog = None;
        }
    }

    /// The import dialog, if open.
    pub(super) fn import_ui(&mut self, ctx: &egui::Context) {
        let Some(st) = &mut self.import else { return };
        let lang = self.lang;
        let t = |zh: &'static str, en: &'static str| if lang == Lang::En { en } else { zh };
        let mut open = true;
        let mut action = None;
        egui::Window::new(t(
            "导入设置：图层、坐标系与字段映射",
            "Import: layers, CRS and fields",
        ))
        .open(&mut open)
        .default_width(640.0)
        .show(ctx, |ui| {
            ui.label(st.source.display().to_string());
            if let Some(p) = &st.problem {
                ui.colored_label(Color32::from_rgb(200, 40, 40), p);
                ui.label(t(
                    "请核对每个图层的类型、坐标系和字段，然后重新加载。",
                    "Check each layer's role, CRS and fields, then load again.",
                ));
            }
            egui::ScrollArea::vertical()
                .max_height(520.0)
                .show(ui, |ui| {
                    for (li, layer) in st.manifest.layers.iter_mut().enumerate() {
                        ui.separator();
                        ui.strong(format!("{} {}", t("图层", "Layer"), layer.path));
                        egui::Grid::new(("import", li))
                            .num_columns(2)
                            .show(ui, |ui| {
                                let lid = ui.label(t("类型", "Role")).id;
                                egui::ComboBox::from_id_salt(("role", li))
                                    .selected_text(layer.role.clone())
                                    .show_ui(ui, |ui| {
                                        for r in ROLES {
                                            ui.selectable_value(&mut layer.role, r.to_string(), *r);
                                        }
                                    })
                                    .response
                                    .labelled_by(lid);
                                ui.end_row();
                                let lid = ui.label(t("坐标系 / 基准", "CRS / datum")).id;
                                ui.horizontal(|ui| {
                                    let cur = layer.crs.clone().unwrap_or_default();
                                    let shown = CRS_CHOICES
                                        .iter()
                                        .find(|c| c.0.eq_ignore_ascii_case(&cur))
                                        .map(|c| {
                                            if lang == Lang::En { c.2 } else { c.1 }.to_owned()
                                        })
                                        .unwrap_or(cur.clone());
                                    egui::ComboBox::from_id_salt(("crs", li))
                                        .selected_text(shown)
                                        .show_ui(ui, |ui| {
                                            for (key, zh, en) in CRS_CHOICES {
                                                let label =
                                                    if lang == Lang::En { *en } else { *zh };
                                                if ui.selectable_label(cur == *key, label).clicked()
                                                {
                                                    layer.crs =
                                                        (!key.is_empty()).then(|| key.to_string());
                                                }
                                            }
                                        })
                                        .response
                                        .labelled_by(lid);
                                    let mut text = layer.crs.clone().unwrap_or_default();
                                    let l = ui.label("EPSG");
                                    if ui
                                        .add(
                                            egui::TextEdit::singleline(&mut text)
                                                .hint_text("EPSG:4528")
                                                .desired_width(110.0),
                                        )
                                        .labelled_by(l.id)
                                        .changed()
                                    {
                                        layer.crs = (!text.trim().is_empty())
                                            .then(|| text.trim().to_owned());
                                    }
                                });
                                ui.end_row();
                                if matches!(layer.role.as_str(), "units" | "auto") {
                                    let levels: Vec<(String, String)> = LEVELS
                                        .iter()
                                        .map(|l| (l.to_string(), l.to_string()))
                                        .collect();
                                    option_row(
                                        ui,
                                        t("层级", "Level"),
                                        ("level", li),
                                        &mut layer.level,
                                        t("自动", "auto"),
                                        &levels,
                                    );
                                }
                                if matches!(layer.role.as_str(), "facilities" | "planned") {
                                    let kinds: Vec<(String, String)> = FacilityKind::ALL
                                        .iter()
                                        .map(|k| {
                                            let shown =
                                                if lang == Lang::En { k.en() } else { k.zh() };
                                            (k.key().to_owned(), shown.to_owned())
                                        })
                                        .collect();
                                    option_row(
                                        ui,
                                        t("默认设施类型", "Default kind"),
                                        ("kind", li),
                                        &mut layer.kind,
                                        t("按字段", "from field"),
                                        &kinds,
                                    );
                                }
                                let lower = layer.path.to_lowercase();
                                if lower.ends_with(".shp") || lower.ends_with(".csv") {
                                    let encodings: Vec<(String, String)> = ENCODINGS
                                        .iter()
                                        .map(|e| (e.to_string(), e.to_string()))
                                        .collect();
                                    option_row(
                                        ui,
                                        t("文字编码", "Text encoding"),
                                        ("enc", li),
                                        &mut layer.encoding,
                                        t(
                                            "自动（.cpg，否则 UTF-8/GBK）",
                                            "auto (.cpg, else UTF-8/GBK)",
                                        ),
                                        &encodings,
                                    );
                                }
                            });
                        let cols = st.columns.get(li).cloned().unwrap_or_default();
                        let fields = fields_for(&layer.role);
                        if !cols.is_empty() && !fields.is_empty() {
                            ui.label(
                                RichText::new(t(
                                    "字段映射（模型字段 ← 文件字段）",
                                    "Field mapping (model field ← file column)",
                                ))
                                .italics(),
                            );
                            let choices: Vec<(String, String)> =
                                cols.iter().map(|c| (c.clone(), c.clone())).collect();
                            egui::Grid::new(("fields", li))
                                .num_columns(2)
                                .show(ui, |ui| {
                                    for f in fields {
                                        let auto = crate::io::fields::default_names(f)
                                            .iter()
                                            .find(|n| cols.iter().any(|c| c == *n))
                                            .map(|n| format!("{} ({n})", t("自动", "auto")))
                                            .unwrap_or_else(|| t("（无）", "(none)").to_owned());
                                        let mut v = layer.fields.get(*f).cloned();
                                        option_row(
                                            ui,
                                            f,
                                            ("field", li, *f),
                                            &mut v,
                                            &auto,
                                            &choices,
                                        );
                                        match v {
                                            Some(c) => layer.fields.insert(f.to_string(), c),
                                            None => layer.fields.remove(*f),
                                        };
                                    }
                                });
                        }
                    }
                });
            ui.separator();
            ui.horizontal(|ui| {
                if ui
                    .button(t("按此设置加载", "Load with these settings"))
                    .clicked()
                {
                    action = Some(false);
                }
                if ui
                    .button(t("保存为 dataset.toml", "Save as dataset.toml"))
                    .clicked()
                {
                    action = Some(true);
                }
            });
            if let Some(m) = &st.message {
                ui.label(m);
            }
        });
        match action {
            Some(false) => {
                if let Some(st) = self.import.take() {
                    self.commands.push(Command::LoadManifest(Box::new(st)));
                }
            }
            Some(true) => {
                let msg = self.save_manifest();
                if let Some(st) = &mut self.import {
                    st.message = Some(msg);
                }
            }
            None if !open => self.import = None,
            None => {}
        }
    }

    /// Writes the import settings as dataset.toml in the data folder (never over a
    /// different existing file).
    fn save_manifest(&mut self) -> String {
        let Some(st) = &self.import else {
            return String::new();
        };
        let target = st.base.join("dataset.toml");
        if target.exists()
            && std::fs::canonicalize(&target).ok() != std::fs::canonicalize(&st.source).ok()
        {
            return format!(
                "{}: {}",
                target.display(),
                self.t("已存在，未覆盖", "exists already; not overwritten")
            );
        }
        match toml::to_string_pretty(&st.manifest) {
            Ok(text) => match crate::io::geojson::write_atomic(&target, text.as_bytes()) {
                Ok(()) => format!("{} {}", self.t("已保存", "Saved"), target.display()),
                Err(e) => e.to_string(),
            },
            Err(e) => format!("{}: {e}", target.display()),
        }
    }

    pub(super) fn start_inspect(
        &mut self,
        ctx: &egui::Context,
        path: PathBuf,
        problem: Option<String>,
    ) {
        let lang = self.lang;
        self.spawn(ctx, "inspect", move |_| {
            match inspect(&path, problem, lang) {
                Ok(st) => JobResult::Inspected(Box::new(st)),
                Err(e) => JobResult::Failed(e),
            }
        });
    }

    pub(super) fn start_load_manifest(&mut self, ctx: &egui::Context, st: ImportState) {
        self.last_load = Some(st.source.clone());
        // Kept so a failed load reopens the dialog with the user's edits, not the file's.
        self.last_import = Some(st.clone());
        let ImportState {
            source,
            base,
            manifest,
            ..
        } = st;
        let lang = self.lang;
        self.spawn(ctx, "load", move |p| {
            match crate::io::load_manifest_with(&manifest, &base, &source, p) {
                Ok(ds) => super::loaded(ds),
                Err(e) => JobResult::Failed(super::load_failure(lang, &source, &e)),
            }
        });
    }

    /// The project as it stands.
    pub(super) fn project(&self, path: &Path) -> Project {
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Project {
            version: 1,
            dataset: self.dataset.as_ref().map(|d| relative_to(&d.source, &dir)),
            preset: self.scenario.preset.clone(),
            minutes: self.scenario.rules().settings.walk_minutes,
            speed: self.scenario.rules().settings.walk_speed_m_s,
            network: self.scenario.mode == DistanceMode::Network,
            with_planned: self.scenario.include_planned,
            year: self.scenario.year,
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
            siting_exact: self.siting.exact,
            proposals: self.siting.result.clone(),
            decisions: self.siting.decisions.clone(),
        }
    }

    pub(super) fn save_project(&mut self, path: PathBuf) {
        let path = if path.extension().is_none() {
            path.with_extension("ccproj")
        } else {
            path
        };
        let project = self.project(&path);
        let result = serde_json::to_vec_pretty(&project)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::io::geojson::write_atomic(&path, &b).map_err(|e| e.to_string()));
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
    pub(super) fn open_project(&mut self, path: PathBuf) {
        let read = std::fs::read(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
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
        self.set_scenario(
            &p.preset,
            p.minutes,
            p.speed,
            p.network,
            p.with_planned,
            p.year,
        );
        self.lang = if p.english { Lang::En } else { Lang::Zh };
        self.map_rule = p.map_rule.clone();
        self.layers = super::layers::normalise(p.layers.clone());
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
        self.siting.exact = p.siting_exact;
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        let data = p.dataset.as_ref().map(|d| {
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
    pub(super) fn apply_pending_project(&mut self) {
        let Some(p) = self.pending_project.take() else {
            return;
        };
        if let Some([x, y, s]) = p.view {
            if s > 0.0 && s.is_finite() {
                self.view = Some(super::map::View {
                    center: [x, y],
                    scale: s,
                });
            }
        }
        if let Some(r) = p.proposals {
            let mut d = p.decisions;
            d.resize(r.proposals.len(), None);
            self.siting.decisions = d;
            self.siting.result = Some(r);
        }
    }

    /// Runs an export: the map on the worker (rasterising takes a moment), tables here.
    pub(super) fn export(&mut self, ctx: &egui::Context, kind: ExportKind, path: PathBuf) {
        let Some(ds) = self.dataset.clone() else {
            return;
        };
        let en = self.lang == Lang::En;
        let path = if path.extension().is_none() {
            path.with_extension(kind.extension())
        } else {
            path
        };
        let kept = |r: &Proposals, d: &[Option<bool>]| {
            let mut r = r.clone();
            let mut k = 0;
            r.proposals.retain(|_| {
                let keep = d.get(k).copied().flatten() != Some(false);
                k += 1;
                keep
            });
            r
        };
        let done = |app: &mut Self, res: Result<(), String>| match res {
            Ok(()) => app.notices.push(format!(
                "{} {}",
                app.t("已导出", "Exported"),
                path.display()
            )),
            Err(e) => app.errors.push(e),
        };
        match kind {
            ExportKind::Map => {
                let Some(report) = self.report.clone() else {
                    return;
                };
                let spec = self.map_spec();
                let p2 = path.clone();
                self.spawn(ctx, "export", move |_| match crate::report::map::write_map(
                    &ds,
                    Some(&report),
                    &spec,
                    &p2,
                ) {
                    Ok(()) => JobResult::Exported(p2),
                    Err(e) => JobResult::Failed(e.to_string()),
                });
            }
            ExportKind::GapsGeoJson => {
                let Some(r) = &self.report else { return };
                let res = crate::report::write_geojson(r, &ds, &path).map_err(|e| e.to_string());
                done(self, res);
            }
            ExportKind::GapsCsv => {
                let Some(r) = &self.report else { return };
                let text = crate::report::gaps_csv(r, en);
                let res = crate::io::geojson::write_atomic(&path, text.as_bytes())
                    .map_err(|e| e.to_string());
                done(self, res);
            }
            ExportKind::ProposalsGeoJson | ExportKind::ProposalsCsv => {
                let Some(r) = &self.siting.result else { return };
                let decisions = self.siting.decisions.clone();
                let r = kept(r, &decisions);
                let bytes = if kind == ExportKind::ProposalsCsv {
                    r.to_csv().into_bytes()
                } else {
                    // Each site says whether the planner accepted it or left it open.
                    let mut v = r.to_geojson();
                    let mut accepted = decisions.iter().filter(|d| **d != Some(false));
                    if let Some(fs) = v["features"].as_array_mut() {
                        for f in fs {
                            let d = accepted.next().copied().flatten();
                            f["properties"]["decision"] = (if d == Some(true) {
                                "accepted"
                            } else {
                                "undecided"
                            })
                            .into();
                        }
                    }
                    serde_json::to_vec_pretty(&v).unwrap_or_default()
                };
                let res =
                    crate::io::geojson::write_atomic(&path, &bytes).map_err(|e| e.to_string());
                done(self, res);
            }
        }
    }

    /// The map as the user sees it, for export: same centre, the rule, visible layers,
    /// proposals with their decisions; twice the screen's pixels for print.
    pub(super) fn map_spec(&self) -> crate::report::map::MapSpec {
        use super::layers::LayerId;
        use crate::report::map::{BandMark, MapSpec, ProposalMark};
        let rect = self.last_map_rect.unwrap_or(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1000.0, 700.0),
        ));
        let k = 2.0;
        let (w, h) = ((rect.width() * k) as u32, (rect.height() * k) as u32 + 100);
        let en = self.lang == Lang::En;
        let name = self
            .dataset
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let (rule_title, subtitle) = match &self.report {
            Some(r) => crate::report::map::analysis_titles(r, self.map_rule.as_deref(), en),
            None => (String::new(), String::new()),
        };
        let mut spec = MapSpec::new(w.max(400), h.max(400), format!("{name} — {rule_title}"));
        spec.english = en;
        spec.rule = self.map_rule.clone();
        spec.subtitle = subtitle;
        if let Some(v) = self.view {
            spec.center = Some(v.center);
            spec.scale = Some(v.scale * k as f64);
        }
        let vis = |id| self.layer(id).visible;
        spec.layers.units = vis(LayerId::Units);
        spec.layers.bands = vis(LayerId::Bands);
        spec.layers.streets = vis(LayerId::Streets);
        spec.layers.outlines = vis(LayerId::Outlines);
        spec.layers.uncovered = vis(LayerId::Uncovered);
        spec.layers.facilities = vis(LayerId::Facilities);
        spec.layers.proposals = vis(LayerId::Proposals);
        if let Some(r) = &self.siting.result {
            spec.proposals = r
                .proposals
                .iter()
                .enumerate()
                .filter(|(i, _)| self.siting.decisions.get(*i).copied().flatten() != Some(false))
                .map(|(i, p)| ProposalMark {
                    x: p.x,
                    y: p.y,
                    rank: p.rank,
                    accepted: self.siting.decisions.get(i).copied().flatten() == Some(true),
                })
                .collect();
        }
        spec.bands = self
            .bands
            .iter()
            .map(|b| BandMark {
                minutes: b.minutes,
                triangles: b.triangles.clone(),
            })
            .collect();
        spec
    }
}
