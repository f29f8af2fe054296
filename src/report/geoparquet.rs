//! The report as GeoParquet 1.1: the format a national roll-up reads. Coverage is local to a
//! province, so a national run is one `analyze` per province; Spark/Sedona, DuckDB or
//! GeoPandas then read every province's folder as one table (README, "Past one machine").
//!
//! A folder holds:
//! - `units.parquet` — every unit with its shape (WGS84 WKB; null for a unit without one),
//!   population and overall status;
//! - `unit_rules.parquet` — one row per unit and rule (status, deficit, value, uncovered
//!   people and points), plain Parquet: the long table SQL groups by;
//! - `uncovered_grid.parquet` — uncovered people per rule on the grid, cells as polygons;
//! - `uncovered_demand.parquet` — with `--uncovered points`, every uncovered point.
//!
//! Every row carries `dataset`, so outputs of several provinces can be read as one table.
//! Rows go out in row groups of [`ROW_GROUP`], so the writer holds one group, not the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::uncovered::{Aggregates, UncoveredExport};
use crate::coverage::analysis::Report;
use crate::error::{Error, Result};
use crate::model::Dataset;

/// Rows per row group: a group's columns are what the writer holds in memory.
pub const ROW_GROUP: usize = 65_536;

/// The files [`write_dir`] writes, in order (the last only with every point).
pub const FILES: [&str; 4] = [
    "units.parquet",
    "unit_rules.parquet",
    "uncovered_grid.parquet",
    "uncovered_demand.parquet",
];

/// A column's type.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Num,
    Int,
    Bool,
    /// The geometry column, WKB.
    Wkb,
}

