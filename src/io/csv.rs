//! CSV tables: points with lon/lat columns (Chinese or English headers), or code lists
//! without coordinates. Excel-exported Chinese CSV is often GBK: decoded transparently.

use std::path::Path;

use geo::{Geometry, Point};
use serde_json::{Map, Value};

use super::fields::FieldMapping;
use super::text::{decode, Decoded};
use super::{RawFeature, RawLayer};
use crate::error::{Error, Result};
use crate::progress::{check, Progress};

/// Reads a CSV. Coordinate columns are found through `mapping` (`lon`/`lat` overrides) or
/// the defaults (lon, lng, longitude, x, 经度 / lat, latitude, y, 纬度).
pub fn read(path: &Path, mapping: &FieldMapping, progress: &dyn Progress) -> Result<RawLayer> {
    let bytes = super::read_input(path)?;
    read_bytes(&bytes, path, mapping, progress)
}

/// [`read`] on bytes already in memory (`path` names them in messages): the entry point
/// the fuzz targets drive.
pub fn read_bytes(
    bytes: &[u8],
    path: &Path,
    mapping: &FieldMapping,
    progress: &dyn Progress,
) -> Result<RawLayer> {
    // Freed on another thread if the read stops (a cancel returns at once).
    let mut layer = crate::progress::Discard::new(RawLayer::new(path));
    let (text, delimiter) = open(bytes, &mut layer);
    let mut rdr = reader(&text, delimiter, true);
    let headers = headers_of(&mut rdr, path)?;
    let coords = coordinate_columns(path, mapping, &headers)?;
    layer.has_coordinates = coords.is_some();
    progress.stage(&super::display_name(path), None);
    for (index, rec) in rdr.records().enumerate() {
        if index.is_multiple_of(4096) {
            check(progress)?;
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                layer.warn(
                    Some(format!("row {}", index + 2)),
                    None,
                    crate::model::Said::new(
                        format!("unreadable row: {e}; skipped"),
                        format!("无法读取该行：{e}；已跳过"),
                    ),
                );
                continue;
            }
        };
        let cells: Vec<&str> = rec.iter().collect();
        let label = |props: &Map<String, Value>| {
            format!("row {} {}", index + 2, super::feature_label(index, props))
        };
        let (geometry, properties) = row_feature(&cells, &headers, coords, &mut layer, &label);
        layer.features.push(RawFeature {
            index,
            geometry,
            properties,
            node_ids: None,
        });
    }
    layer.headers = Some(headers);
    Ok(layer.into_inner())
}

