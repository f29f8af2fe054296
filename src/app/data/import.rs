//! The import dialog, opened when the loader is unsure: each layer's role, CRS/datum,
//! level, kind, encoding and field mapping, then load or save the manifest.

use super::*;
use crate::app::state::JobError;

/// The import dialog: the manifest being edited and, per layer, the file's columns.
#[derive(Clone)]
pub struct ImportState {
    /// What the user opened (file, folder or dataset.toml).
    pub source: PathBuf,
    /// Folder the layer paths are relative to.
    pub base: PathBuf,
    pub manifest: Manifest,
    pub columns: Vec<Vec<String>>,
    /// Per layer: the sheets (Excel) or feature tables (GeoPackage) it can read.
    pub parts: Vec<Vec<String>>,
    /// Why the dialog opened (the loader's error or warnings), if it opened by itself.
    pub problem: Option<String>,
    pub message: Option<String>,
}

/// Reads what the import dialog needs (on the worker: shapefiles can be large); a failure
/// is said in `lang`.
pub(in crate::app) fn inspect(
    source: &Path,
    problem: Option<String>,
) -> Result<ImportState, JobError> {
    let (manifest, base) = crate::io::manifest_for(source).map_err(|error| JobError::Load {
        path: source.to_owned(),
        error: Box::new(error),
    })?;
    let columns = manifest
        .layers
        .iter()
        .map(|l| crate::io::layer_columns(&base.join(&l.path), l).unwrap_or_default())
        .collect();
    let parts = manifest
        .layers
        .iter()
        .map(|l| crate::io::layer_parts(&base.join(&l.path)))
        .collect();
    Ok(ImportState {
        source: source.to_owned(),
        base,
        manifest,
        columns,
        parts,
        problem,
        message: None,
    })
}

pub(super) const ROLES: &[&str] = &[
    "auto",
    "units",
    "facilities",
    "demand",
    "network",
    "buildings",
    "planned",
];
pub(super) const CRS_CHOICES: &[(&str, &str, &str)] = &[
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
pub(super) const LEVELS: &[&str] = &[
    "district",
    "county",
    "sub_district",
    "township",
    "community",
    "village",
];
pub(super) const ENCODINGS: &[&str] = &["UTF-8", "GBK"];

/// One labelled grid row choosing an optional value: `None` shows `none_label`; `choices`
/// are (value, shown text).
pub(super) fn option_row(
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
pub(super) fn fields_for(role: &str) -> &'static [&'static str] {
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

impl CareCircleApp {
    /// The import dialog, if open.
    pub(in crate::app) fn import_ui(&mut self, ctx: &egui::Context) {
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
                        // A workbook's sheet or a GeoPackage's table names the layer too.
                        let part = layer
                            .table
                            .as_ref()
                            .or(layer.sheet.as_ref())
                            .map(|p| format!(" · {p}"))
                            .unwrap_or_default();
                        ui.strong(format!("{} {}{part}", t("图层", "Layer"), layer.path));
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
                                let parts = st.parts.get(li).cloned().unwrap_or_default();
                                if !parts.is_empty() {
                                    let excel = matches!(
                                        crate::io::manifest::format_of(std::path::Path::new(
                                            &layer.path
                                        )),
                                        Some(crate::io::manifest::Format::Excel)
                                    );
                                    let choices: Vec<(String, String)> =
                                        parts.iter().map(|p| (p.clone(), p.clone())).collect();
                                    let (label, value, first) = if excel {
                                        (
                                            t("工作表", "Sheet"),
                                            &mut layer.sheet,
                                            t("第一个", "the first"),
                                        )
                                    } else {
                                        (
                                            t("要素表", "Table"),
                                            &mut layer.table,
                                            t("唯一的", "the only one"),
                                        )
                                    };
                                    option_row(ui, label, ("part", li), value, first, &choices);
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
    pub(in crate::app) fn save_manifest(&mut self) -> String {
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
            Ok(text) => match crate::io::write::write_atomic(&target, text.as_bytes()) {
                Ok(()) => format!("{} {}", self.t("已保存", "Saved"), target.display()),
                Err(e) => e.to_string(),
            },
            Err(e) => format!("{}: {e}", target.display()),
        }
    }

    pub(in crate::app) fn start_inspect(
        &mut self,
        ctx: &egui::Context,
        path: PathBuf,
        problem: Option<String>,
    ) {
        self.spawn(ctx, "inspect", move |_| match inspect(&path, problem) {
            Ok(st) => JobResult::Inspected(Box::new(st)),
            Err(e) => JobResult::Failed(e),
        });
    }

    pub(in crate::app) fn start_load_manifest(&mut self, ctx: &egui::Context, st: ImportState) {
        self.last_load = Some(st.source.clone());
        // Kept so a failed load reopens the dialog with the user's edits, not the file's.
        self.last_import = Some(st.clone());
        let ImportState {
            source,
            base,
            manifest,
            ..
        } = st;
        self.spawn(ctx, "load", move |p| {
            match crate::io::load_manifest_with(&manifest, &base, &source, p) {
                Ok(ds) => super::super::loaded(ds),
                Err(error) => JobResult::Failed(JobError::Load {
                    path: source,
                    error: Box::new(error),
                }),
            }
        });
    }
}
