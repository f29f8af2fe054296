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
use crate::io::manifest::Manifest;
use crate::model::FacilityKind;
use crate::siting::propose::{Proposals, ProposeModel};

mod export;
mod file_dialog;
mod import;
mod project;

pub use file_dialog::FileDialog;
pub use import::*;
pub use project::*;

/// What a file dialog is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Purpose {
    OpenData,
    OpenProject,
    SaveProject,
    Export(ExportKind),
}

/// The native file dialog (Windows): the command the chosen path makes, `None` when the
/// user cancels.
#[cfg(windows)]
fn native_dialog(purpose: Purpose, dir: &Path, name: &str) -> Option<Command> {
    let d = rfd::FileDialog::new().set_directory(dir);
    Some(match purpose {
        Purpose::OpenData => Command::Load(
            d.add_filter(
                "GIS data",
                &[
                    "toml", "geojson", "json", "shp", "csv", "txt", "xlsx", "xls", "ods", "gpkg",
                    "pbf",
                ],
            )
            .pick_file()?,
        ),
        Purpose::OpenProject => {
            Command::OpenProject(d.add_filter("CareCircle", &["ccproj"]).pick_file()?)
        }
        Purpose::SaveProject => Command::SaveProject(
            d.set_file_name(name)
                .add_filter("CareCircle", &["ccproj"])
                .save_file()?,
        ),
        Purpose::Export(k) => Command::Export(
            k,
            d.set_file_name(name)
                .add_filter(k.extension(), &[k.extension()])
                .save_file()?,
        ),
    })
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
    /// The presentation's sequence as the PDF report (汇报 PDF).
    ReportPdf,
    /// Units with their rule status and the uncovered demand, one GeoPackage (a table
    /// each) for QGIS.
    GapsGpkg,
    /// The facilities with the field edits applied (GeoPackage by default; GeoJSON, Excel
    /// or CSV by the name's extension), every source attribute and id kept.
    EditedFacilities,
}

impl ExportKind {
    pub fn extension(self) -> &'static str {
        match self {
            ExportKind::Map => "png",
            ExportKind::GapsGeoJson | ExportKind::ProposalsGeoJson => "geojson",
            ExportKind::GapsCsv | ExportKind::ProposalsCsv => "csv",
            ExportKind::ReportPdf => "pdf",
            ExportKind::GapsGpkg | ExportKind::EditedFacilities => "gpkg",
        }
    }
    fn stem(self) -> &'static str {
        match self {
            ExportKind::Map => "map",
            ExportKind::GapsGeoJson | ExportKind::GapsCsv => "gaps",
            ExportKind::ProposalsGeoJson | ExportKind::ProposalsCsv => "proposals",
            ExportKind::ReportPdf => "report",
            ExportKind::GapsGpkg => "gaps",
            ExportKind::EditedFacilities => "facilities-edited",
        }
    }
}

impl CareCircleApp {
    /// Where dialogs start: the dataset's folder, else the working directory.
    fn start_dir(&self) -> PathBuf {
        self.data
            .dataset
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

    pub(in crate::app) fn open_dialog(&mut self, purpose: Purpose) {
        let stem = self
            .data
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
        #[cfg(windows)]
        {
            // Windows: the system's own dialog (a bureau PC's shortcuts, network drives).
            if let Some(cmd) = native_dialog(purpose, &dir, &name) {
                self.commands.push(cmd);
            }
            return;
        }
        #[allow(unreachable_code)]
        {
            self.dialog = Some(FileDialog::new(purpose, dir, name));
        }
    }

    /// The Data panel: open, import settings, project, exports.
    pub(in crate::app) fn data_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("数据", "Data"));
        ui.horizontal_wrapped(|ui| {
            if ui.button(self.t("打开数据…", "Open data…")).clicked() {
                self.commands.push(Command::OpenDialog(Purpose::OpenData));
            }
            if ui.button(self.t("导入设置…", "Import settings…")).clicked() {
                if let Some(src) = self.data.dataset.as_ref().map(|d| d.source.clone()) {
                    self.commands.push(Command::InspectImport(src, None));
                }
            }
        });
        ui.label(
            RichText::new(self.t(
                "也可把 GeoJSON / Shapefile / CSV / Excel / GeoPackage / OSM PBF / dataset.toml 拖入窗口",
                "Or drop GeoJSON / Shapefile / CSV / Excel / GeoPackage / OSM PBF / dataset.toml onto the window",
            ))
            .small(),
        );
        if let Some(ds) = &self.data.dataset {
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
        let has_report = self.data.report.is_some();
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
                    ExportKind::GapsGpkg,
                    self.t("缺口 GeoPackage", "Gaps GeoPackage"),
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
}
