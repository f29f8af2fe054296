//! GeoPackage (OGC 12-128r18) in and out: each feature table is a layer, with its SRS.
//!
//! SQLite is compiled in (rusqlite `bundled`), so no system library is needed. Geometries
//! are the GeoPackage binary: a short header (magic `GP`, flags, SRS id, optional envelope)
//! followed by standard WKB, read and written here by hand (points, lines, polygons and
//! their multi forms; Z/M values are dropped on read).

use std::path::{Path, PathBuf};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use serde_json::{Map, Value};

use super::{RawFeature, RawLayer};
use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::progress::{check, Progress};

/// A feature table as `gpkg_contents` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableInfo {
    pub name: String,
    pub geometry_column: String,
    /// POINT, MULTIPOLYGON, GEOMETRY …
    pub geometry_type: String,
    pub srs_id: i64,
}

impl TableInfo {
    pub fn is_point(&self) -> bool {
        matches!(
            self.geometry_type.to_uppercase().as_str(),
            "POINT" | "MULTIPOINT"
        )
    }
}

fn sql_err(path: &Path, table: Option<&str>, e: impl std::fmt::Display) -> Error {
    match table {
        Some(t) => Error::format_zh(
            path,
            format!("GeoPackage table '{t}': {e}"),
            format!("GeoPackage 表“{t}”：{e}"),
        ),
        None => Error::format_zh(
            path,
            format!("not a readable GeoPackage: {e}"),
            format!("不是可读取的 GeoPackage：{e}"),
        ),
    }
}

fn open(path: &Path) -> Result<Connection> {
    crate::files::check_readable(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(path, None, e))?;
    // A corrupt or foreign file fails here, before any table is named.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| sql_err(path, None, e))?;
    Ok(conn)
}

/// The feature tables of a GeoPackage, in `gpkg_contents` order.
pub fn tables(path: &Path) -> Result<Vec<TableInfo>> {
    let conn = open(path)?;
    tables_of(&conn, path)
}

fn tables_of(conn: &Connection, path: &Path) -> Result<Vec<TableInfo>> {
    let mut st = conn
        .prepare(
            "SELECT c.table_name, g.column_name, g.geometry_type_name, g.srs_id \
             FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
             WHERE c.data_type = 'features' ORDER BY c.rowid",
        )
        .map_err(|e| sql_err(path, None, format!("no GeoPackage feature tables ({e})")))?;
    let rows = st
        .query_map([], |r| {
            Ok(TableInfo {
                name: r.get(0)?,
                geometry_column: r.get(1)?,
                geometry_type: r.get(2)?,
                srs_id: r.get(3)?,
            })
        })
        .map_err(|e| sql_err(path, None, e))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| sql_err(path, None, e))
}

/// The table `table` names, or the only one; an error listing them otherwise.
pub fn pick_table(path: &Path, table: Option<&str>) -> Result<TableInfo> {
    pick_in(&open(path)?, path, table)
}

