//! ESRI Shapefile: geometry from .shp/.shx (shapefile crate), attributes from .dbf (our
//! reader in [`super::dbf`]), CRS from .prj, encoding from .cpg.

use std::path::Path;

use super::crs::Crs;
use super::text::encoding_from_label;
use super::{RawFeature, RawLayer};
use crate::error::{Error, Result};
use crate::progress::{check, Progress};
use encoding_rs::Encoding;

pub fn read(
    path: &Path,
    encoding_override: Option<&str>,
    progress: &dyn Progress,
) -> Result<RawLayer> {
    let mut layer = RawLayer::new(path);
    let Some(dbf_path) = sibling(path, "dbf") else {
        return Err(Error::format_zh(
            path,
            "the attribute table (.dbf) is missing: a shapefile needs its .shp, .shx and .dbf side by side",
            "缺少属性表（.dbf）：Shapefile 需要 .shp、.shx、.dbf 放在同一文件夹",
        ));
    };
    if let Some(prj) = sibling(path, "prj") {
        if let Ok(wkt) = super::read_input_text(&prj) {
            layer.embedded_crs = Some(Crs::from_prj(&wkt));
        }
    }
    let declared = declared_encoding(path, encoding_override, &mut layer)?;
    let dbf_bytes = super::read_input(&dbf_path)?;
    let table = super::dbf::parse(&dbf_bytes, declared).map_err(|m| Error::format(&dbf_path, m))?;
    if table.used_gbk_fallback {
        layer.warn(
            None,
            None,
            crate::model::Said::new(
                "attribute text is not UTF-8 and there is no .cpg: decoded as GBK (add a .cpg containing 'GBK' to make this explicit)",
                "属性文本不是 UTF-8 且没有 .cpg：已按 GBK 解码（可添加内容为 'GBK' 的 .cpg 文件以明确编码）",
            ),
        );
    }
    let (mut reader, indexed) = open_shapes(path, &mut layer)?;
    // With the index the reader finds each record by offset and can go on after a bad
    // one; without it, it cannot resynchronise, and the first bad record ends the file.
    let limit = if indexed { MAX_UNREADABLE_IN_A_ROW } else { 1 };
    progress.stage(&super::display_name(path), Some(table.records.len() as u64));
    let mut records = table.records.into_iter().zip(table.deleted);
    let mut failures = 0;
    for (index, shape) in reader.iter_shapes().enumerate() {
        if index.is_multiple_of(1024) {
            check(progress)?;
            progress.advance(index as u64);
        }
        let Some((properties, deleted)) = records.next() else {
            layer.warn(
                Some(format!("#{index}")),
                None,
                crate::model::Said::new(
                    "more shapes than attribute records; extra shapes skipped",
                    "图形多于属性记录；多出的图形已跳过",
                ),
            );
            break;
        };
        let label = super::feature_label(index, &properties);
        let unreadable = shape.is_err();
        let Some(geometry) = geometry_of(shape, label, &mut layer) else {
            if unreadable && too_many_unreadable(&mut failures, limit, &mut layer) {
                break;
            }
            continue;
        };
        failures = 0;
        if deleted {
            continue;
        }
        layer.features.push(RawFeature {
            index,
            geometry,
            properties,
            node_ids: None,
        });
    }
    if records.next().is_some() {
        layer.warn(
            None,
            None,
            crate::model::Said::new(
                "fewer shapes than attribute records: the .shp and .dbf do not belong together?",
                "图形少于属性记录：.shp 与 .dbf 是否不配套？",
            ),
        );
    }
    Ok(layer)
}

/// The attribute encoding: the caller's override, else the .cpg's (warning when it names
/// none we know), else `None` (guessed per field).
fn declared_encoding(
    path: &Path,
    encoding_override: Option<&str>,
    layer: &mut RawLayer,
) -> Result<Option<&'static Encoding>> {
    if let Some(l) = encoding_override {
        return encoding_from_label(l).map(Some).ok_or_else(|| {
            Error::format_zh(
                path,
                format!("unknown encoding '{l}'"),
                format!("未知编码“{l}”（可用 UTF-8、GBK、GB18030 等）"),
            )
        });
    }
    let Some(cpg) = sibling(path, "cpg") else {
        return Ok(None);
    };
    let label = super::read_input_text(&cpg).unwrap_or_default();
    let enc = encoding_from_label(&label);
    if enc.is_none() {
        layer.warn(
            None,
            None,
            crate::model::Said::new(
                format!(
                    "unknown encoding '{}' in .cpg; guessing per field",
                    label.trim()
                ),
                format!(".cpg 中的编码“{}”未知；逐字段推测", label.trim()),
            ),
        );
    }
    Ok(enc)
}

