//! GeoJSON reading and writing.
//!
//! Features are parsed one by one, streamed from the file, so that one malformed feature
//! becomes a warning naming its index, not a failed file. The legacy `crs` member (GeoJSON 2008, still
//! written by Chinese desktop GIS exports) is honoured when the manifest declares none.

use std::path::Path;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::{Map, Value};

use super::crs::Crs;
use super::{feature_label, RawFeature, RawLayer};
use crate::error::{Error, Result};
use crate::progress::{check, Progress};

/// Reads a GeoJSON FeatureCollection, Feature or bare Geometry.
pub fn read(path: &Path, progress: &dyn Progress) -> Result<RawLayer> {
    let bytes = super::read_input(path)?;
    read_bytes(&bytes, path, progress)
}

/// [`read`] on bytes already in memory (`path` names them in messages): the entry point
/// the fuzz targets drive.
///
/// A FeatureCollection's `features` are streamed: each feature's JSON is turned into a
/// [`RawFeature`] as soon as it is parsed and the cancel looked at between features, so a
/// province-sized file never exists twice in memory as a JSON tree and a cancel does not
/// wait for the whole file to parse.
pub fn read_bytes(bytes: &[u8], path: &Path, progress: &dyn Progress) -> Result<RawLayer> {
    use serde::de::DeserializeSeed;
    let (text, how) = super::text::decode(bytes, None);
    // Freed on another thread if the read stops (a cancel returns at once).
    let mut layer = crate::progress::Discard::new(RawLayer::new(path));
    if how == super::text::Decoded::GbkFallback {
        layer.warn(
            None,
            None,
            crate::model::Said::new(
                "file is not UTF-8; decoded as GBK (GeoJSON must be UTF-8: re-save it as UTF-8)",
                "文件不是 UTF-8 编码，已按 GBK 解码（GeoJSON 必须是 UTF-8：请另存为 UTF-8）",
            ),
        );
    }
    progress.stage(&super::display_name(path), None);
    let malformed = |e: serde_json::Error| {
        Error::format_zh(
            path,
            format!("malformed GeoJSON: {e}"),
            format!("GeoJSON 格式错误：{e}"),
        )
    };
    let mut cancelled = false;
    let mut de = serde_json::Deserializer::from_str(&text);
    let top = Top {
        layer: &mut layer,
        progress,
        cancelled: &mut cancelled,
    }
    .deserialize(&mut de);
    if cancelled {
        return Err(Error::Cancelled);
    }
    let (root, streamed) = top.map_err(malformed)?;
    de.end().map_err(malformed)?;
    layer.embedded_crs = legacy_crs(&root);
    match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            if !streamed {
                return Err(Error::format_zh(
                    path,
                    "FeatureCollection without a 'features' array",
                    "FeatureCollection 缺少 'features' 数组",
                ));
            }
        }
        Some("Feature") => {
            layer.features.clear();
            push_feature(&mut layer, 0, root);
        }
        Some(t) if is_geometry_type(t) => {
            layer.features.clear();
            let f = serde_json::json!({"type": "Feature", "geometry": root, "properties": {}});
            push_feature(&mut layer, 0, f);
        }
        Some(t) => {
            return Err(Error::format_zh(
                path,
                format!("unknown GeoJSON type '{t}'"),
                format!("未知的 GeoJSON 类型“{t}”"),
            ))
        }
        None => {
            return Err(Error::format_zh(
                path,
                "not GeoJSON: the top-level object has no 'type'",
                "不是 GeoJSON：顶层对象没有 'type'",
            ))
        }
    }
    progress.advance(layer.features.len() as u64);
    Ok(layer.into_inner())
}

/// The top-level object: `features` (an array) streamed into the layer, every other member
/// kept as JSON. Gives the rest of the object and whether `features` was an array.
struct Top<'a> {
    layer: &'a mut RawLayer,
    progress: &'a dyn Progress,
    cancelled: &'a mut bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Top<'_> {
    type Value = (Value, bool);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(Value, bool), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Top<'_> {
    type Value = (Value, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a GeoJSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<(Value, bool), A::Error> {
        let mut rest = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" && !streamed {
                streamed = map.next_value_seed(Features {
                    layer: &mut *self.layer,
                    progress: self.progress,
                    cancelled: &mut *self.cancelled,
                })?;
                if !streamed {
                    rest.insert(key, Value::Null);
                }
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        Ok((Value::Object(rest), streamed))
    }
    // Anything else is not GeoJSON: said as such by the caller (no `type`).
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<(Value, bool), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok((Value::Null, false))
    }
    fn visit_str<E>(self, _: &str) -> Result<(Value, bool), E> {
        Ok((Value::Null, false))
    }
    fn visit_bool<E>(self, _: bool) -> Result<(Value, bool), E> {
        Ok((Value::Null, false))
    }
    fn visit_i64<E>(self, _: i64) -> Result<(Value, bool), E> {
        Ok((Value::Null, false))
    }
    fn visit_u64<E>(self, _: u64) -> Result<(Value, bool), E> {
        Ok((Value::Null, false))
    }
    fn visit_f64<E>(self, _: f64) -> Result<(Value, bool), E> {
        Ok((Value::Null, false))
    }
    fn visit_unit<E>(self) -> Result<(Value, bool), E> {
        Ok((Value::Null, false))
    }
}