fn pick_in(conn: &Connection, path: &Path, table: Option<&str>) -> Result<TableInfo> {
    let all = tables_of(conn, path)?;
    let names = || {
        all.iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match table {
        Some(t) => all.iter().find(|x| x.name == t).cloned().ok_or_else(|| {
            Error::format_zh(
                path,
                format!("no feature table '{t}' (tables: {})", names()),
                format!("没有要素表“{t}”（现有：{}）", names()),
            )
        }),
        None if all.len() == 1 => Ok(all[0].clone()),
        None if all.is_empty() => Err(Error::format_zh(
            path,
            "the GeoPackage has no feature tables",
            "该 GeoPackage 中没有要素表",
        )),
        None => Err(Error::format_zh(
            path,
            format!(
                "the GeoPackage has several feature tables ({}): name one with `table = \"…\"`",
                names()
            ),
            format!(
                "该 GeoPackage 有多个要素表（{}）：请用 table = \"…\" 指定",
                names()
            ),
        )),
    }
}

/// The CRS of SRS `srs_id`: EPSG codes by number, other organisations by their WKT.
/// `Ok(None)` for the "undefined" systems (0, -1); an error naming the table when the SRS
/// is missing or says nothing usable.
fn srs_of(conn: &Connection, path: &Path, t: &TableInfo) -> Result<Option<Crs>> {
    if t.srs_id == 0 || t.srs_id == -1 {
        return Ok(None);
    }
    let row: Option<(String, i64, String)> = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition \
             FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [t.srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok();
    match row {
        Some((org, code, _)) if org.eq_ignore_ascii_case("EPSG") && code > 0 => {
            Crs::parse(&format!("EPSG:{code}")).map(Some)
        }
        Some((_, _, def)) if def.trim_start().len() > 10 && def.contains('[') => {
            Ok(Some(Crs::from_prj(&def)))
        }
        _ => Err(Error::format_zh(
            path,
            format!(
                "GeoPackage table '{}': unknown SRS {} (not EPSG, no definition): declare the CRS in the manifest (`crs = \"EPSG:…\"`)",
                t.name, t.srs_id
            ),
            format!(
                "GeoPackage 表“{}”：未知坐标系 {}（非 EPSG、无定义）：请在清单中声明 crs",
                t.name, t.srs_id
            ),
        )),
    }
}

/// Reads feature table `table` (or the only one). `crs_declared`: the manifest names the
/// CRS, so an unknown SRS in the file is not an error.
pub fn read(
    path: &Path,
    table: Option<&str>,
    crs_declared: bool,
    progress: &dyn Progress,
) -> Result<RawLayer> {
    let conn = open(path)?;
    let t = pick_in(&conn, path, table)?;
    let mut layer = RawLayer::new(path);
    layer.embedded_crs = match srs_of(&conn, path, &t) {
        Ok(c) => c,
        Err(_) if crs_declared => None,
        Err(e) => return Err(e),
    };
    let q = format!("SELECT * FROM {}", quote(&t.name));
    let mut st = conn
        .prepare(&q)
        .map_err(|e| sql_err(path, Some(&t.name), e))?;
    let columns: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
    // The row id is the feature's id only where the table has no id column of its own
    // (编号, id …): then it is kept as `fid`, else as `gpkg_fid`.
    let pk = primary_key(&conn, &t.name);
    let own_id = columns.iter().any(|c| {
        Some(c) != pk.as_ref() && super::fields::default_names("id").contains(&c.as_str())
    });
    let pk_name = if own_id { "gpkg_fid" } else { "fid" };
    progress.stage(&format!("{} · {}", super::display_name(path), t.name), None);
    let mut rows = st.query([]).map_err(|e| sql_err(path, Some(&t.name), e))?;
    let mut index = 0usize;
    while let Some(row) = rows.next().map_err(|e| sql_err(path, Some(&t.name), e))? {
        if index.is_multiple_of(4096) {
            check(progress)?;
        }
        let mut properties = Map::new();
        let mut geometry = None;
        for (i, c) in columns.iter().enumerate() {
            let v = row
                .get_ref(i)
                .map_err(|e| sql_err(path, Some(&t.name), e))?;
            if *c == t.geometry_column {
                if let ValueRef::Blob(b) = v {
                    match parse_gpkg_geometry(b) {
                        Ok(g) => geometry = g,
                        Err(m) => layer.warn(
                            Some(format!("{} #{index}", t.name)),
                            Some(c),
                            crate::model::Said::new(
                                format!("unreadable geometry ({m}); feature kept without it"),
                                format!("几何无法读取（{m}）；要素保留但无几何"),
                            ),
                        ),
                    }
                }
                continue;
            }
            let value = match v {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(x) => {
                    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                }
                ValueRef::Text(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
                ValueRef::Blob(_) => continue,
            };
            let key = if Some(c) == pk.as_ref() {
                pk_name.to_owned()
            } else {
                c.clone()
            };
            properties.insert(key, value);
        }
        layer.features.push(RawFeature {
            index,
            geometry,
            properties,
            node_ids: None,
        });
        index += 1;
    }
    Ok(layer)
}

fn primary_key(conn: &Connection, table: &str) -> Option<String> {
    let mut st = conn
        .prepare(&format!("PRAGMA table_info({})", quote(table)))
        .ok()?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))
        .ok()?;
    let cols: Vec<(String, i64)> = rows.filter_map(|r| r.ok()).collect();
    cols.into_iter().find(|(_, pk)| *pk == 1).map(|(n, _)| n)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

// ---------------------------------------------------------------------------------------
// Geometry: GeoPackage header + WKB.

/// A GeoPackage geometry blob → geometry (`None` for the empty geometry).
pub fn parse_gpkg_geometry(b: &[u8]) -> std::result::Result<Option<Geometry<f64>>, String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = b[3];
    if flags & 0b10_0000 != 0 {
        return Err("extended GeoPackage geometry types are not supported".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("bad envelope code {e}")),
    };
    let start = 8 + envelope;
    if b.len() < start {
        return Err("truncated header".into());
    }
    if flags & 0b1_0000 != 0 {
        return Ok(None);
    }
    let mut r = Wkb {
        b: &b[start..],
        at: 0,
    };
    r.geometry().map(Some)
}

struct Wkb<'a> {
    b: &'a [u8],
    at: usize,
}

