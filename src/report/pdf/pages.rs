//! The report's pages as SVG, laid out in points (1/72 inch) on A4 or A3 portrait, with the
//! maps of `report::map` placed into them.

use std::fmt::Write as _;

use super::PdfOptions;
use crate::coverage::analysis::Status;
use crate::coverage::rules::AgeGroup;
use crate::coverage::{Report, RuleResult};
use crate::model::Dataset;
use crate::report::map::svg::{esc, wrap};
use crate::report::map::{analysis_titles, map_svg, mode_label, MapSpec, FONT_FAMILY};
use crate::report::scenarios::unit_value_text;
use crate::siting::propose::Proposals;
use crate::{Error, Result};

/// Paper sizes, portrait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    A4,
    A3,
}

impl Paper {
    pub fn parse(s: &str) -> Option<Paper> {
        match s.to_ascii_uppercase().as_str() {
            "A4" => Some(Paper::A4),
            "A3" => Some(Paper::A3),
            _ => None,
        }
    }
    /// Width and height in points.
    pub fn size(self) -> (f64, f64) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::A3 => (841.89, 1190.55),
        }
    }
}

/// One page: its SVG, and maps (SVG, [x, y, width, height] in points) placed on it.
#[derive(Clone, Debug)]
pub struct Page {
    pub svg: String,
    pub maps: Vec<(String, [f64; 4])>,
    /// Width and height in points.
    pub size: (f64, f64),
}

/// Margin, points (2 cm).
const MARGIN: f64 = 56.7;
const INK: &str = "#1a1a1a";
const GREY: &str = "#666666";

/// A page being written: text runs from the top down.
struct Sheet {
    w: f64,
    h: f64,
    body: String,
    maps: Vec<(String, [f64; 4])>,
    y: f64,
    /// "第 3 页" / "page 3", and the report's footer line.
    footer: String,
}

impl Sheet {
    fn new(paper: Paper, footer: &str) -> Sheet {
        let (w, h) = paper.size();
        Sheet {
            w,
            h,
            body: String::new(),
            maps: Vec::new(),
            y: MARGIN,
            footer: footer.to_owned(),
        }
    }
    fn inner(&self) -> f64 {
        self.w - 2.0 * MARGIN
    }
    fn room(&self) -> f64 {
        self.h - MARGIN - 20.0 - self.y
    }
    fn text_at(&mut self, x: f64, y: f64, size: f64, fill: &str, bold: bool, s: &str) {
        let _ = write!(
            self.body,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" fill=\"{fill}\"{}>{}</text>",
            if bold { " font-weight=\"bold\"" } else { "" },
            esc(s)
        );
    }
    /// A paragraph at the margin, wrapped to the text width; moves down past it.
    fn para(&mut self, size: f64, fill: &str, bold: bool, s: &str) {
        let width = self.inner();
        for line in wrap(s, size, width) {
            self.y += size * 1.35;
            let y = self.y;
            self.text_at(MARGIN, y, size, fill, bold, &line);
        }
        self.y += size * 0.4;
    }
    fn gap(&mut self, pts: f64) {
        self.y += pts;
    }
    fn rule_line(&mut self) {
        self.y += 6.0;
        let _ = write!(
            self.body,
            "<line x1=\"{MARGIN}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"#999999\" stroke-width=\"0.6\"/>",
            y = self.y,
            x2 = self.w - MARGIN
        );
        self.y += 6.0;
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = write!(
            self.body,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"/>"
        );
    }
    fn finish(self, number: usize) -> Page {
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_FAMILY}\"><rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>",
            w = self.w,
            h = self.h
        );
        svg.push_str(&self.body);
        let _ = write!(
            svg,
            "<text x=\"{MARGIN}\" y=\"{y:.1}\" font-size=\"8\" fill=\"{GREY}\">{}</text><text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"8\" fill=\"{GREY}\" text-anchor=\"end\">{number}</text></svg>",
            // One line, clear of the page number.
            esc(&wrap(&self.footer, 8.0, self.w - 2.0 * MARGIN - 30.0)[0]),
            y = self.h - MARGIN / 2.0,
            x = self.w - MARGIN
        );
        Page {
            svg,
            maps: self.maps,
            size: (self.w, self.h),
        }
    }
}

