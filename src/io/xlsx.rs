//! Excel (.xlsx, .xls, .ods) facility and unit lists: the first sheet or the one a manifest
//! names, the header row found among the first rows (title rows above it are skipped),
//! Chinese or English headers, lon/lat in any declared CRS, and rows without coordinates
//! kept for attribute joins — read like CSV rows once the cells are text.
//!
//! Cells become text as a person reads them: whole numbers without ".0", dates as
//! YYYY-MM-DD, formulas by their saved value. Merged header cells, error cells and formulas
//! without a saved value are warnings naming file, sheet, row and column.

use std::path::Path;

use calamine::{Data, Reader};
use serde_json::{Map, Value};

use super::fields::{FieldMapping, MODEL_FIELDS};
use super::{RawFeature, RawLayer};
use crate::error::{Error, Result};
use crate::progress::{check, Progress};

/// How many rows from the top may hold titles before the header.
const HEADER_SEARCH_ROWS: usize = 20;

/// Column letters as Excel shows them (0 → A, 27 → AB).
pub fn column_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

fn cell_text(d: &Data) -> Option<String> {
    Some(match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let days = dt.as_f64().floor() as i64 - 25_569; // 1899-12-30 → 1970-01-01
            let (y, m, d) = crate::model::edits::civil_date(days);
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) => return None,
    })
}

/// The sheet names of a workbook, in order.
pub fn sheet_names(path: &Path) -> Result<Vec<String>> {
    let bytes = super::read_input(path)?;
    let book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::format_zh(
            path,
            format!("not a readable Excel/ODS workbook: {e}"),
            format!("不是可读取的 Excel/ODS 工作簿：{e}"),
        )
    })?;
    Ok(book.sheet_names())
}

/// Reads sheet `sheet` (or the first) of a workbook as a table layer.
pub fn read(
    path: &Path,
    sheet: Option<&str>,
    mapping: &FieldMapping,
    progress: &dyn Progress,
) -> Result<RawLayer> {
    let bytes = super::read_input(path)?;
    let mut book =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
            Error::format_zh(
                path,
                format!("not a readable Excel/ODS workbook: {e}"),
                format!("不是可读取的 Excel/ODS 工作簿：{e}"),
            )
        })?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names.iter().find(|n| *n == s).cloned().ok_or_else(|| {
            Error::format_zh(
                path,
                format!("no sheet '{s}' (sheets: {})", names.join(", ")),
                format!("没有工作表“{s}”（现有：{}）", names.join("、")),
            )
        })?,
        None => names.first().cloned().ok_or_else(|| {
            Error::format_zh(path, "the workbook has no sheets", "工作簿中没有工作表")
        })?,
    };
    let range = book.worksheet_range(&name).map_err(|e| {
        Error::format_zh(
            path,
            format!("sheet '{name}': {e}"),
            format!("工作表“{name}”：{e}"),
        )
    })?;
    // Formulas, to tell a formula without a saved value from an empty cell.
    let formulas = book.worksheet_formula(&name).ok();
    progress.stage(&format!("{} · {name}", super::display_name(path)), None);
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut layer = RawLayer::new(path);
    let rows: Vec<&[Data]> = range.rows().collect();
    let at = |r: usize, c: usize| {
        format!(
            "sheet '{name}' row {} column {}",
            r0 as usize + r + 1,
            column_letter(c0 as usize + c)
        )
    };
    let Some(h) = header_row(&rows, mapping) else {
        return Err(Error::format_zh(
            path,
            format!("sheet '{name}' is empty"),
            format!("工作表“{name}”为空"),
        ));
    };
    let mut headers: Vec<String> = Vec::new();
    for (c, cell) in rows[h].iter().enumerate() {
        let mut t = cell_text(cell).unwrap_or_default();
        if t.is_empty() {
            t = format!("column_{}", column_letter(c0 as usize + c));
            let nonempty_below = rows[h + 1..]
                .iter()
                .any(|r| r.get(c).is_some_and(|d| *d != Data::Empty));
            if nonempty_below {
                layer.warn(
                    Some(at(h, c)),
                    None,
                    crate::model::Said::new(
                        format!("header cell is empty (a merged cell?): the column is named {t}"),
                        format!("表头单元格为空（合并单元格？）：该列命名为 {t}"),
                    ),
                );
            }
        }
        while headers.contains(&t) {
            t.push('_');
        }
        headers.push(t);
    }
    let coords = super::csv::coordinate_columns(path, mapping, &headers)?;
    layer.has_coordinates = coords.is_some();
    for (r, row) in rows.iter().enumerate().skip(h + 1) {
        if r.is_multiple_of(4096) {
            check(progress)?;
        }
        if row.iter().all(|d| matches!(d, Data::Empty)) {
            continue; // an empty row: spacing, not a record
        }
        let mut cells: Vec<String> = Vec::with_capacity(headers.len());
        for (c, d) in row.iter().enumerate().take(headers.len()) {
            match cell_text(d) {
                Some(t) => {
                    if t.is_empty() {
                        let formula = formulas.as_ref().and_then(|f| {
                            f.get_value((r0 + r as u32, c0 + c as u32))
                                .filter(|s| !s.is_empty())
                        });
                        if let Some(f) = formula {
                            layer.warn(
                                Some(at(r, c)),
                                Some(&headers[c]),
                                crate::model::Said::new(
                                    format!("formula ={f} has no saved value (open and save the file in Excel); read as empty"),
                                    format!("公式 ={f} 没有保存的值（请在 Excel 中打开并保存）；按空值读取"),
                                ),
                            );
                        }
                    }
                    cells.push(t)
                }
                None => {
                    layer.warn(
                        Some(at(r, c)),
                        Some(&headers[c]),
                        crate::model::Said::new(
                            format!("the cell holds an error ({d}); read as empty"),
                            format!("单元格为错误值（{d}）；按空值读取"),
                        ),
                    );
                    cells.push(String::new());
                }
            }
        }
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        let index = layer.features.len();
        let label = |props: &Map<String, Value>| {
            format!(
                "{} {}",
                at(r, 0).replace(" column A", ""),
                super::feature_label(index, props)
            )
        };
        let (geometry, properties) =
            super::csv::row_feature(&refs, &headers, coords, &mut layer, &label);
        layer.features.push(RawFeature {
            index,
            geometry,
            properties,
            node_ids: None,
        });
    }
    layer.headers = Some(headers);
    Ok(layer)
}

/// The header row: among the first rows, the one naming the most model fields (名称, 经度,
/// 床位 …); else the first row with any text. Title rows above it are skipped.
fn header_row(rows: &[&[Data]], mapping: &FieldMapping) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, row) in rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let cells: Vec<String> = row
            .iter()
            .map(|d| cell_text(d).unwrap_or_default())
            .collect();
        let score = MODEL_FIELDS
            .iter()
            .filter(|f| mapping.header(&cells, f).is_some())
            .count();
        if score > 0 && best.is_none_or(|(_, s)| score > s) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i).or_else(|| {
        rows.iter()
            .position(|r| r.iter().any(|d| !matches!(d, Data::Empty)))
    })
}

#[cfg(test)]
mod tests {
    use super::column_letter;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