impl Wkb<'_> {
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or("truncated WKB")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self, le: bool) -> std::result::Result<u32, String> {
        let s: [u8; 4] = self.take(4)?.try_into().expect("4 bytes");
        Ok(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }
    fn f64(&mut self, le: bool) -> std::result::Result<f64, String> {
        let s: [u8; 8] = self.take(8)?.try_into().expect("8 bytes");
        Ok(if le {
            f64::from_le_bytes(s)
        } else {
            f64::from_be_bytes(s)
        })
    }
    /// A count, checked against the bytes left (so a corrupt count cannot allocate GBs).
    fn count(&mut self, le: bool, min_bytes_each: usize) -> std::result::Result<usize, String> {
        let n = self.u32(le)? as usize;
        if n.saturating_mul(min_bytes_each) > self.b.len() - self.at {
            return Err(format!("count {n} exceeds the data"));
        }
        Ok(n)
    }
    fn coord(&mut self, le: bool, dims: usize) -> std::result::Result<Coord<f64>, String> {
        let x = self.f64(le)?;
        let y = self.f64(le)?;
        for _ in 2..dims {
            self.f64(le)?;
        }
        Ok(Coord { x, y })
    }
    fn line(&mut self, le: bool, dims: usize) -> std::result::Result<LineString<f64>, String> {
        let n = self.count(le, 8 * dims)?;
        (0..n)
            .map(|_| self.coord(le, dims))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(LineString::new)
    }
    fn polygon(&mut self, le: bool, dims: usize) -> std::result::Result<Polygon<f64>, String> {
        let n = self.count(le, 4)?;
        let mut rings = (0..n)
            .map(|_| self.line(le, dims))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if rings.is_empty() {
            return Ok(Polygon::new(LineString::new(vec![]), vec![]));
        }
        let outer = rings.remove(0);
        Ok(Polygon::new(outer, rings))
    }
    fn geometry(&mut self) -> std::result::Result<Geometry<f64>, String> {
        let order = self.take(1)?[0];
        let le = match order {
            0 => false,
            1 => true,
            o => return Err(format!("bad byte order {o}")),
        };
        let raw = self.u32(le)?;
        // ISO WKB (1000 = Z, 2000 = M, 3000 = ZM) and EWKB flags.
        let ewkb_z = raw & 0x8000_0000 != 0;
        let ewkb_m = raw & 0x4000_0000 != 0;
        let code = raw & 0x0FFF_FFFF;
        let (kind, dims) = match code / 1000 {
            0 => (code, 2 + usize::from(ewkb_z) + usize::from(ewkb_m)),
            1 | 2 => (code % 1000, 3),
            3 => (code % 1000, 4),
            _ => return Err(format!("unknown geometry type {raw}")),
        };
        if raw & 0x2000_0000 != 0 {
            self.u32(le)?; // EWKB SRID
        }
        Ok(match kind {
            1 => Geometry::Point(Point(self.coord(le, dims)?)),
            2 => Geometry::LineString(self.line(le, dims)?),
            3 => Geometry::Polygon(self.polygon(le, dims)?),
            4..=7 => {
                let n = self.count(le, 5)?;
                let parts = (0..n)
                    .map(|_| self.geometry())
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let wrong = || format!("a part of the wrong type in a type-{kind} collection");
                match kind {
                    4 => Geometry::MultiPoint(MultiPoint(
                        parts
                            .into_iter()
                            .map(|g| {
                                if let Geometry::Point(p) = g {
                                    Ok(p)
                                } else {
                                    Err(wrong())
                                }
                            })
                            .collect::<std::result::Result<_, _>>()?,
                    )),
                    5 => Geometry::MultiLineString(MultiLineString(
                        parts
                            .into_iter()
                            .map(|g| {
                                if let Geometry::LineString(p) = g {
                                    Ok(p)
                                } else {
                                    Err(wrong())
                                }
                            })
                            .collect::<std::result::Result<_, _>>()?,
                    )),
                    6 => Geometry::MultiPolygon(MultiPolygon(
                        parts
                            .into_iter()
                            .map(|g| {
                                if let Geometry::Polygon(p) = g {
                                    Ok(p)
                                } else {
                                    Err(wrong())
                                }
                            })
                            .collect::<std::result::Result<_, _>>()?,
                    )),
                    _ => Geometry::GeometryCollection(geo::GeometryCollection(parts)),
                }
            }
            k => return Err(format!("unsupported geometry type {k}")),
        })
    }
}

