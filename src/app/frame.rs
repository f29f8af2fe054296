//! The window: panels around the map, dialogs and windows, the command queue drained once
//! per frame, and what is remembered on exit.

use super::*;

impl eframe::App for CareCircleApp {
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SAVED_KEY, &self.saved());
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.poll_job(&ui.ctx().clone());
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
        self.presentation_keys(&ctx);
        self.edit_keys(&ctx);
        self.handle_commands(&ctx);
        self.refresh_uncovered(&ctx);
        if self.present.is_some() {
            // Presentation: the slide's words in large type over the live map; no panels.
            let summary = self.current_slide() == Some(present::Slide::Summary);
            if summary {
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.slide_ui(ui));
                });
            } else {
                egui::Panel::top("slide").show(ui, |ui| self.slide_ui(ui));
                egui::CentralPanel::default().show(ui, |ui| self.map_ui(ui));
            }
            self.inspect_ui(&ctx);
            self.dialog_ui(&ctx);
            return;
        }
        egui::Panel::top("top").show(ui, |ui| {
            self.top_bar_ui(ui);
            self.restore_ui(ui);
        });
        egui::Panel::left("legend")
            .default_size(270.0)
            .max_size(380.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.data_ui(ui);
                    ui.separator();
                    self.edit_ui(ui);
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
                        self.scenarios_ui(ui);
                        ui.separator();
                        self.gaps_ui(ui);
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if self.scenarios.side_by_side && self.data.comparison.is_some() {
                // Two maps, one view: panning or zooming either moves both.
                ui.columns(2, |cols| {
                    self.map_side = scenarios::MapSide::A;
                    self.map_ui(&mut cols[0]);
                    self.map_side = scenarios::MapSide::B;
                    self.map_ui(&mut cols[1]);
                });
                self.map_side = scenarios::MapSide::Main;
            } else {
                self.map_ui(ui);
            }
        });
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
                        if let Some(ds) = &self.data.dataset {
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
                    if let Some(ds) = &self.data.dataset {
                        for a in &ds.attribution {
                            ui.label(a);
                        }
                    }
                });
            self.show_about = open;
        }
    }
}
