//! The Scenarios panel: keep the current settings and accepted proposals as a named
//! scenario ("现状", "方案A: 10 处新增"), compare two on the worker, read the rule-by-rule
//! table, and see both maps side by side (one view, panned and zoomed together).

use super::*;
use crate::coverage::analysis::Status;
use crate::report::scenarios::{accepted, compare, Comparison, NamedScenario, ScenarioSettings};

/// What the Scenarios panel holds (saved with the project).
#[derive(Default)]
pub struct ScenarioState {
    pub list: Vec<NamedScenario>,
    pub name_input: String,
    pub a: usize,
    pub b: usize,
    /// Split the map: A on the left, B on the right.
    pub side_by_side: bool,
}

/// Two scenarios' reports and their comparison (data-dependent: kept in the session).
pub struct Compared {
    pub a: Report,
    pub b: Report,
    pub cmp: Comparison,
    /// Where each scenario's added facilities are (local metres), for the maps.
    pub added_a: Vec<[f64; 2]>,
    pub added_b: Vec<[f64; 2]>,
}

/// Which report the map being drawn shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MapSide {
    #[default]
    Main,
    A,
    B,
}

impl CareCircleApp {
    /// The current settings and accepted proposals as a scenario named `name`.
    pub(super) fn current_scenario(&self, name: &str) -> NamedScenario {
        NamedScenario {
            name: name.to_owned(),
            settings: ScenarioSettings::of(&self.scenario),
            added: self
                .siting
                .result
                .as_ref()
                .map(|p| accepted(p, &self.siting.decisions))
                .unwrap_or_default(),
        }
    }

    /// The report the map shows on the side being drawn.
    pub(super) fn shown_report(&self) -> Option<&Report> {
        match (self.map_side, &self.data.comparison) {
            (MapSide::A, Some(c)) => Some(&c.a),
            (MapSide::B, Some(c)) => Some(&c.b),
            _ => self.data.report.as_deref(),
        }
    }

    /// Runs both scenarios on the worker and compares them.
    pub(super) fn start_compare(&mut self, ctx: &egui::Context, a: usize, b: usize) {
        let (Some(sa), Some(sb)) = (
            self.scenarios.list.get(a).cloned(),
            self.scenarios.list.get(b).cloned(),
        ) else {
            return;
        };
        let Some(ds) = self.data.dataset.clone() else {
            return;
        };
        let cached = self.data.graph.clone();
        self.spawn(ctx, "compare", move |p| {
            let mode = if sa.settings.network || sb.settings.network {
                DistanceMode::Network
            } else {
                DistanceMode::Euclidean
            };
            let graph = match jobs::walking_graph(mode, &ds, cached) {
                Ok(g) => g,
                Err(e) => return JobResult::Failed(e),
            };
            let run = |s: &NamedScenario| s.run(&ds, graph.as_deref(), p);
            match run(&sa).and_then(|ra| Ok((ra, run(&sb)?))) {
                Ok((ra, rb)) => {
                    let cmp = compare(&ra, &rb, &sa.name, &sb.name);
                    let at = |s: &NamedScenario| -> Vec<[f64; 2]> {
                        s.added
                            .iter()
                            .map(|f| {
                                let (x, y) = ds.projection.forward(f.lon, f.lat);
                                [x, y]
                            })
                            .collect()
                    };
                    JobResult::Compared(Box::new(Compared {
                        a: ra,
                        b: rb,
                        cmp,
                        added_a: at(&sa),
                        added_b: at(&sb),
                    }))
                }
                Err(error) => JobResult::Failed(JobError::In {
                    what: ("情景对比", "scenario comparison"),
                    error: Box::new(error),
                }),
            }
        });
    }

    pub(super) fn scenarios_ui(&mut self, ui: &mut egui::Ui) {
        let en = self.lang == Lang::En;
        ui.heading(self.t("情景对比", "Scenarios"));
        ui.horizontal(|ui| {
            let l = ui.label(self.t("名称", "Name"));
            ui.text_edit_singleline(&mut self.scenarios.name_input)
                .labelled_by(l.id);
        });
        let name = self.scenarios.name_input.trim().to_owned();
        if ui
            .add_enabled(
                !name.is_empty(),
                egui::Button::new(self.t("保存当前为情景", "Keep current as scenario")),
            )
            .on_hover_text(self.t(
                "当前规则、步行设置、规划项目与已采纳的选址",
                "Current rules, walk, planned projects and accepted proposals",
            ))
            .clicked()
        {
            self.commands.push(Command::KeepScenario(name));
        }
        let names: Vec<String> = self.scenarios.list.iter().map(|s| s.name.clone()).collect();
        let mut drop = None;
        for (i, s) in self.scenarios.list.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{} · {} {} {}",
                    s.name,
                    s.added.len(),
                    self.t("处新增", "added"),
                    if s.settings.network {
                        self.t("步行", "walk")
                    } else {
                        self.t("直线", "straight")
                    }
                ));
                if ui.small_button(self.t("删除", "Delete")).clicked() {
                    drop = Some(i);
                }
            });
        }
        if let Some(i) = drop {
            self.commands.push(Command::DropScenario(i));
        }
        if names.len() < 2 {
            ui.small(self.t(
                "保存两个情景后即可对比",
                "Keep two scenarios to compare them",
            ));
            return;
        }
        let pick = |ui: &mut egui::Ui, id: &str, label: &str, v: &mut usize| {
            egui::ComboBox::from_id_salt(id.to_owned())
                .selected_text(format!(
                    "{label}: {}",
                    names.get(*v).cloned().unwrap_or_default()
                ))
                .show_ui(ui, |ui| {
                    for (i, n) in names.iter().enumerate() {
                        ui.selectable_value(v, i, n);
                    }
                });
        };
        pick(ui, "scenario_a", "A", &mut self.scenarios.a);
        pick(ui, "scenario_b", "B", &mut self.scenarios.b);
        let busy = self.job.is_some();
        if ui
            .add_enabled(
                !busy && self.data.dataset.is_some(),
                egui::Button::new(self.t("比较", "Compare")),
            )
            .clicked()
        {
            self.commands
                .push(Command::Compare(self.scenarios.a, self.scenarios.b));
        }
        let Some(c) = &self.data.comparison else {
            return;
        };
        let label = self.t(
            "并排地图（A 左 / B 右）",
            "Maps side by side (A left, B right)",
        );
        ui.checkbox(&mut self.scenarios.side_by_side, label);
        let cmp = &c.cmp;
        ui.label(format!("A = {} · B = {}", cmp.a, cmp.b));
        egui::Grid::new("scenario_cmp")
            .striped(true)
            .show(ui, |ui| {
                ui.label(self.t("规则", "Rule"));
                ui.label("A");
                ui.label("B");
                ui.label(self.t("变化单元", "Units changed"));
                ui.end_row();
                for r in cmp.rules.iter().filter(|r| {
                    r.status_a != Status::NotEvaluable || r.status_b != Status::NotEvaluable
                }) {
                    let title = r.title_in(en);
                    ui.label(crate::report::truncate(title, 18))
                        .on_hover_text(title);
                    let st = |s: Status| if en { s.en() } else { s.zh() };
                    ui.label(format!(
                        "{} {}",
                        st(r.status_a),
                        if en {
                            &r.value_a_text_en
                        } else {
                            &r.value_a_text
                        }
                    ));
                    ui.label(format!(
                        "{} {}",
                        st(r.status_b),
                        if en {
                            &r.value_b_text_en
                        } else {
                            &r.value_b_text
                        }
                    ));
                    ui.label(r.units_changed.to_string());
                    ui.end_row();
                }
            });
    }
}