/// A demand table read straight into [`super::DemandRows`] (`features` stays empty): the
/// same rows, values and messages as [`read`] followed by the demand interpretation, but
/// no property map per row — a province's million-row table took 1.3 GB that way.
pub fn read_demand(
    path: &Path,
    mapping: &FieldMapping,
    progress: &dyn Progress,
) -> Result<RawLayer> {
    use crate::model::Said;
    let bytes = super::read_input(path)?;
    let mut layer = crate::progress::Discard::new(RawLayer::new(path));
    let (text, delimiter) = open(&bytes, &mut layer);
    drop(bytes);
    let mut rdr = reader(&text, delimiter, true);
    let headers = headers_of(&mut rdr, path)?;
    let coords = coordinate_columns(path, mapping, &headers)?;
    layer.has_coordinates = coords.is_some();
    let Some((lo, la)) = coords else {
        // The interpretation refuses a demand table without coordinates, naming its headers.
        layer.headers = Some(headers);
        return Ok(layer.into_inner());
    };
    let skip = [lo, la];
    let cols = DemandColumns {
        lo,
        la,
        population: mapping.columns(&headers, "population", &skip),
        aged_60plus: mapping.columns(&headers, "pop_60plus", &skip),
        aged_0_3: mapping.columns(&headers, "pop_0_3", &skip),
        id: mapping.columns(&headers, "id", &skip),
        label: super::LABEL_KEYS
            .iter()
            .filter_map(|k| super::fields::column_named(&headers, k, &skip))
            .collect(),
    };
    progress.stage(&super::display_name(path), None);
    // The rows after the header, in pieces read on every core when no cell is quoted (then
    // every line break ends a record); one piece otherwise.
    let body = &text[rdr.position().byte() as usize..];
    let pieces = if body.as_bytes().contains(&b'"') {
        vec![body]
    } else {
        split_lines(body, 4 * rayon::current_num_threads())
    };
    let parts: Vec<DemandPiece> = {
        use rayon::prelude::*;
        pieces
            .par_iter()
            .map(|p| demand_piece(p, delimiter, &cols, &headers, progress))
            .collect::<Result<_>>()?
    };
    // Joined in order: row numbers and note positions continue from the pieces before.
    // Column by column, each piece's column freed once copied, so at most one column is
    // held twice.
    let mut parts = parts;
    let (mut records, mut points) = (0u32, 0u32);
    let mut starts = Vec::with_capacity(parts.len());
    for part in &mut parts {
        starts.push((records, points));
        for problem in std::mem::take(&mut part.problems) {
            match problem {
                RowProblem::Unreadable(i, e) => {
                    let i = (records + i) as usize;
                    layer.warn(
                        Some(format!("row {}", i + 2)),
                        None,
                        Said::new(
                            format!("unreadable row: {e}; skipped"),
                            format!("无法读取该行：{e}；已跳过"),
                        ),
                    );
                }
                RowProblem::Coordinates(i, label, sx, sy) => {
                    let i = records + i;
                    layer.warn(
                        Some(format!("row {} {}", i + 2, super::row_label(i, &label))),
                        Some(&headers[lo]),
                        Said::new(
                            format!("coordinates '{sx}', '{sy}' are not numbers; point dropped"),
                            format!("坐标“{sx}”、“{sy}”不是数字；该点已丢弃"),
                        ),
                    );
                }
            }
        }
        records += part.records;
        points += part.rows.len() as u32;
    }
    fn joined<T>(
        parts: &mut [DemandPiece],
        column: fn(&mut super::DemandRows) -> &mut Vec<T>,
    ) -> Vec<T> {
        let n = parts.iter_mut().map(|p| column(&mut p.rows).len()).sum();
        let mut out = Vec::with_capacity(n);
        for p in parts.iter_mut() {
            out.append(column(&mut p.rows));
            *column(&mut p.rows) = Vec::new();
        }
        out
    }
    for (part, &(first_row, first_point)) in parts.iter_mut().zip(&starts) {
        part.rows.index.iter_mut().for_each(|i| *i += first_row);
        part.rows.notes.iter_mut().for_each(|n| n.0 += first_point);
    }
    let rows = super::DemandRows {
        index: joined(&mut parts, |r| &mut r.index),
        at: joined(&mut parts, |r| &mut r.at),
        population: joined(&mut parts, |r| &mut r.population),
        source_id: joined(&mut parts, |r| &mut r.source_id),
        label: joined(&mut parts, |r| &mut r.label),
        notes: joined(&mut parts, |r| &mut r.notes),
    };
    layer.headers = Some(headers);
    layer.demand = rows;
    Ok(layer.into_inner())
}

/// Which columns a demand row is read from (see [`FieldMapping::columns`]).
struct DemandColumns {
    lo: usize,
    la: usize,
    population: Vec<usize>,
    aged_60plus: Vec<usize>,
    aged_0_3: Vec<usize>,
    id: Vec<usize>,
    /// The columns `feature_label` looks at, in its order.
    label: Vec<usize>,
}

/// What reading a piece of a demand table found wrong with a row (numbered in the piece).
enum RowProblem {
    Unreadable(u32, String),
    /// Coordinates that are not numbers: the row's label and the two cells.
    Coordinates(u32, Option<std::sync::Arc<str>>, String, String),
}

/// A piece of a demand table, its rows numbered from 0.
struct DemandPiece {
    rows: super::DemandRows,
    records: u32,
    problems: Vec<RowProblem>,
}

/// `text` cut after line breaks into about `n` pieces.
fn split_lines(text: &str, n: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..n.max(1) {
        let target = (text.len() * k / n).max(start);
        match text.as_bytes()[target..].iter().position(|&b| b == b'\n') {
            Some(p) if target + p + 1 < text.len() => {
                out.push(&text[start..target + p + 1]);
                start = target + p + 1;
            }
            _ => break,
        }
    }
    out.push(&text[start..]);
    out
}

