//! The top bar and the Rules panel: plan preset, walk (minutes × named speeds), distance
//! mode, planned projects and scenario year — all edits of the one `Scenario`.

use super::*;

impl CareCircleApp {
    pub(super) fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
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
            if ui
                .add_enabled(
                    self.data.report.is_some(),
                    egui::Button::new(self.t("演示 (F5)", "Present (F5)")),
                )
                .clicked()
            {
                self.commands.push(Command::Present(true));
            }
            ui.separator();
            let (label, next) = match self.lang {
                Lang::Zh => ("English", Lang::En),
                Lang::En => ("中文", Lang::Zh),
            };
            if ui.button(label).clicked() {
                self.commands.push(Command::SetLang(next));
            }
            let n_warn = self.data.dataset.as_ref().map_or(0, |d| d.warnings.len());
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
        if self
            .data
            .dataset
            .as_ref()
            .is_some_and(|d| settings::is_demo(&d.source))
        {
            ui.colored_label(
                Color32::from_rgb(150, 90, 0),
                self.t(
                    "这是内置演示数据（哈尔滨；部分养老设施为模拟数据）。用“数据 → 打开数据…”打开您自己的数据。",
                    "This is the bundled demo (Harbin; some elderly-care facilities are synthetic). Open your own data with Data → Open data….",
                ),
            );
        }
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

    pub(super) fn rules_ui(&mut self, ui: &mut egui::Ui) {
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
                self.data.dataset.is_some() && self.job.is_none(),
                egui::Button::new(self.t("运行分析", "Run analysis")),
            )
            .clicked()
        {
            self.commands.push(Command::Analyze);
        }
    }
}