/// The `features` member: each element parsed alone and pushed as a feature; true when it
/// was an array (anything else is skipped and `false`).
struct Features<'a> {
    layer: &'a mut RawLayer,
    progress: &'a dyn Progress,
    cancelled: &'a mut bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Features<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Features<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut index = 0usize;
        while let Some(f) = seq.next_element::<Value>()? {
            if index.is_multiple_of(256) {
                if check(self.progress).is_err() {
                    *self.cancelled = true;
                    return Err(serde::de::Error::custom("cancelled"));
                }
                self.progress.advance(index as u64);
            }
            push_feature(self.layer, index, f);
            index += 1;
        }
        Ok(true)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// One feature's JSON into the layer: its geometry (a warning naming it when malformed)
/// and properties, with a top-level `id` kept as a property.
fn push_feature(layer: &mut RawLayer, index: usize, f: Value) {
    let Value::Object(mut obj) = f else {
        layer.warn(
            Some(format!("#{index}")),
            None,
            crate::model::Said::new(
                "feature is not a JSON object; skipped",
                "要素不是 JSON 对象；已跳过",
            ),
        );
        return;
    };
    let mut properties = match obj.remove("properties") {
        Some(Value::Object(m)) => m,
        Some(Value::Null) | None => Map::new(),
        Some(_) => {
            layer.warn(
                Some(format!("#{index}")),
                Some("properties"),
                crate::model::Said::new(
                    "properties is not an object; ignored",
                    "properties 不是对象；已忽略",
                ),
            );
            Map::new()
        }
    };
    if let Some(id) = obj.remove("id") {
        properties.entry("id").or_insert(id);
    }
    let geometry = match obj.remove("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => match parse_geometry(&g) {
            Ok(g) => Some(g),
            Err(msg) => {
                let label = feature_label(index, &properties);
                layer.warn(
                    Some(label),
                    Some("geometry"),
                    crate::model::Said::new(
                        format!("{msg}; geometry dropped"),
                        format!("{msg}；几何已丢弃"),
                    ),
                );
                None
            }
        },
    };
    layer.features.push(RawFeature {
        index,
        geometry,
        properties,
        node_ids: None,
    });
}

fn is_geometry_type(t: &str) -> bool {
    matches!(
        t,
        "Point"
            | "MultiPoint"
            | "LineString"
            | "MultiLineString"
            | "Polygon"
            | "MultiPolygon"
            | "GeometryCollection"
    )
}

fn legacy_crs(root: &Value) -> Option<Crs> {
    let name = root.get("crs")?.get("properties")?.get("name")?.as_str()?;
    // e.g. "urn:ogc:def:crs:EPSG::4490" or "EPSG:4551" or "urn:ogc:def:crs:OGC:1.3:CRS84"
    if name.contains("CRS84") {
        return Some(Crs::Wgs84);
    }
    let code = name.rsplit(':').next()?;
    Crs::parse(&format!("EPSG:{code}")).ok()
}

fn coord(v: &Value) -> Result<Coord<f64>, String> {
    let a = v.as_array().ok_or("a position is not an array")?;
    if a.len() < 2 {
        return Err(format!("a position has {} number(s), needs 2", a.len()));
    }
    let x = a[0].as_f64().ok_or("a position holds a non-number")?;
    let y = a[1].as_f64().ok_or("a position holds a non-number")?;
    Ok(Coord { x, y })
}

fn coords(v: &Value) -> Result<Vec<Coord<f64>>, String> {
    v.as_array()
        .ok_or_else(|| "coordinates are not an array".to_owned())?
        .iter()
        .map(coord)
        .collect()
}

fn ring(v: &Value) -> Result<LineString<f64>, String> {
    let mut c = coords(v)?;
    if c.is_empty() {
        return Ok(LineString::new(c));
    }
    if c.first() != c.last() {
        let first = c[0];
        c.push(first);
    }
    Ok(LineString::new(c))
}