/// A geometry as GeoPackage binary (little endian, XY envelope, SRS `srs_id`).
pub fn gpkg_geometry(g: &Geometry<f64>, srs_id: i32) -> Vec<u8> {
    use geo::BoundingRect;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"GP");
    out.push(0);
    let rect = g.bounding_rect();
    let flags = if rect.is_some() {
        0b0000_0011
    } else {
        0b0001_0001
    };
    out.push(flags);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some(r) = rect {
        for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    write_wkb(g, &mut out);
    out
}

/// `g` as little-endian WKB (GeoPackage and GeoParquet share it).
pub(crate) fn write_wkb(g: &Geometry<f64>, out: &mut Vec<u8>) {
    let head = |out: &mut Vec<u8>, t: u32| {
        out.push(1);
        out.extend_from_slice(&t.to_le_bytes());
    };
    let coords = |out: &mut Vec<u8>, l: &LineString<f64>| {
        out.extend_from_slice(&(l.0.len() as u32).to_le_bytes());
        for c in &l.0 {
            out.extend_from_slice(&c.x.to_le_bytes());
            out.extend_from_slice(&c.y.to_le_bytes());
        }
    };
    let polygon = |out: &mut Vec<u8>, p: &Polygon<f64>| {
        out.extend_from_slice(&(1 + p.interiors().len() as u32).to_le_bytes());
        coords(out, p.exterior());
        for r in p.interiors() {
            coords(out, r);
        }
    };
    match g {
        Geometry::Point(p) => {
            head(out, 1);
            out.extend_from_slice(&p.x().to_le_bytes());
            out.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::LineString(l) => {
            head(out, 2);
            coords(out, l);
        }
        Geometry::Polygon(p) => {
            head(out, 3);
            polygon(out, p);
        }
        Geometry::MultiPoint(m) => {
            head(out, 4);
            out.extend_from_slice(&(m.0.len() as u32).to_le_bytes());
            for p in &m.0 {
                write_wkb(&Geometry::Point(*p), out);
            }
        }
        Geometry::MultiLineString(m) => {
            head(out, 5);
            out.extend_from_slice(&(m.0.len() as u32).to_le_bytes());
            for l in &m.0 {
                head(out, 2);
                coords(out, l);
            }
        }
        Geometry::MultiPolygon(m) => {
            head(out, 6);
            out.extend_from_slice(&(m.0.len() as u32).to_le_bytes());
            for p in &m.0 {
                head(out, 3);
                polygon(out, p);
            }
        }
        other => {
            // Lines, rects and triangles are written as what they are drawn as.
            let gc: Vec<Geometry<f64>> = match other {
                Geometry::GeometryCollection(c) => c.0.clone(),
                Geometry::Rect(r) => vec![Geometry::Polygon(r.to_polygon())],
                Geometry::Triangle(t) => vec![Geometry::Polygon(t.to_polygon())],
                Geometry::Line(l) => {
                    vec![Geometry::LineString(LineString::from(vec![l.start, l.end]))]
                }
                _ => Vec::new(),
            };
            head(out, 7);
            out.extend_from_slice(&(gc.len() as u32).to_le_bytes());
            for x in &gc {
                write_wkb(x, out);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Writing.

/// One table to write: its name and GeoJSON features (WGS84) as the exports build them.
pub struct OutTable<'a> {
    pub name: &'a str,
    pub features: &'a [Value],
}

const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]]";

/// Writes `tables` as one GeoPackage (WGS84), atomically: built in a temporary file, then
/// put in place by [`super::write::write_atomic`], so the user's file is the old or the new
/// one, never half of each.
pub fn write(path: &Path, tables: &[OutTable]) -> Result<()> {
    let tmp = temp_path();
    let built = build(&tmp, tables);
    let result = built.and_then(|_| {
        let bytes = std::fs::read(&tmp).map_err(|e| Error::io(&tmp, e))?;
        super::write::write_atomic(path, &bytes)
    });
    let _ = std::fs::remove_file(&tmp);
    result.map_err(|e| match e {
        Error::Format { message, zh, .. } => Error::Format {
            path: path.to_owned(),
            message,
            zh,
        },
        e => e,
    })
}

/// Writes one collection of features as a GeoPackage: a table per `feature_type` when the
/// features say theirs (units, uncovered demand …), else one table named after the file.
pub fn write_collection(path: &Path, features: &[Value]) -> Result<()> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "features".into());
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for f in features {
        let name = f["properties"]["feature_type"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| stem.clone());
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(f.clone()),
            None => groups.push((name, vec![f.clone()])),
        }
    }
    if groups.is_empty() {
        groups.push((stem, Vec::new()));
    }
    let tables: Vec<OutTable> = groups
        .iter()
        .map(|(n, f)| OutTable {
            name: n,
            features: f,
        })
        .collect();
    write(path, &tables)
}

