//! The file dialog, drawn by egui itself (native portals are often missing on bureau
//! desktops and in headless tests): open data or projects, save projects and exports.

use super::*;

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

impl CareCircleApp {
    /// The file dialog window, if open.
    pub(in crate::app) fn dialog_ui(&mut self, ctx: &egui::Context) {
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
}