fn polygon(v: &Value) -> Result<Polygon<f64>, String> {
    let rings = v.as_array().ok_or("polygon coordinates are not an array")?;
    let mut it = rings.iter();
    let exterior = match it.next() {
        Some(r) => ring(r)?,
        None => LineString::new(vec![]),
    };
    let holes = it.map(ring).collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

/// Parses a GeoJSON geometry object into geo types (source CRS, unchanged).
pub fn parse_geometry(g: &Value) -> Result<Geometry<f64>, String> {
    let t = g
        .get("type")
        .and_then(Value::as_str)
        .ok_or("geometry has no 'type'")?;
    if t == "GeometryCollection" {
        let gs = g
            .get("geometries")
            .and_then(Value::as_array)
            .ok_or("GeometryCollection without 'geometries'")?;
        let parts = gs
            .iter()
            .map(parse_geometry)
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Geometry::GeometryCollection(geo::GeometryCollection(parts)));
    }
    let c = g
        .get("coordinates")
        .ok_or_else(|| format!("{t} has no 'coordinates'"))?;
    let arr = || {
        c.as_array()
            .ok_or_else(|| format!("{t} coordinates are not an array"))
    };
    Ok(match t {
        "Point" => Geometry::Point(Point(coord(c)?)),
        "MultiPoint" => {
            Geometry::MultiPoint(MultiPoint(coords(c)?.into_iter().map(Point).collect()))
        }
        "LineString" => Geometry::LineString(LineString::new(coords(c)?)),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            arr()?
                .iter()
                .map(|l| coords(l).map(LineString::new))
                .collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(c)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            arr()?.iter().map(polygon).collect::<Result<_, _>>()?,
        )),
        other => return Err(format!("unknown geometry type '{other}'")),
    })
}

/// GeoJSON geometry value (WGS84 lon/lat expected) from geo types, rounded to 1e-7° (~1 cm).
pub fn geometry_value(g: &Geometry<f64>) -> Value {
    fn pos(c: &Coord<f64>) -> Value {
        let r = |v: f64| (v * 1e7).round() / 1e7;
        serde_json::json!([r(c.x), r(c.y)])
    }
    fn line(l: &LineString<f64>) -> Value {
        Value::Array(l.0.iter().map(pos).collect())
    }
    fn poly(p: &Polygon<f64>) -> Value {
        let mut rings = vec![line(p.exterior())];
        rings.extend(p.interiors().iter().map(line));
        Value::Array(rings)
    }
    let (t, coordinates) = match g {
        Geometry::Point(p) => ("Point", pos(&p.0)),
        Geometry::MultiPoint(m) => (
            "MultiPoint",
            Value::Array(m.0.iter().map(|p| pos(&p.0)).collect()),
        ),
        Geometry::LineString(l) => ("LineString", line(l)),
        Geometry::MultiLineString(m) => (
            "MultiLineString",
            Value::Array(m.0.iter().map(line).collect()),
        ),
        Geometry::Polygon(p) => ("Polygon", poly(p)),
        Geometry::MultiPolygon(m) => ("MultiPolygon", Value::Array(m.0.iter().map(poly).collect())),
        other => {
            return serde_json::json!({"type": "GeometryCollection", "geometries": match other {
                Geometry::GeometryCollection(gc) => gc.0.iter().map(geometry_value).collect::<Vec<_>>(),
                _ => vec![],
            }})
        }
    };
    serde_json::json!({"type": t, "coordinates": coordinates})
}

/// Writes a FeatureCollection atomically (temp file + rename), so a crash never leaves a
/// half-written file where the user's data was.
/// A `.gpkg` path gets a GeoPackage of the same features instead.
pub fn write_feature_collection(path: &Path, features: Vec<Value>) -> Result<()> {
    if super::gpkg::is_gpkg(path) {
        return super::gpkg::write_collection(path, &features);
    }
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    let text = serde_json::to_string(&fc).map_err(|e| Error::format(path, e.to_string()))?;
    super::write::write_atomic(path, text.as_bytes())
}

/// A FeatureCollection value written to `path`: as JSON (`pretty` for people reading it),
/// or as a GeoPackage when the path ends in `.gpkg`.
pub fn write_collection_value(path: &Path, fc: &Value, pretty: bool) -> Result<()> {
    if super::gpkg::is_gpkg(path) {
        let features = fc["features"].as_array().cloned().unwrap_or_default();
        return super::gpkg::write_collection(path, &features);
    }
    let text = if pretty {
        serde_json::to_vec_pretty(fc)
    } else {
        serde_json::to_vec(fc)
    }
    .map_err(|e| Error::format(path, e.to_string()))?;
    super::write::write_atomic(path, &text)
}
