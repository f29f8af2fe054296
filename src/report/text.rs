//! The readable report the CLI prints: rules with verdicts, ranges and citations, not
//! checked targets, the summary, the largest gaps and what was skipped.

use super::*;

pub(super) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The readable report the CLI prints: rules with verdicts and clauses, the worst units, the
/// summary and what was skipped. Chinese unless `english`.
pub fn to_text(report: &Report, english: bool, max_units: usize) -> String {
    let mut s = header(report, english);
    for r in &report.rules {
        rule_lines(&mut s, r, english);
    }
    not_checked(&mut s, report, english);
    summary_lines(&mut s, report, english);
    largest_gaps(&mut s, report, english, max_units);
    equity_lines(&mut s, report, english);
    skipped_lines(&mut s, report, english);
    s
}

/// How evenly each rule's figure is spread: Gini, Palma, the worst-served tenth of units.
fn equity_lines(s: &mut String, report: &Report, english: bool) {
    if report.equity.is_empty() {
        return;
    }
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{}",
        t(
            "公平性（按人口加权，基尼系数 0 = 均衡，1 = 集中于一个单元）:",
            "Equity (population-weighted; Gini 0 = even, 1 = all in one unit):"
        )
    );
    for e in &report.equity {
        let palma = e
            .equity
            .palma
            .map(|p| format!("{p:.2}"))
            .unwrap_or_else(|| {
                t(
                    "无上限（后 40% 人口为零）",
                    "unbounded (bottom 40 % have none)",
                )
                .into()
            });
        let _ = writeln!(
            s,
            "  {:<34} Gini {:.3}  Palma {}  {} {} {}: {}",
            e.rule,
            e.equity.gini,
            palma,
            t("最差的", "worst-served"),
            e.equity.worst_decile_units,
            t("个单元人口占比", "units hold"),
            pct(e.equity.worst_decile_people_share)
        );
    }
}

/// Dataset, rules, mode, demand and scenario year; the column heads.
fn header(report: &Report, english: bool) -> String {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} · {} {} · {} {}",
        t("数据集", "Dataset"),
        report.dataset,
        t("规则", "Rules"),
        report.preset,
        t("距离", "Mode"),
        match (report.mode, english) {
            ("euclidean", false) => "直线距离",
            ("network", false) => "步行路网",
            (m, _) => m,
        }
    );
    let _ = writeln!(
        s,
        "{} {} {}: {} · {} {:.0} · 60+ {:.0} · 0-3 {:.0}",
        t("需求点", "Demand points"),
        report.demand.points,
        t("个", ""),
        report
            .demand
            .by_source
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        t("人口", "people"),
        // + 0.0 turns a -0.0 into 0 ("-0 people").
        report.demand.population + 0.0,
        report.demand.pop_60plus + 0.0,
        report.demand.pop_0_3 + 0.0
    );
    let _ = writeln!(s);
    if let Some(y) = report.year {
        let _ = writeln!(
            s,
            "{} {y}{}",
            t("情景年份", "Scenario year"),
            t(
                "：现有设施加上该年及以前完成的规划项目",
                ": existing facilities plus planned projects completed by then"
            )
        );
    }
    let _ = writeln!(s, "{} {}", t("规划依据", "Plan"), report.preset_citation);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<4} {} {:>10} {:>16} {:>12} {:>6} {:>9}",
        "",
        truncate(t("规则", "Rule"), 44),
        t("范围", "Scope"),
        t("实际", "Value"),
        t("目标", "Target"),
        t("期限", "Due"),
        t("结论", "Result")
    );
    s
}

/// One rule: verdict row, then its figures, reasons, citation and notes.
fn rule_lines(s: &mut String, r: &RuleResult, english: bool) {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let verdict = if english {
        r.status.en()
    } else {
        r.status.zh()
    };
    let fmt_v = |v: f64| r.value_text(v, english);
    let target = match r.test {
        "presence" if r.scope == crate::coverage::rules::Scope::PerUnit => {
            format!("≥{} {}", r.target, t("每单元", "each"))
        }
        _ => fmt_v(r.target),
    };
    let value = r.value_with_range(english);
    let title = r.title_in(english);
    let _ = writeln!(
        s,
        "{:<4} {} {:>10} {:>16} {:>12} {:>6} {:>9}",
        match r.status {
            Status::Pass => "✔",
            Status::Fail => "✘",
            Status::Unknown => "?",
            Status::NotEvaluable => "·",
        },
        truncate(title, 44),
        if english { r.scope.en() } else { r.scope.zh() },
        value,
        format!(
            "{target}{}",
            if r.target_user_set {
                t("（用户设定）", " (user)")
            } else {
                ""
            }
        ),
        r.deadline.map(|d| d.to_string()).unwrap_or("-".into()),
        verdict
    );
    rule_details(s, r, english);
}