/// True when `path` names a GeoPackage (by extension): GeoJSON outputs write one instead.
pub fn is_gpkg(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("gpkg"))
}

fn temp_path() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "carecircle-{}-{}.gpkg",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

fn build(tmp: &Path, tables: &[OutTable]) -> Result<()> {
    let _ = std::fs::remove_file(tmp);
    let err = |e: rusqlite::Error| Error::format(tmp, e.to_string());
    let mut conn = Connection::open(tmp).map_err(err)?;
    conn.execute_batch(&format!(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10400;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
           organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
           definition TEXT NOT NULL, description TEXT);
         INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
           identifier TEXT UNIQUE, description TEXT DEFAULT '',
           last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
           geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));"
    ))
    .map_err(err)?;
    let tx = conn.transaction().map_err(err)?;
    for t in tables {
        write_table(&tx, t).map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(())
}

/// SQLite column type of a property over all features: INTEGER, REAL, BOOLEAN or TEXT.
fn column_type(features: &[Value], key: &str) -> &'static str {
    let mut ty = None;
    for f in features {
        let v = &f["properties"][key];
        let t = match v {
            Value::Null => continue,
            Value::Bool(_) => "BOOLEAN",
            Value::Number(n) if n.is_i64() => "INTEGER",
            Value::Number(_) => "REAL",
            _ => return "TEXT",
        };
        ty = Some(match (ty, t) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some("INTEGER"), "REAL") | (Some("REAL"), "INTEGER") => "REAL",
            _ => return "TEXT",
        });
    }
    ty.unwrap_or("TEXT")
}

