//! The report and proposals as an Excel workbook: sheets for rules, units, gaps, equity and
//! proposals, Chinese headers (English with `english`), figures as numbers (not text), the
//! header row frozen.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::coverage::analysis::Status;
use crate::coverage::Report;
use crate::siting::propose::Proposals;
use crate::{Error, Result};

/// A cell: text, a number, or empty (no data is an empty cell, never 0).
enum Cell {
    Text(String),
    Num(Option<f64>),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn num(v: Option<f64>) -> Cell {
    Cell::Num(v.filter(|x| x.is_finite()))
}

fn sheet(
    wb: &mut Workbook,
    name: &str,
    head: &[&str],
    rows: Vec<Vec<Cell>>,
) -> std::result::Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let ws: &mut Worksheet = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, (h.chars().count() as f64 * 2.0).clamp(8.0, 40.0))?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(s) if !s.is_empty() => {
                    ws.write_string(r, c as u16, s)?;
                }
                Cell::Num(Some(v)) => {
                    ws.write_number(r, c as u16, *v)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The workbook as bytes.
pub fn workbook(report: &Report, proposals: Option<&Proposals>, english: bool) -> Result<Vec<u8>> {
    build(report, proposals, english).map_err(|e| Error::Analysis(format!("Excel workbook: {e}")))
}

fn build(
    report: &Report,
    proposals: Option<&Proposals>,
    en: bool,
) -> std::result::Result<Vec<u8>, XlsxError> {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let st = |s: Status| if en { s.en() } else { s.zh() }.to_owned();
    let mut wb = Workbook::new();
    let rules: Vec<Vec<Cell>> = report
        .rules
        .iter()
        .map(|r| {
            vec![
                text(r.id.clone()),
                text(r.title_in(en).to_owned()),
                text(st(r.status)),
                num(r.value),
                num(r.range.and_then(|x| x.1)),
                num(Some(r.target)),
                text(r.level.clone()),
                num(r.deadline.map(f64::from)),
                num(Some(r.units_meeting as f64)),
                num(Some(r.units_total as f64)),
                num(r.people_covered),
                num(r.people_total),
                text(r.citation.cite()),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        t("规则", "Rules"),
        &[
            "id",
            t("规则", "Rule"),
            t("结论", "Result"),
            t("实际值", "Value"),
            t("上限（未知时）", "Upper bound (unknown)"),
            t("目标", "Target"),
            t("层级", "Level"),
            t("期限", "Due"),
            t("达标单元", "Units meeting"),
            t("单元总数", "Units"),
            t("可达人数", "People in reach"),
            t("总人数", "People"),
            t("依据", "Clause"),
        ],
        rules,
    )?;
    let units: Vec<Vec<Cell>> = report
        .units
        .iter()
        .map(|u| {
            vec![
                text(u.code.clone()),
                text(u.name.clone()),
                text(u.level.key()),
                text(u.parent_code.clone().unwrap_or_default()),
                num(u.population),
                num(u.pop_60plus),
                num(u.pop_0_3),
                num(Some(u.nursery_places)),
                num(u.nursery_places_per_1000),
                num(u.nursery_2sfca_per_1000),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        t("单元", "Units"),
        &[
            t("代码", "Code"),
            t("名称", "Name"),
            t("层级", "Level"),
            t("上级代码", "Parent"),
            t("常住人口", "Population"),
            t("60岁以上", "Aged 60+"),
            t("0-3岁", "Aged 0-3"),
            t("托位", "Nursery places"),
            t("每千人托位", "Places per 1000"),
            t("2SFCA 每千人托位", "2SFCA places per 1000"),
        ],
        units,
    )?;
    let mut gaps = Vec::new();
    for r in &report.rules {
        for u in &report.units {
            let Some(s) = u.rules.get(&r.id) else {
                continue;
            };
            if matches!(s.status, Status::Fail | Status::Unknown) {
                gaps.push(vec![
                    text(u.code.clone()),
                    text(u.name.clone()),
                    text(r.id.clone()),
                    text(r.title_in(en).to_owned()),
                    text(st(s.status)),
                    num(s.value),
                    num(s.deficit),
                    text(s.reason.clone().unwrap_or_default()),
                ]);
            }
        }
    }
    sheet(
        &mut wb,
        t("缺口", "Gaps"),
        &[
            t("代码", "Code"),
            t("名称", "Name"),
            "rule",
            t("规则", "Rule"),
            t("结论", "Result"),
            t("单元值", "Unit value"),
            t("缺口", "Short by"),
            t("原因", "Why"),
        ],
        gaps,
    )?;
    let equity: Vec<Vec<Cell>> = report
        .equity
        .iter()
        .map(|e| {
            vec![
                text(e.rule.clone()),
                text(e.level.clone()),
                num(Some(e.equity.gini)),
                num(e.equity.palma),
                num(Some(e.equity.worst_decile_people_share)),
                num(Some(e.equity.units as f64)),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        t("公平性", "Equity"),
        &[
            "rule",
            t("层级", "Level"),
            "Gini",
            "Palma",
            t("最差10%单元人口占比", "Worst tenth of units: people share"),
            t("单元数", "Units"),
        ],
        equity,
    )?;
    if let Some(p) = proposals {
        let rows: Vec<Vec<Cell>> = p
            .proposals
            .iter()
            .map(|x| {
                vec![
                    num(Some(x.rank as f64)),
                    text(x.candidate_id.clone()),
                    text(x.unit_code.clone()),
                    text(x.unit_name.clone()),
                    num(Some(x.lon)),
                    num(Some(x.lat)),
                    num(Some(x.marginal_people)),
                    num(x.places),
                ]
            })
            .collect();
        sheet(
            &mut wb,
            t("选址方案", "Proposals"),
            &[
                "#",
                t("候选点", "Candidate"),
                t("单元代码", "Unit code"),
                t("单元", "Unit"),
                t("经度", "Lon"),
                t("纬度", "Lat"),
                t("新增覆盖", "People gained"),
                t("托位/床位", "Places"),
            ],
            rows,
        )?;
        let rows: Vec<Vec<Cell>> = p
            .rules
            .iter()
            .map(|r| {
                vec![
                    text(r.id.clone()),
                    text(r.title_in(en).to_owned()),
                    num(r.before),
                    num(r.after),
                    num(Some(r.units_meeting_before as f64)),
                    num(Some(r.units_meeting_after as f64)),
                    num(Some(r.units_total as f64)),
                ]
            })
            .collect();
        sheet(
            &mut wb,
            t("方案前后", "Before-after"),
            &[
                "rule",
                t("规则", "Rule"),
                t("方案前", "Before"),
                t("方案后", "After"),
                t("达标单元（前）", "Units meeting before"),
                t("达标单元（后）", "Units meeting after"),
                t("单元总数", "Units"),
            ],
            rows,
        )?;
    }
    wb.save_to_buffer()
}
