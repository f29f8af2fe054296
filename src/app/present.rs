//! Presentation mode (F5 / 演示): full screen, large type, slides built from the current
//! analysis — a summary, one per evaluated rule (its map live below: pan, zoom, click a
//! unit), the before → after of the proposals — stepped with the arrow keys or a clicker
//! (PageUp/PageDown), left with Esc. The same sequence exports as the PDF report.

use super::*;
use crate::coverage::analysis::Status;

/// One slide.
#[derive(Clone, Debug, PartialEq)]
pub enum Slide {
    /// Every rule's verdict, in large type.
    Summary,
    /// One rule: the map coloured by it, its verdict and clause.
    Rule(String),
    /// The proposals' before → after.
    Proposals,
}

/// Presentation state: the slide shown and the map rule to restore on exit.
pub struct Presenting {
    pub slide: usize,
    pub saved_rule: Option<String>,
}

/// Type sizes on a slide.
const TITLE: f32 = 34.0;
const LINE: f32 = 22.0;

impl CareCircleApp {
    /// The slides of the current analysis.
    pub(super) fn slides(&self) -> Vec<Slide> {
        let mut v = vec![Slide::Summary];
        if let Some(r) = &self.data.report {
            v.extend(
                r.rules
                    .iter()
                    .filter(|x| x.status != Status::NotEvaluable)
                    .map(|x| Slide::Rule(x.id.clone())),
            );
        }
        if self.siting.result.is_some() {
            v.push(Slide::Proposals);
        }
        v
    }

    /// Enters (from the first slide) or leaves presentation mode, full screen while in it.
    pub(super) fn set_presenting(&mut self, ctx: &egui::Context, on: bool) {
        match (on, &self.present) {
            (true, None) if self.data.report.is_some() => {
                self.present = Some(Presenting {
                    slide: 0,
                    saved_rule: self.map_rule.clone(),
                });
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
            }
            (false, Some(_)) => {
                if let Some(p) = self.present.take() {
                    self.map_rule = p.saved_rule;
                }
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
            }
            _ => {}
        }
    }

    /// Steps `by` slides (clamped), colouring the map by the slide's rule.
    pub(super) fn step_slide(&mut self, by: i32) {
        let n = self.slides().len();
        if let Some(p) = &mut self.present {
            p.slide = (p.slide as i64 + by as i64).clamp(0, n as i64 - 1) as usize;
        }
        if let Some(Slide::Rule(id)) = self.current_slide() {
            self.map_rule = Some(id);
        }
    }

    pub(super) fn current_slide(&self) -> Option<Slide> {
        let p = self.present.as_ref()?;
        self.slides().get(p.slide).cloned()
    }

    /// The keys a presenter uses: F5 enters; while presenting Esc leaves and the arrows,
    /// PageUp/PageDown (clickers) and Space step.
    pub(super) fn presentation_keys(&mut self, ctx: &egui::Context) {
        let (f5, esc, next, prev) = ctx.input(|i| {
            (
                i.key_pressed(egui::Key::F5),
                i.key_pressed(egui::Key::Escape),
                i.key_pressed(egui::Key::ArrowRight)
                    || i.key_pressed(egui::Key::PageDown)
                    || i.key_pressed(egui::Key::Space),
                i.key_pressed(egui::Key::ArrowLeft) || i.key_pressed(egui::Key::PageUp),
            )
        });
        if self.present.is_none() {
            if f5 {
                self.commands.push(Command::Present(true));
            }
            return;
        }
        if esc {
            self.commands.push(Command::Present(false));
        } else if next {
            self.commands.push(Command::SlideBy(1));
        } else if prev {
            self.commands.push(Command::SlideBy(-1));
        }
    }