/// A rule's figures under its row: due or not, units, qualifiers, totals, base, area,
/// distance, people in reach, why, citation and notes.
fn rule_details(s: &mut String, r: &RuleResult, english: bool) {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    if let Some(due) = r.due {
        if !due {
            let _ = writeln!(
                s,
                "     {}",
                t(
                    "该目标期限晚于情景年份，尚未到期",
                    "not yet due in the scenario year"
                )
            );
        }
    }
    if matches!(
        r.scope,
        crate::coverage::rules::Scope::PerUnit | crate::coverage::rules::Scope::Share
    ) && r.units_total > 0
    {
        let _ = writeln!(
            s,
            "     {}: {}/{}{}",
            t("达标单元", "units passing"),
            r.units_meeting,
            r.units_total,
            if r.units_unknown > 0 {
                format!(" · {} {}", r.units_unknown, t("个未知", "unknown"))
            } else {
                String::new()
            }
        );
    }
    if !r.qualifiers.is_empty() {
        let _ = writeln!(
            s,
            "     {}: {}",
            t("限定", "qualified"),
            r.qualifiers
                .iter()
                .filter_map(|q| crate::model::Qualifier::parse(q))
                .map(|q| if english { q.en() } else { q.zh() })
                .collect::<Vec<_>>()
                .join(if english { ", " } else { "、" })
        );
    }
    if let (Some(amount), true) = (r.amount, r.base.is_some() || r.test == "capacity_total") {
        let unit_word = if r.kinds.iter().all(|k| *k == "nursery") {
            t("托位", "places")
        } else {
            t("张床位", "beds")
        };
        let _ = writeln!(
            s,
            "     {}: {} {}{}",
            t("合计", "total"),
            thousands(amount),
            unit_word,
            match r.amount_upper {
                Some(h) if (h - amount).abs() > 1e-9 => format!(" – {}", thousands(h)),
                Some(_) => String::new(),
                None => t("（下限：另有未知部分）", " (lower bound: more unknown)").into(),
            }
        );
    }
    if let Some(b) = &r.base {
        let _ = writeln!(s, "     {}: {}", t("人口基数", "population base"), b);
    }
    if let Some(a) = &r.area {
        let _ = writeln!(s, "     {}: {}", t("范围", "area"), a);
    }
    if let Some(d) = &r.distance {
        let _ = writeln!(s, "     {}: {}", t("距离", "distance"), d);
    }
    if let (Some(c), Some(a)) = (r.people_covered, r.people_total) {
        let _ = writeln!(
            s,
            "     {}: {:.0} / {:.0}",
            t("可达人数", "people within reach"),
            c,
            a
        );
    }
    if let Some(o) = r.people_overclaimed {
        let _ = writeln!(
            s,
            "     {}: {:.0}",
            t(
                "直线距离多算的人数（直线距离内、步行不可达）",
                "over-claimed by a straight-line circle (inside the distance, beyond the walk)"
            ),
            o
        );
    }
    let explain = if english {
        &r.explain_en
    } else {
        &r.explain_zh
    };
    if let Some(e) = explain {
        let _ = writeln!(s, "     {}: {}", t("说明", "why"), e);
    }
    let _ = writeln!(
        s,
        "     {}: {}{}",
        t("依据", "clause"),
        r.citation.cite(),
        if r.convention {
            t(
                "（规划惯例，非规划目标）",
                " (planning convention, not a plan target)",
            )
        } else {
            ""
        }
    );
    for n in &r.notes {
        let _ = writeln!(s, "     ! {n}");
    }
}

/// The plan's targets the preset does not check, and planned projects without a year.
fn not_checked(s: &mut String, report: &Report, english: bool) {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    if !report.not_checked.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", t("未检查的目标：", "Not checked:"));
        for n in &report.not_checked {
            let _ = writeln!(
                s,
                "  · {} — {} ({})",
                if english { &n.title_en } else { &n.title_zh },
                n.citation.cite(),
                n.reason
            );
        }
    }
    if !report.planned_year_unknown.is_empty() {
        let _ = writeln!(
            s,
            "{} {}: {}",
            report.planned_year_unknown.len(),
            t(
                "个规划项目无年份（已计入，年份未知）",
                "planned projects have no year (counted, year unknown)"
            ),
            report.planned_year_unknown.join("; ")
        );
    }
}

