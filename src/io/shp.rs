//! ESRI Shapefile: geometry from .shp/.shx (shapefile crate), attributes from .dbf (our
//! reader in [`super::dbf`]), CRS from .prj, encoding from .cpg.

use std::path::Path;

use super::crs::Crs;
use super::text::encoding_from_label;
use super::{RawFeature, RawLayer};
use crate::error::{Error, Result};
use crate::progress::{check, Progress};

pub fn read(
    path: &Path,
    encoding_override: Option<&str>,
    progress: &dyn Progress,
) -> Result<RawLayer> {
    let mut layer = RawLayer::new(path);
    let dbf_path = sibling(path, "dbf");
    let shx_path = sibling(path, "shx");
    let Some(dbf_path) = dbf_path else {
        return Err(Error::format_zh(
            path,
            "the attribute table (.dbf) is missing: a shapefile needs its .shp, .shx and .dbf side by side",
            "缺少属性表（.dbf）：Shapefile 需要 .shp、.shx、.dbf 放在同一文件夹",
        ));
    };
    if let Some(prj) = sibling(path, "prj") {
        if let Ok(wkt) = std::fs::read_to_string(&prj) {
            layer.embedded_crs = Some(Crs::from_prj(&wkt));
        }
    }
    let declared = match encoding_override {
        Some(l) => Some(encoding_from_label(l).ok_or_else(|| {
            Error::format_zh(
                path,
                format!("unknown encoding '{l}'"),
                format!("未知编码“{l}”（可用 UTF-8、GBK、GB18030 等）"),
            )
        })?),
        None => match sibling(path, "cpg") {
            Some(cpg) => {
                let label = std::fs::read_to_string(&cpg).unwrap_or_default();
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
                enc
            }
            None => None,
        },
    };
    let dbf_bytes = std::fs::read(&dbf_path).map_err(|e| Error::io(&dbf_path, e))?;
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
    let shp_file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = match &shx_path {
        Some(shx) => {
            let shx_file = std::fs::File::open(shx).map_err(|e| Error::io(shx, e))?;
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
    .map_err(|e| Error::format(path, format!("cannot read shapes: {e}")))?;
    progress.stage(
        &super::geojson::display_name(path),
        Some(table.records.len() as u64),
    );
    let mut records = table.records.into_iter().zip(table.deleted);
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
        let geometry = match shape {
            Ok(shapefile::Shape::NullShape) => None,
            Ok(s) => match geo::Geometry::<f64>::try_from(s) {
                Ok(g) => Some(g),
                Err(e) => {
                    layer.warn(
                        Some(label),
                        Some("geometry"),
                        crate::model::Said::new(
                            format!("unsupported shape: {e:?}; geometry dropped"),
                            format!("不支持的图形：{e:?}；几何已丢弃"),
                        ),
                    );
                    None
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
                continue;
            }
        };
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

/// The side-car file with extension `ext` (any case), if it exists.
fn sibling(path: &Path, ext: &str) -> Option<std::path::PathBuf> {
    [ext.to_lowercase(), ext.to_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.exists())
}