/// One cell of a row.
enum Cell {
    Text(Option<String>),
    Num(Option<f64>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Wkb(Option<Vec<u8>>),
}

/// A row group's values of one column, with its definition levels (1 = present).
struct Buffer {
    def: Vec<i16>,
    text: Vec<ByteArray>,
    num: Vec<f64>,
    int: Vec<i64>,
    bool: Vec<bool>,
}

impl Buffer {
    fn new() -> Self {
        Buffer {
            def: Vec::new(),
            text: Vec::new(),
            num: Vec::new(),
            int: Vec::new(),
            bool: Vec::new(),
        }
    }
    fn push(&mut self, c: Cell) {
        let present = match c {
            Cell::Text(v) => v.map(|s| self.text.push(ByteArray::from(s.into_bytes()))),
            Cell::Wkb(v) => v.map(|b| self.text.push(ByteArray::from(b))),
            Cell::Num(v) => v.map(|x| self.num.push(x)),
            Cell::Int(v) => v.map(|x| self.int.push(x)),
            Cell::Bool(v) => v.map(|x| self.bool.push(x)),
        }
        .is_some();
        self.def.push(present as i16);
    }
    fn clear(&mut self) {
        self.def.clear();
        self.text.clear();
        self.num.clear();
        self.int.clear();
        self.bool.clear();
    }
}

/// What GeoParquet's `geo` metadata says of the geometry column, gathered while writing.
struct GeoStats {
    types: Vec<&'static str>,
    bbox: [f64; 4],
}

impl GeoStats {
    fn new() -> Self {
        GeoStats {
            types: Vec::new(),
            bbox: [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
        }
    }
    fn add(&mut self, g: &geo::Geometry<f64>) {
        use geo::BoundingRect;
        let t = match g {
            geo::Geometry::Point(_) => "Point",
            geo::Geometry::Polygon(_) => "Polygon",
            geo::Geometry::MultiPolygon(_) => "MultiPolygon",
            geo::Geometry::LineString(_) => "LineString",
            geo::Geometry::MultiLineString(_) => "MultiLineString",
            geo::Geometry::MultiPoint(_) => "MultiPoint",
            _ => "GeometryCollection",
        };
        if !self.types.contains(&t) {
            self.types.push(t);
        }
        if let Some(r) = g.bounding_rect() {
            self.bbox[0] = self.bbox[0].min(r.min().x);
            self.bbox[1] = self.bbox[1].min(r.min().y);
            self.bbox[2] = self.bbox[2].max(r.max().x);
            self.bbox[3] = self.bbox[3].max(r.max().y);
        }
    }
    /// GeoParquet 1.1 file metadata: WKB, WGS84 longitude/latitude (`crs` left out means
    /// OGC:CRS84 by the specification).
    fn metadata(&self) -> String {
        let mut types = self.types.clone();
        types.sort_unstable();
        let mut col = serde_json::json!({"encoding": "WKB", "geometry_types": types});
        if self.bbox[0].is_finite() {
            col["bbox"] = serde_json::json!(self.bbox);
        }
        serde_json::json!({
            "version": "1.1.0",
            "primary_column": "geometry",
            "columns": {"geometry": col},
        })
        .to_string()
    }
}

/// A table being written: its columns, the open file and the row group being filled.
struct TableWriter {
    path: PathBuf,
    kinds: Vec<Kind>,
    buffers: Vec<Buffer>,
    rows: usize,
    writer: SerializedFileWriter<std::fs::File>,
    geo: Option<GeoStats>,
}

impl TableWriter {
    /// A table of `columns` into `tmp` (moved to `path` by [`finish`]); a column of kind
    /// [`Kind::Wkb`] makes it GeoParquet.
    fn new(path: &Path, tmp: std::fs::File, columns: &[(&str, Kind)]) -> Result<Self> {
        use parquet::basic::{LogicalType, Repetition, Type as Physical};
        let fields = columns
            .iter()
            .map(|(name, kind)| {
                let (physical, logical) = match kind {
                    Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                    Kind::Wkb => (Physical::BYTE_ARRAY, None),
                    Kind::Num => (Physical::DOUBLE, None),
                    Kind::Int => (Physical::INT64, None),
                    Kind::Bool => (Physical::BOOLEAN, None),
                };
                Type::primitive_type_builder(name, physical)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| pq_err(path, e))?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(|e| pq_err(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_created_by(format!("CareCircle {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(tmp, Arc::new(schema), Arc::new(props))
            .map_err(|e| pq_err(path, e))?;
        let kinds: Vec<Kind> = columns.iter().map(|c| c.1).collect();
        Ok(TableWriter {
            path: path.to_owned(),
            geo: kinds.contains(&Kind::Wkb).then(GeoStats::new),
            buffers: kinds.iter().map(|_| Buffer::new()).collect(),
            kinds,
            rows: 0,
            writer,
        })
    }

    /// The geometry's statistics for the metadata, then its WKB for the row.
    fn geometry(&mut self, g: Option<&geo::Geometry<f64>>) -> Cell {
        Cell::Wkb(g.map(|g| {
            if let Some(s) = &mut self.geo {
                s.add(g);
            }
            let mut out = Vec::new();
            crate::io::gpkg::write_wkb(g, &mut out);
            out
        }))
    }

    fn row(&mut self, cells: Vec<Cell>) -> Result<()> {
        debug_assert_eq!(cells.len(), self.kinds.len());
        for (b, c) in self.buffers.iter_mut().zip(cells) {
            b.push(c);
        }
        self.rows += 1;
        if self.rows == ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |e| pq_err(&path, e);
        let mut rg = self.writer.next_row_group().map_err(err)?;
        let mut k = 0;
        while let Some(mut col) = rg.next_column().map_err(err)? {
            let b = &self.buffers[k];
            let def = Some(&b.def[..]);
            match self.kinds[k] {
                Kind::Text | Kind::Wkb => {
                    col.typed::<ByteArrayType>().write_batch(&b.text, def, None)
                }
                Kind::Num => col.typed::<DoubleType>().write_batch(&b.num, def, None),
                Kind::Int => col.typed::<Int64Type>().write_batch(&b.int, def, None),
                Kind::Bool => col.typed::<BoolType>().write_batch(&b.bool, def, None),
            }
            .map_err(err)?;
            col.close().map_err(err)?;
            k += 1;
        }
        rg.close().map_err(err)?;
        self.buffers.iter_mut().for_each(Buffer::clear);
        self.rows = 0;
        Ok(())
    }

    /// The last row group and the footer (with the `geo` metadata).
    fn finish(mut self) -> Result<()> {
        self.flush()?;
        if let Some(g) = &self.geo {
            self.writer
                .append_key_value_metadata(KeyValue::new("geo".to_owned(), g.metadata()));
        }
        let path = self.path.clone();
        self.writer.close().map_err(|e| pq_err(&path, e))?;
        Ok(())
    }
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(format!("Parquet: {e}")))
}

/// Writes one table through a temporary file (the Parquet writer wants a file of its own),
/// then into `path` with [`crate::io::write::write_atomic_with`]'s guarantees: the target
/// is the old or the new file, never half of one; a symlink is written through.
fn write_table(
    path: &Path,
    columns: &[(&str, Kind)],
    fill: &mut dyn FnMut(&mut TableWriter) -> Result<()>,
) -> Result<()> {
    let tmp_path = std::env::temp_dir().join(format!(
        "carecircle-{}-{}.parquet.part",
        std::process::id(),
        TMP_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = (|| {
        let tmp = std::fs::File::create(&tmp_path).map_err(|e| Error::io(&tmp_path, e))?;
        let mut t = TableWriter::new(path, tmp, columns)?;
        fill(&mut t)?;
        t.finish()?;
        let mut src = std::fs::File::open(&tmp_path).map_err(|e| Error::io(&tmp_path, e))?;
        crate::io::write::write_atomic_with(path, &mut |w| std::io::copy(&mut src, w).map(|_| ()))
    })();
    let _ = std::fs::remove_file(&tmp_path);
    result
}

static TMP_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Writes the GeoParquet folder (see the module's text) for `report` on `ds`.
pub fn write_dir(
    report: &Report,
    ds: &Dataset,
    agg: &Aggregates,
    dir: &Path,
    how: &UncoveredExport,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = || Cell::Text(Some(ds.name.clone()));
    let to_wgs = |g: &geo::MultiPolygon<f64>| {
        use geo::MapCoords;
        geo::Geometry::MultiPolygon(g.map_coords(|c| {
            let (lon, lat) = ds.projection.inverse(c.x, c.y);
            geo::Coord { x: lon, y: lat }
        }))
    };
    use Kind::*;
    write_table(
        &dir.join(FILES[0]),
        &[
            ("dataset", Text),
            ("code", Text),
            ("name", Text),
            ("level", Text),
            ("parent_code", Text),
            ("population", Num),
            ("pop_60plus", Num),
            ("pop_0_3", Num),
            ("nursery_places", Num),
            ("nursery_places_per_1000", Num),
            ("status", Text),
            ("geometry", Wkb),
        ],
        &mut |t| {
            for u in &report.units {
                let g = ds.unit(u.id).geometry.as_ref().map(to_wgs);
                let geometry = t.geometry(g.as_ref());
                t.row(vec![
                    name(),
                    Cell::Text(Some(u.code.clone())),
                    Cell::Text(Some(u.name.clone())),
                    Cell::Text(Some(u.level.key().to_owned())),
                    Cell::Text(u.parent_code.clone()),
                    Cell::Num(u.population),
                    Cell::Num(u.pop_60plus),
                    Cell::Num(u.pop_0_3),
                    Cell::Num(Some(u.nursery_places)),
                    Cell::Num(u.nursery_places_per_1000),
                    Cell::Text(Some(super::unit_status(u).to_owned())),
                    geometry,
                ])?;
            }
            Ok(())
        },
    )?;
    let mut gaps: HashMap<(&str, &str), (u32, f64)> = HashMap::new();
    for g in &agg.by_unit {
        gaps.insert((&g.unit_code, &g.rule), (g.points, g.people));
    }
    write_table(
        &dir.join(FILES[1]),
        &[
            ("dataset", Text),
            ("unit_code", Text),
            ("level", Text),
            ("rule", Text),
            ("status", Text),
            ("pass", Bool),
            ("deficit", Num),
            ("value", Num),
            ("uncovered_points", Int),
            ("uncovered_people", Num),
        ],
        &mut |t| {
            for u in &report.units {
                for (id, s) in &u.rules {
                    let gap = gaps.get(&(u.code.as_str(), id.as_str()));
                    t.row(vec![
                        name(),
                        Cell::Text(Some(u.code.clone())),
                        Cell::Text(Some(u.level.key().to_owned())),
                        Cell::Text(Some(id.clone())),
                        Cell::Text(Some(s.status.key().to_owned())),
                        Cell::Bool(s.pass),
                        Cell::Num(s.deficit),
                        Cell::Num(s.value),
                        Cell::Int(gap.map(|g| g.0 as i64)),
                        Cell::Num(gap.map(|g| g.1)),
                    ])?;
                }
            }
            Ok(())
        },
    )?;
    write_table(
        &dir.join(FILES[2]),
        &[
            ("dataset", Text),
            ("rule", Text),
            ("cell_m", Num),
            ("ix", Int),
            ("iy", Int),
            ("lon", Num),
            ("lat", Num),
            ("points", Int),
            ("people", Num),
            ("geometry", Wkb),
        ],
        &mut |t| {
            for c in &agg.cells {
                let ring: Vec<geo::Coord<f64>> = agg
                    .ring(ds, c)
                    .iter()
                    .map(|p| geo::Coord { x: p[0], y: p[1] })
                    .collect();
                let cell = geo::Geometry::Polygon(geo::Polygon::new(ring.into(), vec![]));
                let geometry = t.geometry(Some(&cell));
                t.row(vec![
                    name(),
                    Cell::Text(Some(c.rule.to_string())),
                    Cell::Num(Some(agg.cell_m)),
                    Cell::Int(Some(c.ix)),
                    Cell::Int(Some(c.iy)),
                    Cell::Num(Some(c.lon)),
                    Cell::Num(Some(c.lat)),
                    Cell::Int(Some(c.points as i64)),
                    Cell::Num(Some(c.people)),
                    geometry,
                ])?;
            }
            Ok(())
        },
    )?;
    if how.points {
        write_table(
            &dir.join(FILES[3]),
            &[
                ("dataset", Text),
                ("rule", Text),
                ("demand_id", Text),
                ("unit_code", Text),
                ("people", Num),
                ("geometry", Wkb),
            ],
            &mut |t| {
                for p in &report.uncovered {
                    let (lon, lat) = p.lon_lat(&ds.projection);
                    let pt = geo::Geometry::Point(geo::Point::new(lon, lat));
                    let geometry = t.geometry(Some(&pt));
                    t.row(vec![
                        name(),
                        Cell::Text(Some(p.rule.to_string())),
                        Cell::Text(p.source_id.as_deref().map(str::to_owned)),
                        Cell::Text(Some(p.unit_code.to_string())),
                        Cell::Num(Some(p.people)),
                        geometry,
                    ])?;
                }
                Ok(())
            },
        )?;
    }
    Ok(())
}
