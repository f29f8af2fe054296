//! The Proposals panel (run a siting model on the worker thread, accept or reject each
//! proposal, before/after figures) and the Gaps table (failing units by rule, sortable,
//! click to zoom).

use crate::app::state::JobError;
use egui::{Color32, RichText};

use super::{walking_graph, CareCircleApp, Command, JobResult, Lang};
use crate::model::FacilityKind;
use crate::siting::propose::{propose, Proposals, ProposeModel, ProposeOptions, RuleDelta};

/// What the Proposals panel holds.
pub struct SitingState {
    pub kind: FacilityKind,
    pub model: ProposeModel,
    pub p: usize,
    /// Threshold covering: the share of demand to bring within reach, in percent.
    pub share_pct: f64,
    /// Sized model: "size:cost" per module, and the budget.
    pub modules: String,
    pub budget: f64,
    pub exact: bool,
    pub result: Option<Proposals>,
    /// Per proposal: accepted (Some(true)), rejected (Some(false)) or undecided.
    pub decisions: Vec<Option<bool>>,
}

impl Default for SitingState {
    fn default() -> Self {
        Self {
            kind: FacilityKind::DayCare,
            model: ProposeModel::Mclp,
            p: 10,
            share_pct: 95.0,
            modules: "80:1,150:1.6".into(),
            budget: 8.0,
            exact: false,
            result: None,
            decisions: Vec::new(),
        }
    }
}

/// One Gaps row: unit, "name code", rule title, value, deficit.
type GapRow = (
    crate::model::UnitId,
    String,
    String,
    Option<f64>,
    Option<f64>,
);

/// Gaps table sort keys.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GapSort {
    Unit,
    Rule,
    Value,
    Deficit,
}

impl CareCircleApp {
    pub(super) fn start_proposal(&mut self, ctx: &egui::Context) {
        let Some((ds, sc)) = self.job_inputs() else {
            return;
        };
        let st = &self.siting;
        let (sizes, costs) = match parse_modules(&st.modules) {
            Some(m) => m,
            None => {
                let msg = self
                    .t(
                        "规模格式应为 规模:费用，如 80:1,150:1.6",
                        "Modules must read size:cost, e.g. 80:1,150:1.6",
                    )
                    .to_owned();
                self.errors.push(msg);
                return;
            }
        };
        let sized = st.model == ProposeModel::Sized;
        let opts = ProposeOptions {
            kind: st.kind,
            model: st.model,
            p: (!matches!(
                st.model,
                ProposeModel::Capacitated | ProposeModel::Threshold | ProposeModel::Sized
            ))
            .then_some(st.p),
            share: (st.model == ProposeModel::Threshold).then_some(st.share_pct / 100.0),
            modules: if sized { sizes } else { vec![80.0, 150.0] },
            module_costs: if sized { costs } else { Vec::new() },
            budget: sized.then_some(st.budget),
            exact: st.exact,
            time_limit: 30.0,
            include_planned: sc.include_planned,
            year: sc.year,
            ..Default::default()
        };
        let cached = self.data.graph.clone();
        self.spawn(ctx, "propose", move |p| {
            let graph = match walking_graph(sc.mode, &ds, cached) {
                Ok(g) => g,
                Err(e) => return JobResult::Failed(e),
            };
            let result = sc
                .access(graph.as_deref())
                .and_then(|acc| propose(&ds, sc.rules(), &opts, None, acc.as_ref(), p));
            match result {
                Ok(o) => JobResult::Proposed(Box::new(o.proposals)),
                Err(error) => JobResult::Failed(JobError::In {
                    what: ("选址", "proposal"),
                    error: Box::new(error),
                }),
            }
        });
    }