type Shapes = shapefile::ShapeReader<std::io::BufReader<std::fs::File>>;

/// The shape reader, indexed by the .shx when there is one (sequential otherwise, with a
/// warning), and whether it is indexed.
fn open_shapes(path: &Path, layer: &mut RawLayer) -> Result<(Shapes, bool)> {
    let len = super::check_readable(path)?;
    {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        check_records(&mut std::io::BufReader::new(f), len).map_err(|m| Error::format(path, m))?;
    }
    let shp_file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let shx = sibling(path, "shx");
    let indexed = shx.is_some();
    match shx {
        Some(shx) => {
            super::check_readable(&shx)?;
            let shx_file = std::fs::File::open(&shx).map_err(|e| Error::io(&shx, e))?;
            shapefile::ShapeReader::with_shx(
                std::io::BufReader::new(shp_file),
                std::io::BufReader::new(shx_file),
            )
        }
        None => {
            layer.warn(
                None,
                None,
                crate::model::Said::new(
                    "the index (.shx) is missing; reading shapes sequentially",
                    "缺少索引文件（.shx）；按顺序读取图形",
                ),
            );
            shapefile::ShapeReader::new(std::io::BufReader::new(shp_file))
        }
    }
    .map(|r| (r, indexed))
    .map_err(|e| Error::format(path, format!("cannot read shapes: {e}")))
}

/// A shape's geometry: `Some(None)` for a null or unsupported shape (kept without
/// geometry), `None` for an unreadable one (skipped); both warned about.
fn geometry_of(
    shape: std::result::Result<shapefile::Shape, shapefile::Error>,
    label: String,
    layer: &mut RawLayer,
) -> Option<Option<geo::Geometry<f64>>> {
    match shape {
        Ok(shapefile::Shape::NullShape) => Some(None),
        Ok(s) => match geo::Geometry::<f64>::try_from(s) {
            Ok(g) => Some(Some(g)),
            Err(e) => {
                layer.warn(
                    Some(label),
                    Some("geometry"),
                    crate::model::Said::new(
                        format!("unsupported shape: {e:?}; geometry dropped"),
                        format!("不支持的图形：{e:?}；几何已丢弃"),
                    ),
                );
                Some(None)
            }
        },
        Err(e) => {
            layer.warn(
                Some(label),
                Some("geometry"),
                crate::model::Said::new(
                    format!("unreadable shape: {e}; skipped"),
                    format!("无法读取图形：{e}；已跳过"),
                ),
            );
            None
        }
    }
}

/// The side-car file with extension `ext` (any case), if it exists.
fn sibling(path: &Path, ext: &str) -> Option<std::path::PathBuf> {
    [ext.to_lowercase(), ext.to_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.exists())
}

/// The shapes of a `.shp` held in memory, read sequentially (no index, no attributes),
/// each through the same conversion and warnings as [`read`]: the entry point the fuzz
/// targets drive.
pub fn shapes_from_bytes(shp: &[u8], path: &Path) -> Result<RawLayer> {
    check_records(
        &mut std::io::BufReader::new(std::io::Cursor::new(shp)),
        shp.len() as u64,
    )
    .map_err(|m| Error::format(path, m))?;
    let mut layer = RawLayer::new(path);
    let mut reader = shapefile::ShapeReader::new(std::io::Cursor::new(shp))
        .map_err(|e| Error::format(path, format!("cannot read shapes: {e}")))?;
    let mut failures = 0;
    for (index, shape) in reader.iter_shapes().enumerate() {
        let unreadable = shape.is_err();
        let Some(geometry) = geometry_of(shape, format!("#{index}"), &mut layer) else {
            // Read sequentially: the reader cannot resynchronise after a bad record.
            if unreadable && too_many_unreadable(&mut failures, 1, &mut layer) {
                break;
            }
            continue;
        };
        failures = 0;
        layer.features.push(RawFeature {
            index,
            geometry,
            properties: Default::default(),
            node_ids: None,
        });
    }
    Ok(layer)
}

/// Unreadable shapes in a row after which an indexed file is given up (fuzzing found a
/// 220-byte file whose one bad record was reported without end).
const MAX_UNREADABLE_IN_A_ROW: usize = 10;

/// Counts one more unreadable shape; true (with a warning) once `limit` are reached in a
/// row and the rest of the file is to be skipped.
fn too_many_unreadable(failures: &mut usize, limit: usize, layer: &mut RawLayer) -> bool {
    *failures += 1;
    if *failures < limit {
        return false;
    }
    layer.warn(
        None,
        Some("geometry"),
        crate::model::Said::new(
            format!("{failures} unreadable shape(s) in a row: the rest of the file is skipped (is the .shp corrupt?)"),
            format!("连续 {failures} 个图形无法读取：文件其余部分已跳过（.shp 是否损坏？）"),
        ),
    );
    true
}