fn write_table(tx: &rusqlite::Transaction, t: &OutTable) -> rusqlite::Result<()> {
    // Columns in order of first appearance; `fid` and `geom` are ours, a source column of
    // that name is kept as `source_fid` / `source_geom`.
    let mut keys: Vec<String> = Vec::new();
    for f in t.features {
        if let Some(p) = f["properties"].as_object() {
            for k in p.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    let col_name = |k: &str| match k.to_lowercase().as_str() {
        "fid" | "geom" => format!("source_{k}"),
        _ => k.to_owned(),
    };
    let mut geoms: Vec<Option<Geometry<f64>>> = Vec::with_capacity(t.features.len());
    let mut kinds = std::collections::BTreeSet::new();
    for f in t.features {
        let g = super::geojson::parse_geometry(&f["geometry"]).ok();
        if let Some(g) = &g {
            kinds.insert(geometry_name(g));
        }
        geoms.push(g);
    }
    let gtype = match kinds.len() {
        1 => kinds.into_iter().next().unwrap_or("GEOMETRY"),
        _ => "GEOMETRY",
    };
    let cols: Vec<String> = keys
        .iter()
        .map(|k| format!("{} {}", quote(&col_name(k)), column_type(t.features, k)))
        .collect();
    let mut ddl = format!(
        "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {gtype}",
        quote(t.name)
    );
    for c in &cols {
        ddl.push_str(", ");
        ddl.push_str(c);
    }
    ddl.push(')');
    tx.execute(&ddl, [])?;
    let placeholders: Vec<String> = (0..keys.len() + 1).map(|i| format!("?{}", i + 1)).collect();
    let insert = format!(
        "INSERT INTO {} (geom{}) VALUES ({})",
        quote(t.name),
        keys.iter()
            .map(|k| format!(", {}", quote(&col_name(k))))
            .collect::<String>(),
        placeholders.join(", ")
    );
    let mut st = tx.prepare(&insert)?;
    let mut bounds: Option<geo::Rect<f64>> = None;
    for (f, g) in t.features.iter().zip(&geoms) {
        let mut vals: Vec<rusqlite::types::Value> = Vec::with_capacity(keys.len() + 1);
        vals.push(match g {
            Some(g) => {
                use geo::BoundingRect;
                if let Some(r) = g.bounding_rect() {
                    bounds = Some(match bounds {
                        None => r,
                        Some(b) => crate::geom::union_rect(b, r),
                    });
                }
                rusqlite::types::Value::Blob(gpkg_geometry(g, 4326))
            }
            None => rusqlite::types::Value::Null,
        });
        for k in &keys {
            vals.push(match &f["properties"][k.as_str()] {
                Value::Null => rusqlite::types::Value::Null,
                Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => rusqlite::types::Value::Integer(i),
                    None => rusqlite::types::Value::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                Value::String(s) => rusqlite::types::Value::Text(s.clone()),
                other => rusqlite::types::Value::Text(other.to_string()),
            });
        }
        st.execute(rusqlite::params_from_iter(vals))?;
    }
    let (x0, y0, x1, y1) = bounds.map_or((None, None, None, None), |b| {
        (
            Some(b.min().x),
            Some(b.min().y),
            Some(b.max().x),
            Some(b.max().y),
        )
    });
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id) \
         VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, 4326)",
        rusqlite::params![t.name, x0, y0, x1, y1],
    )?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, 4326, 0, 0)",
        rusqlite::params![t.name, gtype],
    )?;
    Ok(())
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "POINT",
        Geometry::LineString(_) | Geometry::Line(_) => "LINESTRING",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "POLYGON",
        Geometry::MultiPoint(_) => "MULTIPOINT",
        Geometry::MultiLineString(_) => "MULTILINESTRING",
        Geometry::MultiPolygon(_) => "MULTIPOLYGON",
        Geometry::GeometryCollection(_) => "GEOMETRYCOLLECTION",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_round_trip() {
        let poly = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![LineString::from(vec![
                (0.2, 0.1),
                (0.5, 0.1),
                (0.5, 0.4),
                (0.2, 0.1),
            ])],
        );
        for g in [
            Geometry::Point(Point::new(126.5, 45.75)),
            Geometry::Polygon(poly.clone()),
            Geometry::MultiPolygon(MultiPolygon(vec![poly.clone(), poly])),
            Geometry::MultiPoint(MultiPoint(vec![Point::new(1.0, 2.0), Point::new(3.0, 4.0)])),
            Geometry::LineString(LineString::from(vec![(0.0, 0.0), (2.0, 3.0)])),
        ] {
            let b = gpkg_geometry(&g, 4326);
            assert_eq!(parse_gpkg_geometry(&b).unwrap(), Some(g));
        }
    }

    #[test]
    fn corrupt_blobs_are_errors_not_panics() {
        let b = gpkg_geometry(&Geometry::Point(Point::new(1.0, 2.0)), 4326);
        for n in 0..b.len() {
            let _ = parse_gpkg_geometry(&b[..n]);
        }
        let mut big = b.clone();
        // A polygon claiming 4 billion rings.
        big.truncate(40);
        big.extend_from_slice(&[1, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(parse_gpkg_geometry(&big).is_err());
    }
}