/// The demand rows of one piece of a table (no header).
fn demand_piece(
    text: &str,
    delimiter: u8,
    cols: &DemandColumns,
    headers: &[String],
    progress: &dyn Progress,
) -> Result<DemandPiece> {
    use crate::model::Population;
    use std::sync::Arc;
    let mut rdr = reader(text, delimiter, false);
    let mut rows = super::DemandRows::default();
    let mut problems = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut index = 0u32;
    loop {
        if index.is_multiple_of(4096) {
            check(progress)?;
        }
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(RowProblem::Unreadable(index, e.to_string()));
                index += 1;
                continue;
            }
        }
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let first = |cols: &[usize]| cols.iter().copied().find(|&i| !cell(i).is_empty());
        let source_id: Option<Arc<str>> = first(&cols.id).map(|i| Arc::from(cell(i)));
        let label = first(&cols.label).map(|i| match (&source_id, first(&cols.id)) {
            (Some(a), Some(j)) if j == i => a.clone(),
            _ => Arc::from(cell(i)),
        });
        let k = rows.len() as u32;
        let (sx, sy) = (cell(cols.lo), cell(cols.la));
        let point = match (parse_coordinate(sx), parse_coordinate(sy)) {
            (Some(x), Some(y)) => Some(geo::Coord { x, y }),
            _ if sx.is_empty() && sy.is_empty() => None,
            _ => {
                problems.push(RowProblem::Coordinates(
                    index,
                    label.clone(),
                    sx.to_owned(),
                    sy.to_owned(),
                ));
                None
            }
        };
        let mut figures = Population::default();
        if point.is_some() {
            let mut num = |cols: &[usize]| {
                let i = first(cols)?;
                super::load::counted(cell(i), &headers[i], &mut |field, said| {
                    rows.notes.push((k, field.map(str::to_owned), said))
                })
            };
            figures = Population {
                total: num(&cols.population),
                aged_60plus: num(&cols.aged_60plus),
                aged_0_3: num(&cols.aged_0_3),
            };
        }
        rows.index.push(index);
        rows.at.push(point);
        rows.population.push(figures);
        rows.source_id.push(source_id);
        rows.label.push(label);
        index += 1;
    }
    Ok(DemandPiece {
        rows,
        records: index,
        problems,
    })
}

/// The table's text (GBK decoded where it is not UTF-8) and its delimiter, with a warning on
/// `layer` for the encoding and for a delimiter other than a comma.
fn open(bytes: &[u8], layer: &mut RawLayer) -> (String, u8) {
    let (text, how) = decode(bytes, None);
    if how == Decoded::GbkFallback {
        layer.warn(
            None,
            None,
            crate::model::Said::new(
                "file is not UTF-8; decoded as GBK",
                "文件不是 UTF-8 编码，已按 GBK 解码",
            ),
        );
    }
    let delimiter = sniff_delimiter(&text);
    if delimiter != b',' {
        let name = if delimiter == b'\t' {
            "tab"
        } else {
            "semicolon"
        };
        layer.warn(
            None,
            None,
            crate::model::Said::new(
                format!("columns are separated by {name}s, not commas: read that way"),
                format!(
                    "列以{}分隔（不是逗号）：已按此读取",
                    if delimiter == b'\t' {
                        "制表符"
                    } else {
                        "分号"
                    }
                ),
            ),
        );
    }
    (text, delimiter)
}

/// A reader over table text (a whole file with its header row, or a piece without), cells
/// trimmed, rows of any length.
fn reader(text: &str, delimiter: u8, has_headers: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .has_headers(has_headers)
        .from_reader(text.as_bytes())
}

/// The header row; an error naming the file when there is none.
fn headers_of(rdr: &mut csv::Reader<&[u8]>, path: &Path) -> Result<Vec<String>> {
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| {
            Error::format_zh(
                path,
                format!("cannot read the header row: {e}"),
                format!("无法读取表头行：{e}"),
            )
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(Error::format_zh(
            path,
            "empty CSV: no header row",
            "CSV 为空：没有表头行",
        ));
    }
    Ok(headers)
}

/// The longitude and latitude columns, if the mapping finds both; an error naming the
/// headers if it finds only one.
pub(super) fn coordinate_columns(
    path: &Path,
    mapping: &FieldMapping,
    headers: &[String],
) -> Result<Option<(usize, usize)>> {
    let lon_col = mapping
        .header(headers, "lon")
        .and_then(|h| headers.iter().position(|x| x == h));
    let lat_col = mapping
        .header(headers, "lat")
        .and_then(|h| headers.iter().position(|x| x == h));
    match (lon_col, lat_col) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (Some(_), None) | (None, Some(_)) => Err(Error::format_zh(
            path,
            format!(
                "found only one of the longitude/latitude columns among: {}",
                headers.join(", ")
            ),
            format!("经度、纬度两列只找到一列，现有列：{}", headers.join("、")),
        )),
        (None, None) => Ok(None),
    }
}