/// Checks every record of a `.shp` against the file's length before the shapefile reader
/// sees it: a record's stated size must fit in the file, and its part and point counts in
/// the record (the reader sizes its buffers from them: fuzzing found a 185-byte file that
/// asked for 4 GB). Reads at most 52 bytes per record.
pub fn check_records<R: std::io::Read + std::io::Seek>(
    r: &mut std::io::BufReader<R>,
    len: u64,
) -> std::result::Result<(), String> {
    use std::io::{Seek, SeekFrom};
    r.seek(SeekFrom::Start(100)).map_err(|e| e.to_string())?;
    let be = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64;
    let le = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64;
    let mut pos: u64 = 100;
    while pos + 8 <= len {
        let mut head = [0u8; 52];
        let n = read_up_to(r, &mut head).map_err(|e| e.to_string())?;
        let content = be(&head[4..8]) * 2;
        if content < 4 || pos + 8 + content as u64 > len {
            return Err(format!(
                "the record at byte {pos} says it is {content} bytes long, beyond the file's end ({len} bytes): the .shp is truncated or corrupt"
            ));
        }
        // The record lies within the file, so its first 4 bytes (the shape type) were read.
        let body = &head[8..n];
        let shape_type = le(&body[..4]);
        // The sizes a record of this type may have, from its part and point counts (the
        // spec's, with and without the optional M block): the reader reads exactly that
        // much and does not skip what is left, so any other size desynchronises it
        // (fuzzing: a null shape with 108 spare bytes, then a 25 GB multipoint).
        let sizes: Option<Vec<i64>> = match shape_type {
            0 => Some(vec![4]),
            1 => Some(vec![20]),
            21 => Some(vec![28]),
            11 => Some(vec![28, 36]),
            3 | 5 | 13 | 15 | 23 | 25 | 31 if body.len() >= 44 => {
                let (parts, points) = (le(&body[36..40]), le(&body[40..44]));
                let per_part = if shape_type == 31 { 8 } else { 4 };
                // Points without parts (or parts without points) is no shape either.
                let consistent = parts >= 0 && points >= 0 && (parts == 0) == (points == 0);
                consistent.then(|| {
                    let base = 44 + parts * per_part + points * 16;
                    let range = 16 + points * 8;
                    match shape_type {
                        3 | 5 => vec![base],
                        // The M block of an M type is optional in the spec.
                        23 | 25 => vec![base, base + range],
                        _ => vec![base + range, base + 2 * range],
                    }
                })
            }
            8 | 18 | 28 if body.len() >= 40 => {
                let points = le(&body[36..40]);
                (points >= 0).then(|| {
                    let (base, range) = (40 + points * 16, 16 + points * 8);
                    match shape_type {
                        8 => vec![base],
                        28 => vec![base, base + range],
                        _ => vec![base + range, base + 2 * range],
                    }
                })
            }
            // Not a shape type: the reader would fail mid-record and lose its place.
            _ => None,
        };
        if !sizes.is_some_and(|v| v.contains(&content)) {
            return Err(format!(
                "the record at byte {pos} (shape type {shape_type}) does not fit its {content} bytes: the .shp is corrupt"
            ));
        }
        // Forward within the buffer where it can (a seek would discard it every record).
        let next = pos + 8 + content as u64;
        // The part indices (after the 52 bytes read) must start at 0, rise, and stay
        // below the point count: the reader sizes each part from the next index.
        let mut at = pos + n as u64;
        if matches!(shape_type, 3 | 5 | 13 | 15 | 23 | 25 | 31) {
            let (parts, points) = (le(&body[36..40]), le(&body[40..44]));
            let mut idx = vec![0u8; parts as usize * 4];
            read_up_to(r, &mut idx).map_err(|e| e.to_string())?;
            at += idx.len() as u64;
            let starts: Vec<i64> = idx.chunks_exact(4).map(le).collect();
            let ordered = starts.first().is_none_or(|f| *f == 0)
                && starts.windows(2).all(|w| w[0] <= w[1])
                && starts.iter().all(|i| *i < points.max(1));
            if !ordered {
                return Err(format!(
                    "the record at byte {pos} has part indices that do not rise from 0 within its {points} points: the .shp is corrupt"
                ));
            }
        }
        r.seek_relative(next as i64 - at as i64)
            .map_err(|e| e.to_string())?;
        pos = next;
    }
    Ok(())
}

fn read_up_to<R: std::io::Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