/// A table: column widths (fractions of the text width), header and rows, wrapped cells,
/// starting a new sheet when the page is full.
fn table(
    sheets: &mut Vec<Sheet>,
    paper: Paper,
    footer: &str,
    cols: &[f64],
    head: &[&str],
    rows: &[Vec<(String, Option<&'static str>)>],
    size: f64,
) {
    let line = size * 1.3;
    let draw_head = |sh: &mut Sheet| {
        let width = sh.inner();
        let y = sh.y;
        sh.rect(MARGIN, y, width, line + 4.0, "#e8edf3");
        let mut x = MARGIN + 3.0;
        for (c, h) in cols.iter().zip(head) {
            sh.text_at(x, y + line, size, INK, true, h);
            x += c * width;
        }
        sh.y += line + 6.0;
    };
    draw_head(sheets.last_mut().expect("a sheet"));
    for (k, row) in rows.iter().enumerate() {
        let sh = sheets.last_mut().expect("a sheet");
        let width = sh.inner();
        let cells: Vec<Vec<String>> = cols
            .iter()
            .zip(row)
            .map(|(c, (t, _))| wrap(t, size, c * width - 6.0))
            .collect();
        let n = cells.iter().map(|c| c.len()).max().unwrap_or(1);
        let hgt = n as f64 * line + 4.0;
        if sh.room() < hgt {
            sheets.push(Sheet::new(paper, footer));
            draw_head(sheets.last_mut().expect("pushed"));
        }
        let sh = sheets.last_mut().expect("a sheet");
        let y0 = sh.y;
        if k % 2 == 1 {
            sh.rect(MARGIN, y0 - 2.0, width, hgt, "#f6f6f6");
        }
        let mut x = MARGIN + 3.0;
        for ((c, lines), (_, colour)) in cols.iter().zip(&cells).zip(row) {
            for (i, l) in lines.iter().enumerate() {
                sh.text_at(
                    x,
                    y0 + line * (i as f64 + 0.85),
                    size,
                    colour.unwrap_or(INK),
                    false,
                    l,
                );
            }
            x += c * width;
        }
        sh.y += hgt;
    }
}

/// One bar of a chart: a label, the value (and a value before, drawn thinner underneath),
/// the target the line marks, and the value in words.
struct Bar {
    label: String,
    before: Option<f64>,
    value: f64,
    target: f64,
    text: String,
    /// The verdict's colour (an unknown value is a lower bound, not a failure); `None`:
    /// green at or past the target, red short of it.
    colour: Option<&'static str>,
}

/// Horizontal bars against a target line, each on the scale of its own rule (so 4.5 per
/// 1000 and 100 % sit side by side): the line is the target, the bar the value.
fn bar_chart(sheets: &mut Vec<Sheet>, paper: Paper, footer: &str, title: &str, bars: &[Bar]) {
    if bars.is_empty() {
        return;
    }
    let row = 26.0;
    if sheets.last().expect("a sheet").room() < 40.0 + row * 2.0 {
        sheets.push(Sheet::new(paper, footer));
    }
    let sh = sheets.last_mut().expect("a sheet");
    sh.gap(10.0);
    sh.para(10.5, INK, true, title);
    for b in bars {
        if sheets.last().expect("a sheet").room() < row {
            sheets.push(Sheet::new(paper, footer));
        }
        let sh = sheets.last_mut().expect("a sheet");
        let label_w = sh.inner() * 0.42;
        let chart_w = sh.inner() * 0.4;
        let x0 = MARGIN + label_w;
        let full = b.target.max(b.value).max(b.before.unwrap_or(0.0)).max(1e-9) * 1.1;
        let y = sh.y + 4.0;
        let label = wrap(&b.label, 8.0, label_w - 6.0)
            .into_iter()
            .next()
            .unwrap_or_default();
        sh.text_at(MARGIN, y + 9.0, 8.0, INK, false, &label);
        sh.rect(x0, y, chart_w, 12.0, "#f0f0f0");
        if let Some(bf) = b.before {
            sh.rect(x0, y + 8.0, (bf / full * chart_w).max(0.5), 4.0, "#9e9e9e");
        }
        let colour = b.colour.unwrap_or(if b.value + 1e-9 >= b.target {
            "#2e7d32"
        } else {
            "#c62828"
        });
        sh.rect(x0, y, (b.value / full * chart_w).max(0.5), 8.0, colour);
        let tx = x0 + b.target / full * chart_w;
        let _ = write!(
            sh.body,
            "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#000000\" stroke-width=\"1.2\"/>",
            y - 3.0,
            y + 15.0
        );
        sh.text_at(x0 + chart_w + 6.0, y + 9.0, 8.0, INK, false, &b.text);
        sh.y = y + row - 4.0;
    }
}

fn status_colour(s: Status) -> &'static str {
    match s {
        Status::Pass => "#2e7d32",
        Status::Fail => "#c62828",
        Status::Unknown => "#b26a00",
        Status::NotEvaluable => "#666666",
    }
}

/// Proposals must be of this data: every proposal's unit must be one of its units.
pub(super) fn check_proposals(ds: &Dataset, p: &Proposals) -> Result<()> {
    let codes: std::collections::HashSet<&str> = ds.units.iter().map(|u| u.code.as_str()).collect();
    if let Some(x) = p
        .proposals
        .iter()
        .find(|x| !x.unit_code.is_empty() && !codes.contains(x.unit_code.as_str()))
    {
        return Err(Error::input(
            format!(
                "--proposals: site {} lies in unit {}, which {} does not have: the proposals are of another dataset ({})",
                x.candidate_id, x.unit_code, ds.name, p.dataset
            ),
            format!(
                "--proposals：选址 {} 所在单元 {} 不在 {} 中：这些选址来自另一数据集（{}）",
                x.candidate_id, x.unit_code, ds.name, p.dataset
            ),
        ));
    }
    Ok(())
}

/// Every page of the report.
pub(super) fn build(
    ds: &Dataset,
    report: &Report,
    proposals: Option<&Proposals>,
    opts: &PdfOptions,
) -> Vec<Page> {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let footer = format!(
        "{} · {} · {}",
        t("CareCircle 体检报告", "CareCircle check-up"),
        ds.name,
        report.preset_citation
    );
    let mut sheets: Vec<Sheet> = Vec::new();
    sheets.push(cover(ds, report, opts, &footer));
    summary(&mut sheets, report, opts, &footer);
    for r in report
        .rules
        .iter()
        .filter(|r| r.status != Status::NotEvaluable)
    {
        sheets.push(rule_page(ds, report, r, opts, &footer));
    }
    if let Some(s) = circle_page(report, opts, &footer) {
        sheets.push(s);
    }
    if let Some(p) = proposals {
        proposal_pages(&mut sheets, p, opts, &footer);
    }
    notes(&mut sheets, ds, report, opts, &footer);
    sheets
        .into_iter()
        .enumerate()
        .map(|(k, s)| s.finish(k + 1))
        .collect()
}

fn cover(ds: &Dataset, report: &Report, opts: &PdfOptions, footer: &str) -> Sheet {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut s = Sheet::new(opts.paper, footer);
    s.gap(s.h * 0.18);
    s.para(26.0, INK, true, &ds.name);
    s.para(
        20.0,
        INK,
        false,
        t(
            "一老一小设施体检报告",
            "Elderly-care and childcare facilities: check-up report",
        ),
    );
    s.rule_line();
    s.para(
        12.0,
        INK,
        false,
        &format!("{}：{}", t("规划依据", "Plan"), report.preset_citation),
    );
    s.para(11.0, GREY, false, &report.preset_title);
    // The elderly circle's walk (the plans' headline), else any distance a rule uses.
    let walk = report
        .rules
        .iter()
        .filter(|r| r.group == Some(AgeGroup::Aged60plus))
        .chain(report.rules.iter())
        .find_map(|r| r.distance.clone())
        .unwrap_or_default();
    s.para(
        12.0,
        INK,
        false,
        &format!(
            "{}：{}{}",
            t("距离口径", "Distance"),
            mode_label(report.mode, en),
            if walk.is_empty() {
                String::new()
            } else {
                format!(" · {walk}")
            }
        ),
    );
    s.para(
        12.0,
        INK,
        false,
        &match report.year {
            Some(y) => format!(
                "{}：{y}（{}）",
                t("情景年份", "Scenario year"),
                t(
                    "现有设施 + 当年及以前完成的规划项目",
                    "existing + planned projects done by then"
                )
            ),
            None => format!(
                "{}：{}",
                t("计入设施", "Facilities counted"),
                report
                    .statuses_counted
                    .iter()
                    .map(|s| s.key())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    );
    s.para(
        12.0,
        INK,
        false,
        &format!("{}：{}", t("报告日期", "Date"), opts.date),
    );
    s.gap(12.0);
    s.para(11.0, INK, true, t("数据来源", "Data sources"));
    for l in &ds.layers {
        s.para(
            9.5,
            GREY,
            false,
            &format!(
                "{} · {} · {} {}",
                l.name,
                l.role.key(),
                l.features_loaded,
                t("要素", "features")
            ),
        );
    }
    for a in &ds.attribution {
        s.para(9.5, GREY, false, a);
    }
    s
}

/// The table a meeting reads first: every rule, its verdict, value vs target, due, clause.
fn summary(sheets: &mut Vec<Sheet>, report: &Report, opts: &PdfOptions, footer: &str) {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut s = Sheet::new(opts.paper, footer);
    s.para(18.0, INK, true, t("达标情况总表", "Targets at a glance"));
    s.para(
        9.5,
        GREY,
        false,
        t(
            "结论：达标 / 未达标 / 未知（数据不足以判断，给出范围）/ 无法评估（数据中无适用对象）。",
            "Verdicts: pass / fail / unknown (the data cannot decide; its range is given) / not evaluable (nothing in the data it applies to).",
        ),
    );
    sheets.push(s);
    let rows: Vec<Vec<(String, Option<&'static str>)>> = report
        .rules
        .iter()
        .map(|r| {
            let target = target_text(r, en);
            vec![
                (r.title_in(en).to_owned(), None),
                (
                    if en {
                        r.status.en().to_owned()
                    } else {
                        r.status.zh().to_owned()
                    },
                    Some(status_colour(r.status)),
                ),
                (r.value_with_range(en), None),
                (target, None),
                (
                    r.deadline.map(|d| d.to_string()).unwrap_or("–".into()),
                    None,
                ),
                (short_cite(report, r), Some(GREY)),
            ]
        })
        .collect();
    table(
        sheets,
        opts.paper,
        footer,
        &[0.32, 0.09, 0.14, 0.12, 0.07, 0.26],
        &[
            t("规则", "Rule"),
            t("结论", "Result"),
            t("实际", "Value"),
            t("目标", "Target"),
            t("期限", "Due"),
            t("依据", "Clause"),
        ],
        &rows,
        8.5,
    );
    let bars: Vec<Bar> = report
        .rules
        .iter()
        .filter(|r| r.status != Status::NotEvaluable && r.test != "presence")
        .filter_map(|r| {
            Some(Bar {
                label: r.title_in(en).to_owned(),
                before: None,
                value: r.value?,
                target: r.target,
                text: format!("{} / {}", r.value_with_range(en), target_text(r, en)),
                colour: Some(status_colour(r.status)),
            })
        })
        .collect();
    bar_chart(
        sheets,
        opts.paper,
        footer,
        t(
            "实际与目标（竖线为目标）",
            "Value against target (the line is the target)",
        ),
        &bars,
    );
}

/// A rule's target as the printed table gives it ("≥1 每单元", "4.50/千人", "100.0%").
fn target_text(r: &RuleResult, en: bool) -> String {
    match r.test {
        "presence" if r.scope == crate::coverage::rules::Scope::PerUnit => {
            format!("≥{} {}", r.target, if en { "each" } else { "每单元" })
        }
        _ => r.value_text(r.target, en),
    }
}

/// A rule's clause: just the clause when it is of the plan on the cover, the whole
/// 《title》(文号) clause when it cites another document.
fn short_cite(report: &Report, r: &RuleResult) -> String {
    if !r.citation.clause.is_empty() && report.preset_citation.contains(&r.citation.document) {
        r.citation.clause.clone()
    } else {
        r.citation.cite()
    }
}

/// One rule: verdict line, its map, the units furthest from target, the clause quoted.
fn rule_page(
    ds: &Dataset,
    report: &Report,
    r: &RuleResult,
    opts: &PdfOptions,
    footer: &str,
) -> Sheet {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut s = Sheet::new(opts.paper, footer);
    s.para(15.0, INK, true, r.title_in(en));
    let verdict = format!(
        "{}：{} · {} {} · {} {}{}",
        t("结论", "Result"),
        if en { r.status.en() } else { r.status.zh() },
        t("实际", "value"),
        r.value_with_range(en),
        t("目标", "target"),
        target_text(r, en),
        r.deadline
            .map(|d| format!(" · {} {d}", t("期限", "due")))
            .unwrap_or_default()
    );
    s.para(11.0, status_colour(r.status), true, &verdict);
    if let Some(e) = if en { &r.explain_en } else { &r.explain_zh } {
        s.para(9.0, GREY, false, e);
    }
    // The map: the same drawing as `carecircle map --rule ID`, scaled into the page.
    let mw = s.inner();
    let mh = (s.h * 0.5).min(mw * 1.0);
    let (_, subtitle) = analysis_titles(report, Some(&r.id), en);
    // Drawn at 800 px across the text width (≈ 0.6 pt a pixel): the map's 13 px legend
    // prints at about 8 pt. The page already says the rule and cites the plan, so the
    // map's own title block keeps to the data, the distance and the verdict.
    let mut spec = MapSpec::new(800, (800.0 * mh / mw) as u32, ds.name.clone());
    spec.english = en;
    spec.legend_panel = true;
    if r.group == Some(AgeGroup::Aged60plus) && r.test == "population_within" {
        spec.bands = opts.bands.clone();
    }
    spec.rule = Some(r.id.clone());
    spec.subtitle = subtitle
        .split(" · ")
        .skip(1)
        .collect::<Vec<_>>()
        .join(" · ");
    let y = s.y + 4.0;
    s.maps
        .push((map_svg(ds, Some(report), &spec), [MARGIN, y, mw, mh]));
    s.y = y + mh + 8.0;
    // The units furthest from target (by their own value), failing first.
    let mut units: Vec<(
        &crate::coverage::UnitResult,
        &crate::coverage::analysis::UnitRuleStatus,
    )> = report
        .units
        .iter()
        .filter_map(|u| Some((u, u.rules.get(&r.id)?)))
        .filter(|(_, st)| st.status == Status::Fail)
        .collect();
    units.sort_by(|a, b| {
        b.1.deficit
            .unwrap_or(0.0)
            .total_cmp(&a.1.deficit.unwrap_or(0.0))
            .then(a.0.code.cmp(&b.0.code))
    });
    if !units.is_empty() {
        s.para(
            10.5,
            INK,
            true,
            t("差距最大的单元", "Units furthest from target"),
        );
        let rows: Vec<Vec<(String, Option<&'static str>)>> = units
            .iter()
            .take(6)
            .map(|(u, st)| {
                vec![
                    (format!("{} {}", u.name, u.code), None),
                    (unit_value_text(r.test, st.value, en), None),
                    (
                        st.deficit
                            .map(crate::coverage::analysis::thousands)
                            .unwrap_or("–".into()),
                        Some(status_colour(Status::Fail)),
                    ),
                ]
            })
            .collect();
        let mut one = vec![s];
        table(
            &mut one,
            opts.paper,
            footer,
            &[0.5, 0.25, 0.25],
            &[
                t("单元", "Unit"),
                t("单元值", "Unit value"),
                t("缺口", "Short by"),
            ],
            &rows,
            8.5,
        );
        s = one.remove(0);
    }
    if s.room() > 40.0 {
        s.gap(4.0);
        s.para(
            9.0,
            GREY,
            false,
            &format!("{} {}", t("依据", "Clause:"), r.citation.cite()),
        );
        if !r.citation.quote.is_empty() && s.room() > 30.0 {
            s.para(9.0, INK, false, &format!("“{}”", r.citation.quote));
        }
    }
    s
}

/// The 15-minute circle by district: people 60+ out of reach (and, on the walking network,
/// what straight-line circles would wrongly count), as bars.
fn circle_page(report: &Report, opts: &PdfOptions, footer: &str) -> Option<Sheet> {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let rule = report.rules.iter().find(|r| {
        r.test == "population_within"
            && r.group == Some(AgeGroup::Aged60plus)
            && r.status != Status::NotEvaluable
    })?;
    let top = report.units.iter().map(|u| u.level.tier()).min()?;
    let bars: Vec<(String, f64, f64)> = report
        .units
        .iter()
        .filter(|u| u.level.tier() == top)
        .filter_map(|u| {
            let st = u.rules.get(&rule.id)?;
            Some((
                u.name.clone(),
                st.deficit?,
                st.euclidean_overclaim.unwrap_or(0.0),
            ))
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    let mut s = Sheet::new(opts.paper, footer);
    s.para(15.0, INK, true, rule.title_in(en));
    s.para(
        10.5,
        INK,
        false,
        &format!(
            "{}：{} · {} {}",
            t("全域", "Jurisdiction"),
            rule.value_with_range(en),
            rule.distance.clone().unwrap_or_default(),
            mode_label(report.mode, en)
        ),
    );
    s.para(
        10.5,
        INK,
        true,
        t(
            "各区县步行范围外的 60 岁以上老人（人）",
            "People 60+ out of reach, by district",
        ),
    );
    let max = bars.iter().map(|b| b.1.max(b.2)).fold(1.0, f64::max);
    let label_w = 90.0;
    let chart_w = s.inner() - label_w - 60.0;
    let network = report.mode == "network";
    for (name, out, over) in &bars {
        let y = s.y + 4.0;
        s.text_at(MARGIN, y + 10.0, 9.0, INK, false, name);
        let w = out / max * chart_w;
        s.rect(MARGIN + label_w, y, w.max(0.5), 12.0, "#c62828");
        s.text_at(
            MARGIN + label_w + w + 4.0,
            y + 10.0,
            8.5,
            INK,
            false,
            &crate::coverage::analysis::thousands(*out),
        );
        s.y = y + 14.0;
        if network && *over > 0.0 {
            let w = over / max * chart_w;
            s.rect(MARGIN + label_w, s.y, w.max(0.5), 7.0, "#f0a030");
            s.y += 10.0;
        }
        s.y += 4.0;
    }
    s.gap(6.0);
    if network {
        s.para(
            9.0,
            GREY,
            false,
            t(
                "橙色：直线圆会误计为可达、实际步行不可达的老人（直线距离高估）。",
                "Orange: people a straight-line circle would count but the walk does not reach (the circle's over-claim).",
            ),
        );
        if let Some(o) = rule.people_overclaimed {
            s.para(
                9.0,
                GREY,
                false,
                &format!(
                    "{}：{}",
                    t("全域直线高估人数", "Over-claimed in all"),
                    crate::coverage::analysis::thousands(o)
                ),
            );
        }
    }
    s.para(
        9.0,
        GREY,
        false,
        &format!("{} {}", t("依据", "Clause:"), rule.citation.cite()),
    );
    Some(s)
}

/// The proposals: the answer and its proof in words, ranked sites, before → after.
fn proposal_pages(sheets: &mut Vec<Sheet>, p: &Proposals, opts: &PdfOptions, footer: &str) {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut s = Sheet::new(opts.paper, footer);
    s.para(15.0, INK, true, t("选址方案", "Site proposals"));
    s.para(
        10.5,
        INK,
        false,
        &format!(
            "{} {} · {} · {:.0} m · {} {}",
            p.proposals.len(),
            t("处新增", "new sites"),
            p.model_text(en),
            p.radius_m,
            p.candidates,
            t("个候选点", "candidate sites")
        ),
    );
    s.para(10.5, INK, true, &gap_words(p, en));
    sheets.push(s);
    let rows: Vec<Vec<(String, Option<&'static str>)>> = p
        .proposals
        .iter()
        .map(|x| {
            vec![
                (x.rank.to_string(), None),
                (format!("{} {}", x.unit_name, x.unit_code), None),
                (
                    crate::coverage::analysis::thousands(x.marginal_people),
                    None,
                ),
                (
                    x.places.map(|v| format!("{v:.0}")).unwrap_or("–".into()),
                    None,
                ),
                (format!("{:.5}, {:.5}", x.lon, x.lat), Some(GREY)),
            ]
        })
        .collect();
    table(
        sheets,
        opts.paper,
        footer,
        &[0.08, 0.38, 0.16, 0.1, 0.28],
        &[
            "#",
            t("所在单元", "Unit"),
            t("新增覆盖", "People gained"),
            t("托位/床位", "Places"),
            t("经纬度", "Lon, lat"),
        ],
        &rows,
        8.5,
    );
    let rows: Vec<Vec<(String, Option<&'static str>)>> = p
        .rules
        .iter()
        .filter(|r| r.evaluable())
        .map(|r| {
            let f = |v: Option<f64>| match v {
                Some(v) if r.test == "places_per_1000" => format!("{v:.2}"),
                Some(v) => format!("{:.1}%", v * 100.0),
                None => "–".into(),
            };
            vec![
                (r.title_in(en).to_owned(), None),
                (format!("{} → {}", f(r.before), f(r.after)), None),
                (
                    format!(
                        "{}/{} → {}/{}",
                        r.units_meeting_before, r.units_total, r.units_meeting_after, r.units_total
                    ),
                    None,
                ),
            ]
        })
        .collect();
    let bars: Vec<Bar> = p
        .rules
        .iter()
        .filter(|r| r.evaluable())
        .filter_map(|r| {
            let f = |v: f64| {
                if r.test == "places_per_1000" {
                    format!("{v:.2}")
                } else {
                    format!("{:.1}%", v * 100.0)
                }
            };
            let (b, a) = (r.before?, r.after?);
            Some(Bar {
                label: r.title_in(en).to_owned(),
                before: Some(b),
                value: a,
                target: r.target,
                text: format!("{} → {}", f(b), f(a)),
                colour: None,
            })
        })
        .collect();
    bar_chart(
        sheets,
        opts.paper,
        footer,
        t(
            "方案前（灰）→ 方案后（色条），竖线为目标",
            "Before (grey) → after (bar); the line is the target",
        ),
        &bars,
    );
    if !rows.is_empty() {
        let sh = sheets.last_mut().expect("a sheet");
        sh.gap(8.0);
        sh.para(10.5, INK, true, t("方案前 → 方案后", "Before → after"));
        table(
            sheets,
            opts.paper,
            footer,
            &[0.56, 0.22, 0.22],
            &[
                t("规则", "Rule"),
                t("指标", "Value"),
                t("达标单元", "Units meeting"),
            ],
            &rows,
            8.5,
        );
    }
}

/// The optimality gap in words: proven optimal, within x % of the optimum, or a heuristic
/// answer with no bound.
pub fn gap_words(p: &Proposals, en: bool) -> String {
    match (p.gap, p.bound) {
        (Some(g), Some(_)) if g <= 1e-9 => {
            if en {
                "Optimal, proven".into()
            } else {
                "最优解，已证明".into()
            }
        }
        (Some(g), Some(_)) => {
            if en {
                format!("Within {:.2} % of the optimum (proven bound)", g * 100.0)
            } else {
                format!("与最优解相差不超过 {:.2}%（已证明的界）", g * 100.0)
            }
        }
        _ => {
            if en {
                "Heuristic answer: no proven bound (run with --exact for one)".into()
            } else {
                "启发式解：未给出最优性证明（加 --exact 可求证）".into()
            }
        }
    }
}

/// What the figures rest on: synthetic data, estimates, what was skipped, load warnings,
/// targets not checked, licences.
fn notes(sheets: &mut Vec<Sheet>, ds: &Dataset, report: &Report, opts: &PdfOptions, footer: &str) {
    let en = opts.english;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut s = Sheet::new(opts.paper, footer);
    s.para(15.0, INK, true, t("数据说明", "Data notes"));
    let mut lines: Vec<String> = Vec::new();
    if report.summary.synthetic_facilities > 0 {
        lines.push(format!(
            "{} {}",
            report.summary.synthetic_facilities,
            t(
                "处设施为模拟数据（演示用），结论不代表实际情况。",
                "facilities are synthetic (for the demo): the verdicts do not describe reality."
            )
        ));
    }
    if report.summary.nursery_places_estimated > 0.0 {
        lines.push(format!(
            "{} {}",
            crate::coverage::analysis::thousands(report.summary.nursery_places_estimated),
            t(
                "个托位为估算值（数据未给出容量）。",
                "nursery places are estimates (the data gives no capacity)."
            )
        ));
    }
    for n in &report.not_checked {
        lines.push(format!(
            "{}：{} — {}",
            t("未检查的规划目标", "Target not checked"),
            if en { &n.title_en } else { &n.title_zh },
            n.reason
        ));
    }
    for k in report.skipped.iter().take(12) {
        lines.push(k.clone());
    }
    if report.skipped.len() > 12 {
        lines.push(format!(
            "… {} {}",
            report.skipped.len() - 12,
            t("条（见 JSON）", "more (see JSON)")
        ));
    }
    if !ds.warnings.is_empty() {
        lines.push(format!(
            "{} {}",
            ds.warnings.len(),
            t(
                "条加载警告（见 carecircle info）。",
                "load warnings (see carecircle info)."
            )
        ));
    }
    for l in lines {
        if s.room() < 30.0 {
            sheets.push(std::mem::replace(&mut s, Sheet::new(opts.paper, footer)));
        }
        s.para(9.0, INK, false, &format!("· {l}"));
    }
    s.gap(6.0);
    s.para(
        10.5,
        INK,
        true,
        t("数据许可与署名", "Licences and attribution"),
    );
    for a in &ds.attribution {
        s.para(9.0, GREY, false, a);
    }
    s.para(
        9.0,
        GREY,
        false,
        "OpenStreetMap data © OpenStreetMap contributors, ODbL 1.0. Font: WenQuanYi Micro Hei (Apache-2.0 / GPLv3).",
    );
    sheets.push(s);
}
