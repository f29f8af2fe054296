//! The dashboard's equity section: how evenly the map's rule is met across units — the
//! Lorenz curve, Gini and Palma, and the worst-served units to zoom to.

use super::*;
use crate::coverage::analysis::RuleEquity;

/// Side of the Lorenz chart, points.
const CHART: f32 = 180.0;
/// Worst-served units listed.
const WORST: usize = 8;

impl CareCircleApp {
    /// Returns the commands its buttons sent (the report is borrowed from the state).
    pub(super) fn equity_ui(&self, ui: &mut egui::Ui, r: &crate::coverage::Report) -> Vec<Command> {
        // The map's rule when it has a figure, else the first rule that does.
        let Some(e) = self
            .map_rule
            .as_ref()
            .and_then(|id| r.equity.iter().find(|e| &e.rule == id))
            .or_else(|| r.equity.first())
        else {
            return Vec::new();
        };
        let en = self.lang == Lang::En;
        ui.separator();
        let title = r
            .rules
            .iter()
            .find(|x| x.id == e.rule)
            .map(|x| x.title_in(en).to_owned())
            .unwrap_or_else(|| self.t("托育 2SFCA 可达性", "Nursery 2SFCA").to_owned());
        ui.label(egui::RichText::new(format!("{} · {title}", self.t("公平性", "Equity"))).strong());
        ui.label(format!(
            "Gini {:.3} · Palma {} · {} {} {}",
            e.equity.gini,
            e.equity
                .palma
                .map(|p| format!("{p:.2}"))
                .unwrap_or_else(|| self.t("无上限", "unbounded").to_owned()),
            self.t("最差 10% 单元人口占", "worst tenth of units hold"),
            pct_text(e.equity.worst_decile_people_share),
            self.t("", "of the people"),
        ));
        if e.units_unknown_left_out > 0 {
            ui.small(format!(
                "{} {} {}",
                e.units_unknown_left_out,
                self.t(
                    "个单元结论未知，未计入",
                    "units with an unknown verdict left out"
                ),
                ""
            ));
        }
        lorenz_chart(ui, e, en);
        self.worst_units(ui, r, e)
    }

    /// The units furthest behind on the rule, lowest value first, each a button that zooms
    /// the map to it.
    fn worst_units(
        &self,
        ui: &mut egui::Ui,
        r: &crate::coverage::Report,
        e: &RuleEquity,
    ) -> Vec<Command> {
        let mut cmds = Vec::new();
        let level = e.level.as_str();
        let mut rows: Vec<(&crate::coverage::UnitResult, f64)> = r
            .units
            .iter()
            .filter(|u| u.level.key() == level)
            .filter_map(|u| {
                let v = if e.rule == "nursery_2sfca" {
                    u.nursery_2sfca_per_1000
                } else {
                    u.rules.get(&e.rule).and_then(|s| s.value)
                };
                Some((u, v?))
            })
            .collect();
        rows.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.code.cmp(&b.0.code)));
        // A unit's value reads as the report prints it (a count, per 1000, a share); 2SFCA
        // is places per 1000.
        let en = self.lang == Lang::En;
        let test = r
            .rules
            .iter()
            .find(|x| x.id == e.rule)
            .map_or("places_per_1000", |x| x.test);
        ui.label(self.t(
            "最落后的单元（点击定位）",
            "Furthest behind (click to zoom)",
        ));
        egui::Grid::new("equity_worst")
            .striped(true)
            .show(ui, |ui| {
                for (k, (u, v)) in rows.iter().take(WORST).enumerate() {
                    if ui
                        .small_button(format!("{}. {} {}", k + 1, u.name, u.code))
                        .clicked()
                    {
                        cmds.push(Command::ZoomTo(u.id));
                        cmds.push(Command::Inspect(u.id));
                    }
                    ui.label(crate::report::scenarios::unit_value_text(
                        test,
                        Some(*v),
                        en,
                    ));
                    ui.end_row();
                }
            });
        cmds
    }
}

fn pct_text(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The Lorenz curve over the diagonal of equality, in a square.
fn lorenz_chart(ui: &mut egui::Ui, e: &RuleEquity, en: bool) {
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(CHART, CHART), egui::Sense::hover());
    let p = ui.painter_at(rect);
    let at = |x: f64, y: f64| {
        egui::pos2(
            rect.left() + x as f32 * rect.width(),
            rect.bottom() - y as f32 * rect.height(),
        )
    };
    p.rect_stroke(
        rect,
        0.0,
        egui::Stroke::new(1.0, Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    p.line_segment(
        [at(0.0, 0.0), at(1.0, 1.0)],
        egui::Stroke::new(1.0, Color32::from_gray(150)),
    );
    let pts: Vec<egui::Pos2> = e.equity.lorenz.iter().map(|(x, y)| at(*x, *y)).collect();
    p.add(egui::Shape::line(
        pts,
        egui::Stroke::new(2.0, Color32::from_rgb(200, 80, 40)),
    ));
    let font = egui::FontId::proportional(11.0);
    p.text(
        at(0.02, 0.98),
        egui::Align2::LEFT_TOP,
        if en {
            "share of value"
        } else {
            "指标累计占比"
        },
        font.clone(),
        Color32::GRAY,
    );
    p.text(
        at(0.98, 0.02),
        egui::Align2::RIGHT_BOTTOM,
        if en {
            "share of people →"
        } else {
            "人口累计占比 →"
        },
        font,
        Color32::GRAY,
    );
    resp.on_hover_text(if en {
        "Lorenz curve: units from worst to best served. The further below the diagonal, the less even."
    } else {
        "洛伦兹曲线：单元按服务水平由低到高排列；曲线离对角线越远，分布越不均衡。"
    });
}