/// Whole-dataset figures: the elderly circle, nursery places per 1000, synthetic data.
fn summary_lines(s: &mut String, report: &Report, english: bool) {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let _ = writeln!(s);
    let sm = &report.summary;
    if let (Some(c), Some(d)) = (sm.elderly_covered_share, sm.elderly_distance_m) {
        let _ = writeln!(
            s,
            "{} {:.0} m {}: {}",
            t("60岁以上老人在", "People 60+ within"),
            d,
            t("内的比例", ""),
            pct(c)
        );
    }
    if let Some(p) = sm.nursery_places_per_1000 {
        let _ = writeln!(
            s,
            "{}: {:.0} {} / {:.0} {} = {:.2}{}{}",
            t("每千人托位", "Nursery places per 1000"),
            sm.nursery_places,
            t("托位", "places"),
            sm.population.unwrap_or(0.0),
            t("人", "people"),
            p,
            t("/千人", " per 1000"),
            if sm.nursery_places_lower_bound {
                t(
                    "（下限：现有托位不全在数据中）",
                    " (a floor: existing places are not all in the data)",
                )
                .to_owned()
            } else {
                sm.nursery_places_short
                    .map(|x| format!(" · {} {:.0}", t("缺口", "short by"), x))
                    .unwrap_or_default()
            }
        );
        if sm.nursery_places_estimated > 0.0 {
            let _ = writeln!(
                s,
                "  {} {:.0} {}",
                t("其中", "of which"),
                sm.nursery_places_estimated,
                t(
                    "托位为估计值（数据无容量）",
                    "places are estimates (no capacity in the data)"
                )
            );
        }
    }
    if sm.synthetic_facilities > 0 {
        let _ = writeln!(
            s,
            "{} {} {}",
            t("注意：", "Note:"),
            sm.synthetic_facilities,
            t(
                "处设施为模拟数据，不是真实设施",
                "facilities are SYNTHETIC, not real"
            )
        );
    }
}

/// Per rule, the units below target with the largest deficits.
fn largest_gaps(s: &mut String, report: &Report, english: bool, max_units: usize) {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    // Worst units: failing units with the largest deficits per rule.
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", t("差距最大的单元：", "Largest gaps:"));
    for r in &report.rules {
        let mut fails: Vec<(&UnitResult, f64)> = report
            .units
            .iter()
            .filter_map(|u| {
                let st = u.rules.get(&r.id)?;
                (st.pass == Some(false)).then_some((u, st.deficit.unwrap_or(0.0)))
            })
            .collect();
        if fails.is_empty() {
            continue;
        }
        fails.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.code.cmp(&b.0.code)));
        let unit_word = match r.test {
            "presence" | "presence_share" | "count" => t("缺设施", "missing"),
            "places_per_1000" => t("缺托位", "places short"),
            "beds_per_1000" => t("缺床位", "beds short"),
            "qualified_share" => t("缺合格容量", "qualified capacity short"),
            "nursing_bed_share" => t("缺护理型床位", "nursing beds short"),
            _ => t("未覆盖人数", "people out of reach"),
        };
        let diagnostic = matches!(
            r.scope,
            crate::coverage::rules::Scope::Aggregate | crate::coverage::rules::Scope::Count
        ) && r.test != "population_within";
        let _ = writeln!(
            s,
            "  {} ({} {}{}):",
            r.title_in(english),
            fails.len(),
            t("个单元低于目标", "units below target"),
            if diagnostic {
                t(
                    "；诊断：缺口所在，不是结论",
                    "; diagnostic: where the shortfall sits, not the verdict",
                )
            } else {
                ""
            }
        );
        for (u, d) in fails.iter().take(max_units) {
            let _ = writeln!(
                s,
                "    {:<14} {:<16} {} {:.0}",
                u.code, u.name, unit_word, d
            );
        }
        if fails.len() > max_units {
            let _ = writeln!(s, "    … {}", fails.len() - max_units);
        }
    }
}

/// Everything skipped or assumed.
fn skipped_lines(s: &mut String, report: &Report, english: bool) {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    if !report.skipped.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{} ({}):",
            t("跳过与假设", "Skipped and assumed"),
            report.skipped.len()
        );
        for k in report.skipped.iter().take(20) {
            let _ = writeln!(s, "  - {k}");
        }
        if report.skipped.len() > 20 {
            let _ = writeln!(
                s,
                "  … {} {}",
                report.skipped.len() - 20,
                t("条（见 JSON）", "more (see JSON)")
            );
        }
    }
}

pub fn truncate(s: &str, n: usize) -> String {
    // Approximate display width: CJK characters take two columns.
    let mut w = 0;
    let mut out = String::new();
    for c in s.chars() {
        let cw = if c as u32 > 0x2E80 { 2 } else { 1 };
        if w + cw > n {
            out.push('…');
            break;
        }
        w += cw;
        out.push(c);
    }
    let pad = n.saturating_sub(w);
    out.extend(std::iter::repeat_n(
        ' ',
        pad.saturating_sub(if out.ends_with('…') { 1 } else { 0 }),
    ));
    out
}