    pub(super) fn proposals_ui(&mut self, ui: &mut egui::Ui) {
        let en = self.lang == Lang::En;
        ui.heading(self.t("选址方案", "Site proposals"));
        let kinds = [
            FacilityKind::DayCare,
            FacilityKind::StreetStation,
            FacilityKind::TownshipInstitution,
            FacilityKind::Nursery,
        ];
        let kind_label = |k: FacilityKind| if en { k.en() } else { k.zh() };
        egui::ComboBox::from_label(self.t("设施类型", "Facility"))
            .selected_text(kind_label(self.siting.kind))
            .show_ui(ui, |ui| {
                for k in kinds {
                    ui.selectable_value(&mut self.siting.kind, k, kind_label(k));
                }
            });
        let models = [
            (ProposeModel::Mclp, "最大覆盖 (MCLP)", "Max coverage (MCLP)"),
            (
                ProposeModel::Lscp,
                "最少设施全覆盖 (LSCP)",
                "Fewest sites (LSCP)",
            ),
            (ProposeModel::Pmedian, "总距离最小 (p-median)", "p-median"),
            (
                ProposeModel::Threshold,
                "达到覆盖率的最少设施",
                "Fewest sites to a share",
            ),
            (
                ProposeModel::Sized,
                "规模选择 (预算内服务最多)",
                "Size choice (budget)",
            ),
            (
                ProposeModel::Capacitated,
                "托位缺口 (容量模型)",
                "Places gap (capacitated)",
            ),
        ];
        let model_label = |m: ProposeModel| {
            models
                .iter()
                .find(|x| x.0 == m)
                .map(|x| if en { x.2 } else { x.1 })
                .unwrap_or("")
        };
        egui::ComboBox::from_label(self.t("模型", "Model"))
            .selected_text(model_label(self.siting.model))
            .show_ui(ui, |ui| {
                for (m, zh, e) in models {
                    ui.selectable_value(&mut self.siting.model, m, if en { e } else { zh });
                }
            });
        if self.siting.model == ProposeModel::Capacitated {
            self.siting.kind = FacilityKind::Nursery;
        }
        if self.siting.model == ProposeModel::Sized {
            ui.horizontal(|ui| {
                let l = ui.label(self.t("规模:费用", "Size:cost"));
                ui.text_edit_singleline(&mut self.siting.modules)
                    .labelled_by(l.id);
            });
            ui.horizontal(|ui| {
                let l = ui.label(self.t("预算", "Budget"));
                ui.add(
                    egui::DragValue::new(&mut self.siting.budget)
                        .range(0.0..=1.0e9)
                        .speed(0.1),
                )
                .labelled_by(l.id);
            });
        } else if self.siting.model == ProposeModel::Threshold {
            ui.horizontal(|ui| {
                let l = ui.label(self.t("覆盖率目标 %", "Share to reach %"));
                ui.add(
                    egui::DragValue::new(&mut self.siting.share_pct)
                        .range(1.0..=100.0)
                        .speed(0.1),
                )
                .labelled_by(l.id);
            });
        } else {
            ui.horizontal(|ui| {
                let l = ui.label(self.t("新增数量 p", "New sites p"));
                ui.add(egui::DragValue::new(&mut self.siting.p).range(1..=500))
                    .labelled_by(l.id);
            });
        }
        let exact_label = self.t("精确求解（给出最优性差距）", "Exact (proven gap)");
        ui.checkbox(&mut self.siting.exact, exact_label);
        let busy = self.job.is_some();
        if ui
            .add_enabled(
                !busy && self.data.dataset.is_some(),
                egui::Button::new(self.t("运行选址", "Run proposal")),
            )
            .clicked()
        {
            self.commands.push(Command::Propose);
        }
        self.proposal_results(ui);
    }

    /// A proposal's answer: its objective and proof, before → after of each rule, and one
    /// row per site to accept or reject.
    fn proposal_results(&mut self, ui: &mut egui::Ui) {
        let en = self.lang == Lang::En;
        let Some(r) = &self.siting.result else {
            return;
        };
        let pct = |a: f64| {
            if r.people_total > 0.0 {
                a / r.people_total * 100.0
            } else {
                0.0
            }
        };
        ui.label(format!(
            "{} {:.1}% → {:.1}%",
            if en { "Covered" } else { "覆盖率" },
            pct(r.people_covered_before),
            pct(r.people_covered_after)
        ));
        match r.gap {
            Some(g) => ui.label(format!(
                "{} {:.3}%",
                self.t("最优性差距", "Optimality gap"),
                g * 100.0
            )),
            None => ui.label(self.t("启发式解（未证明）", "Heuristic (no bound)")),
        };
        self.deltas_ui(ui, r);
        let accepted = self
            .siting
            .decisions
            .iter()
            .filter(|d| **d == Some(true))
            .count();
        ui.label(format!(
            "{} {accepted} / {}",
            self.t("已采纳", "Accepted"),
            r.proposals.len()
        ));
        let mut cmds = Vec::new();
        egui::Grid::new("proposals").striped(true).show(ui, |ui| {
            ui.label("#");
            ui.label(if en { "Unit" } else { "所在单元" });
            ui.label(if en { "+people" } else { "新增覆盖" });
            ui.label(if en { "Decision" } else { "决定" });
            ui.end_row();
            for (k, p) in r.proposals.iter().enumerate() {
                ui.label(p.rank.to_string());
                ui.label(&p.unit_name);
                ui.label(match p.places {
                    Some(pl) => format!(
                        "{:.0} ({pl:.0}{})",
                        p.marginal_people,
                        if en { " pl." } else { "托位" }
                    ),
                    None => format!("{:.0}", p.marginal_people),
                });
                ui.horizontal(|ui| {
                    match self.siting.decisions.get(k).copied().flatten() {
                        Some(true) => {
                            ui.label(
                                RichText::new(if en { "accepted" } else { "已采纳" })
                                    .color(Color32::from_rgb(30, 130, 60)),
                            );
                        }
                        Some(false) => {
                            ui.label(
                                RichText::new(if en { "rejected" } else { "已否决" })
                                    .color(Color32::GRAY),
                            );
                        }
                        None => {}
                    }
                    if ui
                        .small_button(if en {
                            format!("Accept {}", p.rank)
                        } else {
                            format!("采纳 {}", p.rank)
                        })
                        .clicked()
                    {
                        cmds.push(Command::Decide(k, true));
                    }
                    if ui
                        .small_button(if en {
                            format!("Reject {}", p.rank)
                        } else {
                            format!("否决 {}", p.rank)
                        })
                        .clicked()
                    {
                        cmds.push(Command::Decide(k, false));
                    }
                });
                ui.end_row();
            }
        });
        self.commands.extend(cmds);
    }