/// One row as a feature: its point (a warning naming the row when the coordinates are
/// not numbers; degrees-minutes-seconds such as 126°38′E are read) and every other column
/// as a property, empty cells null. `label` names the row in messages.
pub(super) fn row_feature(
    cells: &[&str],
    headers: &[String],
    coords: Option<(usize, usize)>,
    layer: &mut RawLayer,
    label: &dyn Fn(&Map<String, Value>) -> String,
) -> (Option<Geometry<f64>>, Map<String, Value>) {
    let mut properties = Map::new();
    for (i, h) in headers.iter().enumerate() {
        if Some(i) == coords.map(|c| c.0) || Some(i) == coords.map(|c| c.1) {
            continue;
        }
        let v = cells.get(i).copied().unwrap_or("");
        properties.insert(
            h.clone(),
            if v.is_empty() {
                Value::Null
            } else {
                Value::String(v.to_owned())
            },
        );
    }
    let mut geometry = None;
    if let Some((lo, la)) = coords {
        let sx = cells.get(lo).copied().unwrap_or("");
        let sy = cells.get(la).copied().unwrap_or("");
        match (parse_coordinate(sx), parse_coordinate(sy)) {
            (Some(x), Some(y)) => geometry = Some(Geometry::Point(Point::new(x, y))),
            _ if sx.is_empty() && sy.is_empty() => {}
            _ => layer.warn(
                Some(label(&properties)),
                Some(&headers[lo]),
                crate::model::Said::new(
                    format!("coordinates '{sx}', '{sy}' are not numbers; point dropped"),
                    format!("坐标“{sx}”、“{sy}”不是数字；该点已丢弃"),
                ),
            ),
        }
    }
    (geometry, properties)
}

/// A coordinate as written in planners' tables: a decimal number, or degrees, minutes and
/// seconds (126°38′12″E, 45度45分N, N45°45'30"); W and S are negative. `None` when the
/// text is not one of these or a part is out of range (minutes or seconds ≥ 60).
pub fn parse_coordinate(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Ok(v) = t.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let mut sign = 1.0;
    let mut body = t.to_owned();
    for (p, neg) in [
        ("东经", false),
        ("北纬", false),
        ("西经", true),
        ("南纬", true),
    ] {
        if let Some(r) = body.strip_prefix(p) {
            body = r.to_owned();
            if neg {
                sign = -1.0;
            }
        }
    }
    let first = body.chars().next()?;
    let last = body.chars().last()?;
    for c in [first, last] {
        match c.to_ascii_uppercase() {
            'E' | 'N' => body = body.replacen(c, "", 1),
            'W' | 'S' => {
                body = body.replacen(c, "", 1);
                sign = -1.0;
            }
            _ => {}
        }
    }
    let parts: Vec<&str> = body
        .split(|c: char| "°º˚'′’\"″”度分秒 ".contains(c))
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || parts.len() > 3 || !body.chars().any(|c| "°º˚度".contains(c)) {
        return None;
    }
    let nums: Vec<f64> = parts
        .iter()
        .map(|p| p.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0))
        .collect::<Option<_>>()?;
    if nums.iter().skip(1).any(|v| *v >= 60.0) {
        return None;
    }
    let v = nums[0] + nums.get(1).unwrap_or(&0.0) / 60.0 + nums.get(2).unwrap_or(&0.0) / 3600.0;
    Some(sign * v)
}

/// The header row's separator: a comma if it has one, else a semicolon or tab (European
/// spreadsheets export `;`, database tools tab), whichever the header has more of.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    let count = |c: char| header.chars().filter(|x| *x == c).count();
    let (commas, semis, tabs) = (count(','), count(';'), count('\t'));
    if commas > 0 || (semis == 0 && tabs == 0) {
        b','
    } else if semis >= tabs {
        b';'
    } else {
        b'\t'
    }
}

#[cfg(test)]
mod tests {
    use super::parse_coordinate;

    #[test]
    fn degrees_minutes_seconds() {
        assert_eq!(parse_coordinate("126.5"), Some(126.5));
        assert_eq!(parse_coordinate("126°30′E"), Some(126.5));
        assert_eq!(parse_coordinate("45°45'36\"N"), Some(45.76));
        assert_eq!(parse_coordinate("N45°45′36″"), Some(45.76));
        assert_eq!(parse_coordinate("东经126度30分"), Some(126.5));
        assert_eq!(parse_coordinate("74°W"), Some(-74.0));
        assert_eq!(parse_coordinate("126°75′E"), None);
        assert_eq!(parse_coordinate("126 30"), None);
        assert_eq!(parse_coordinate("abc"), None);
        assert_eq!(parse_coordinate(""), None);
    }
}
