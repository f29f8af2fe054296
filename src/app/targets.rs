//! The Targets dashboard: every rule with scope, status (unknown with its range),
//! deadline and citation; rules not evaluated and plan targets not checked.

use super::*;

impl CareCircleApp {
    pub(super) fn dashboard_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("达标情况", "Targets"));
        let Some(r) = &self.data.report else {
            ui.label(self.t("尚未分析", "Not analysed yet"));
            return;
        };
        let en = self.lang == Lang::En;
        ui.label(format!(
            "{} · {}",
            r.preset,
            crate::report::map::mode_label(r.mode, en)
        ));
        let mut map_rule = self.map_rule.clone();
        let shows = ui.label(self.t("地图显示", "Map shows"));
        egui::ComboBox::from_id_salt("map_rule")
            .selected_text(
                match map_rule
                    .as_ref()
                    .and_then(|id| r.rules.iter().find(|x| &x.id == id))
                {
                    Some(x) => x.title_in(en).to_owned(),
                    None => self.t("全部规则", "All rules").to_owned(),
                },
            )
            .width(280.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut map_rule, None, self.t("全部规则", "All rules"));
                for x in r
                    .rules
                    .iter()
                    .filter(|x| x.status != crate::coverage::analysis::Status::NotEvaluable)
                {
                    ui.selectable_value(&mut map_rule, Some(x.id.clone()), x.title_in(en));
                }
            })
            .response
            .labelled_by(shows.id);
        use crate::coverage::analysis::Status;
        let skipped: Vec<_> = r
            .rules
            .iter()
            .filter(|x| x.status == Status::NotEvaluable)
            .collect();
        if let Some(y) = r.year {
            ui.label(format!(
                "{} {y}{}",
                self.t("情景年份", "Scenario year"),
                self.t(
                    "：现有设施 + 当年及以前完成的规划项目",
                    ": existing + planned projects done by then"
                )
            ));
        }
        ui.small(r.preset_citation.as_str());
        for rule in r.rules.iter().filter(|x| x.status != Status::NotEvaluable) {
            self.rule_card(ui, rule);
        }
        if !skipped.is_empty() {
            ui.collapsing(
                format!(
                    "{} ({})",
                    self.t("无法评估的规则", "Rules not evaluated"),
                    skipped.len()
                ),
                |ui| {
                    for x in &skipped {
                        ui.label(x.title_in(en));
                        if let Some(e) = if en { &x.explain_en } else { &x.explain_zh } {
                            ui.small(e.as_str());
                        }
                        for n in &x.notes {
                            ui.small(n);
                        }
                    }
                },
            );
        }
        if !r.not_checked.is_empty() {
            ui.collapsing(
                format!(
                    "{} ({})",
                    self.t("未检查的规划目标", "Plan targets not checked"),
                    r.not_checked.len()
                ),
                |ui| {
                    for n in &r.not_checked {
                        ui.label(if en { &n.title_en } else { &n.title_zh });
                        ui.small(format!("{} — {}", n.citation.cite(), n.reason));
                    }
                },
            );
        }
        if r.summary.synthetic_facilities > 0 {
            ui.colored_label(
                Color32::from_rgb(180, 90, 0),
                format!(
                    "{} {}",
                    r.summary.synthetic_facilities,
                    self.t("处设施为模拟数据", "facilities are synthetic")
                ),
            );
        }
        self.circle_by_district(ui, r);
        let cmds = self.equity_ui(ui, r);
        self.commands.extend(cmds);
        self.map_rule = map_rule;
    }

    /// One rule's card: verdict and value against target, scope and units, deadline, why it
    /// is unknown, population base, area, distance, and the citation (quote on hover).
    fn rule_card(&self, ui: &mut egui::Ui, rule: &crate::coverage::RuleResult) {
        use crate::coverage::analysis::Status;
        let en = self.lang == Lang::En;
        let (bg, verdict) = match rule.status {
            Status::Pass => (Color32::from_rgb(220, 240, 225), self.t("达标", "PASS")),
            Status::Fail => (Color32::from_rgb(250, 222, 218), self.t("未达标", "FAIL")),
            Status::Unknown => (Color32::from_rgb(246, 238, 200), self.t("未知", "UNKNOWN")),
            Status::NotEvaluable => (Color32::from_rgb(235, 235, 235), self.t("无法评估", "n/a")),
        };
        egui::Frame::new()
            .fill(bg)
            .inner_margin(6.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(egui::RichText::new(rule.title_in(en)).strong());
                let fmt = |v: f64| rule.value_text(v, en);
                let value = rule.value_with_range(en);
                let target = match (rule.test, rule.scope) {
                    ("presence", crate::coverage::rules::Scope::PerUnit) => {
                        format!("≥{} {}", rule.target, self.t("每单元", "each unit"))
                    }
                    _ => fmt(rule.target),
                };
                ui.label(format!(
                    "{verdict} · {}: {value}  {}: {target}{}",
                    self.t("实际", "value"),
                    self.t("目标", "target"),
                    if rule.target_user_set {
                        self.t(
                            "（用户设定，规划未给数值）",
                            " (user setting; the plan gives no figure)",
                        )
                    } else {
                        ""
                    },
                ));
                ui.small(format!(
                    "{}: {}{}{}",
                    self.t("范围", "scope"),
                    if en { rule.scope.en() } else { rule.scope.zh() },
                    if matches!(
                        rule.scope,
                        crate::coverage::rules::Scope::PerUnit
                            | crate::coverage::rules::Scope::Share
                    ) {
                        format!(
                            " ({}/{}{})",
                            rule.units_meeting,
                            rule.units_total,
                            if rule.units_unknown > 0 {
                                format!(", {} {}", rule.units_unknown, self.t("个未知", "unknown"))
                            } else {
                                String::new()
                            }
                        )
                    } else {
                        String::new()
                    },
                    match (rule.deadline, rule.due) {
                        (Some(d), Some(false)) => format!(
                            " · {} {d}{}",
                            self.t("期限", "due"),
                            self.t("（尚未到期）", " (not yet due)")
                        ),
                        (Some(d), _) => format!(" · {} {d}", self.t("期限", "due")),
                        _ => String::new(),
                    }
                ));
                if let Some(e) = if en {
                    &rule.explain_en
                } else {
                    &rule.explain_zh
                } {
                    ui.small(e.as_str());
                }
                if let Some(b) = &rule.base {
                    ui.small(format!("{}: {b}", self.t("人口基数", "base")));
                }
                if let Some(a) = &rule.area {
                    ui.small(a.as_str());
                }
                if let Some(d) = &rule.distance {
                    ui.small(d);
                }
                if let Some(o) = rule.people_overclaimed {
                    ui.small(format!(
                        "{}: {o:.0}",
                        self.t("直线距离多算人数", "over-claimed by straight line")
                    ));
                }
                ui.small(format!(
                    "{} {}{}",
                    self.t("依据", "Source"),
                    rule.citation.cite(),
                    if rule.convention {
                        self.t("（规划惯例）", " (planning convention)")
                    } else {
                        ""
                    }
                ))
                .on_hover_text(&rule.citation.quote);
            });
        ui.add_space(3.0);
    }

    /// The elderly circle's share per county-level unit, as bars.
    fn circle_by_district(&self, ui: &mut egui::Ui, r: &crate::coverage::Report) {
        use crate::coverage::analysis::Status;
        let en = self.lang == Lang::En;
        // By district: the elderly circle share per county-level unit.
        // The elderly circle first (the plans' headline), else any reach rule with a figure.
        let reach = |x: &&crate::coverage::RuleResult| {
            x.test == "population_within" && x.status != Status::NotEvaluable
        };
        let elderly = r
            .rules
            .iter()
            .filter(reach)
            .find(|x| x.group == Some(crate::coverage::rules::AgeGroup::Aged60plus));
        if let Some(rule) = elderly.or_else(|| r.rules.iter().find(reach)) {
            ui.separator();
            ui.label(
                egui::RichText::new(format!(
                    "{} · {}",
                    rule.title_in(en),
                    self.t("按区县", "by district")
                ))
                .strong(),
            );
            for u in r.units.iter().filter(|u| u.level.tier() == 1) {
                if let Some(v) = u.rules.get(&rule.id).and_then(|s| s.value) {
                    let ok = v + 1e-12 >= rule.target;
                    ui.horizontal(|ui| {
                        ui.label(format!("{:<6}", u.name));
                        ui.add(
                            egui::ProgressBar::new(v as f32)
                                .desired_width(140.0)
                                .fill(if ok {
                                    Color32::from_rgb(46, 158, 79)
                                } else {
                                    Color32::from_rgb(212, 61, 47)
                                })
                                .text(format!("{:.1}%", v * 100.0)),
                        );
                    });
                }
            }
        }
    }
}