    /// Before → after of each rule about the proposed kind.
    fn deltas_ui(&self, ui: &mut egui::Ui, r: &crate::siting::propose::Proposals) {
        let en = self.lang == Lang::En;
        for d in &r.rules {
            if !d.evaluable() {
                ui.weak(format!(
                    "{}: {}",
                    d.title_in(en),
                    RuleDelta::not_evaluable_text(en)
                ));
                continue;
            }
            let f = |v: Option<f64>| match v {
                Some(v) if d.test == "places_per_1000" => format!("{v:.2}"),
                Some(v) => format!("{:.1}%", v * 100.0),
                None => "–".into(),
            };
            ui.label(format!(
                "{}: {} → {} ({}/{} → {}/{})",
                d.title_in(en),
                f(d.before),
                f(d.after),
                d.units_meeting_before,
                d.units_total,
                d.units_meeting_after,
                d.units_total
            ));
        }
    }

    pub(super) fn gaps_ui(&mut self, ui: &mut egui::Ui) {
        let en = self.lang == Lang::En;
        ui.heading(self.t("缺口清单", "Gaps"));
        let Some(report) = &self.data.report else {
            return;
        };
        // Rows: (unit, rule title, value, deficit).
        let mut rows: Vec<GapRow> = Vec::new();
        for u in &report.units {
            for (rid, st) in &u.rules {
                if st.pass != Some(false) {
                    continue;
                }
                let title = report
                    .rules
                    .iter()
                    .find(|r| &r.id == rid)
                    .map(|r| r.title_in(en).to_owned())
                    .unwrap_or_else(|| rid.clone());
                rows.push((
                    u.id,
                    format!("{} {}", u.name, u.code),
                    title,
                    st.value,
                    st.deficit,
                ));
            }
        }
        let (key, desc) = self.gaps_sort;
        rows.sort_by(|a, b| {
            let o = match key {
                GapSort::Unit => a.1.cmp(&b.1),
                GapSort::Rule => a.2.cmp(&b.2).then(a.1.cmp(&b.1)),
                GapSort::Value => a.3.unwrap_or(0.0).total_cmp(&b.3.unwrap_or(0.0)),
                GapSort::Deficit => a.4.unwrap_or(0.0).total_cmp(&b.4.unwrap_or(0.0)),
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        });
        ui.label(format!(
            "{} {}",
            rows.len(),
            self.t(
                "项未达标（点击单元缩放）",
                "failing unit rules (click a unit to zoom)"
            )
        ));
        let mut cmds = Vec::new();
        let mut sort = self.gaps_sort;
        // Both directions: a long unit name must not widen the whole panel over the map.
        egui::ScrollArea::both()
            .id_salt("gaps")
            .max_height(260.0)
            .max_width(ui.available_width())
            .show(ui, |ui| {
                egui::Grid::new("gaps_grid").striped(true).show(ui, |ui| {
                    for (k, zh, e) in [
                        (GapSort::Unit, "单元", "Unit"),
                        (GapSort::Rule, "规则", "Rule"),
                        (GapSort::Value, "现状", "Value"),
                        (GapSort::Deficit, "缺口", "Gap"),
                    ] {
                        let arrow = if sort.0 == k {
                            if sort.1 {
                                " ↓"
                            } else {
                                " ↑"
                            }
                        } else {
                            ""
                        };
                        if ui
                            .button(format!("{}{arrow}", if en { e } else { zh }))
                            .clicked()
                        {
                            sort = (k, if sort.0 == k { !sort.1 } else { true });
                        }
                    }
                    ui.end_row();
                    for (u, unit, rule, value, deficit) in rows.iter().take(300) {
                        if ui.link(unit).clicked() {
                            cmds.push(Command::ZoomTo(*u));
                        }
                        // Rule titles are sentences: keep the table narrow, full text on hover.
                        let limit = if en { 26 } else { 13 };
                        let short: String = if rule.chars().count() > limit {
                            rule.chars()
                                .take(limit)
                                .chain(std::iter::once('…'))
                                .collect()
                        } else {
                            rule.clone()
                        };
                        ui.label(short).on_hover_text(rule);
                        ui.label(value.map(|v| format!("{v:.2}")).unwrap_or_default());
                        ui.label(deficit.map(|v| format!("{v:.0}")).unwrap_or_default());
                        ui.end_row();
                    }
                });
            });
        self.gaps_sort = sort;
        self.commands.extend(cmds);
    }
}

/// "80:1,150:1.6" → sizes and costs; `None` when any entry is not size:cost numbers.
fn parse_modules(s: &str) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut sizes = Vec::new();
    let mut costs = Vec::new();
    for part in s.split(',') {
        let (a, b) = part.split_once(':')?;
        sizes.push(a.trim().parse().ok()?);
        costs.push(b.trim().parse().ok()?);
    }
    Some((sizes, costs))
}