    /// The slide's words above the map (or in place of it for the summary).
    pub(super) fn slide_ui(&mut self, ui: &mut egui::Ui) {
        let Some(slide) = self.current_slide() else {
            return;
        };
        let Some(r) = &self.data.report else { return };
        let en = self.lang == Lang::En;
        let n = self.slides().len();
        let k = self.present.as_ref().map(|p| p.slide).unwrap_or(0);
        let big = |s: &str, size: f32| egui::RichText::new(s.to_owned()).size(size);
        let status_color = |s: Status| match s {
            Status::Pass => Color32::from_rgb(46, 125, 50),
            Status::Fail => Color32::from_rgb(198, 40, 40),
            Status::Unknown => Color32::from_rgb(178, 106, 0),
            Status::NotEvaluable => Color32::GRAY,
        };
        let st = |s: Status| if en { s.en() } else { s.zh() };
        match &slide {
            Slide::Summary => {
                ui.label(big(
                    &format!(
                        "{} · {}",
                        self.data
                            .dataset
                            .as_ref()
                            .map(|d| d.name.clone())
                            .unwrap_or_default(),
                        self.t("达标情况", "Targets")
                    ),
                    TITLE,
                ));
                ui.label(big(&r.preset_citation, LINE * 0.8));
                ui.add_space(10.0);
                egui::Grid::new("present_summary")
                    .striped(true)
                    .spacing([24.0, 8.0])
                    .show(ui, |ui| {
                        for x in r.rules.iter().filter(|x| x.status != Status::NotEvaluable) {
                            ui.label(big(x.title_in(en), LINE));
                            ui.label(big(st(x.status), LINE).color(status_color(x.status)));
                            ui.label(big(&x.value_with_range(en), LINE));
                            ui.end_row();
                        }
                    });
            }
            Slide::Rule(id) => {
                if let Some(x) = r.rules.iter().find(|x| &x.id == id) {
                    ui.label(big(x.title_in(en), TITLE));
                    ui.label(
                        big(
                            &format!(
                                "{} · {} {} · {} {}",
                                st(x.status),
                                self.t("实际", "value"),
                                x.value_with_range(en),
                                self.t("目标", "target"),
                                x.value_text(x.target, en)
                            ),
                            LINE,
                        )
                        .color(status_color(x.status)),
                    );
                    ui.label(big(&x.citation.cite(), LINE * 0.7));
                }
            }
            Slide::Proposals => {
                if let Some(p) = &self.siting.result {
                    ui.label(big(
                        self.t("选址方案：方案前 → 方案后", "Proposals: before → after"),
                        TITLE,
                    ));
                    ui.label(big(&crate::report::pdf::gap_words(p, en), LINE));
                    for d in p.rules.iter().filter(|d| d.evaluable()) {
                        let f = |v: Option<f64>| match v {
                            Some(v) if d.test == "places_per_1000" => format!("{v:.2}"),
                            Some(v) => format!("{:.1}%", v * 100.0),
                            None => "–".into(),
                        };
                        ui.label(big(
                            &format!("{}: {} → {}", d.title_in(en), f(d.before), f(d.after)),
                            LINE,
                        ));
                    }
                }
            }
        }
        ui.horizontal(|ui| {
            ui.label(big(&format!("{} / {n}", k + 1), LINE * 0.7));
            ui.label(
                big(
                    self.t("← → 翻页 · Esc 退出", "← → step · Esc to leave"),
                    LINE * 0.6,
                )
                .color(Color32::GRAY),
            );
            if ui.button(self.t("上一页", "Previous")).clicked() {
                self.commands.push(Command::SlideBy(-1));
            }
            if ui.button(self.t("下一页", "Next")).clicked() {
                self.commands.push(Command::SlideBy(1));
            }
            if ui.button(self.t("导出汇报 PDF", "Export as PDF")).clicked() {
                self.commands
                    .push(Command::OpenDialog(Purpose::Export(ExportKind::ReportPdf)));
            }
            if ui.button(self.t("退出演示", "Leave")).clicked() {
                self.commands.push(Command::Present(false));
            }
        });
    }
}
