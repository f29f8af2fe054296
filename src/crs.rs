//! Coordinate reference systems as values: what a layer declares (WGS84, CGCS2000, GCJ-02,
//! BD-09, an EPSG code, a .prj's WKT). The conversions (PROJ, the GCJ/BD offsets) live in
//! `io::crs`; this ground-floor type is what the model records.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A declared coordinate reference system of an input layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Crs {
    /// EPSG:4326 lon/lat.
    Wgs84,
    /// EPSG:4490 lon/lat; treated as WGS84 (they differ by < 1 m at planning scale).
    Cgcs2000,
    /// Mars coordinates of Amap / Tencent / Google China.
    Gcj02,
    /// Baidu's offset of GCJ-02.
    Bd09,
    /// Any EPSG code PROJ knows (Gauss-Krüger zones, Web Mercator …).
    Epsg(u32),
    /// A WKT string from a shapefile's .prj.
    Wkt(String),
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Crs::Wgs84 => f.write_str("WGS84"),
            Crs::Cgcs2000 => f.write_str("CGCS2000"),
            Crs::Gcj02 => f.write_str("GCJ-02"),
            Crs::Bd09 => f.write_str("BD-09"),
            Crs::Epsg(c) => write!(f, "EPSG:{c}"),
            Crs::Wkt(w) => write!(f, "WKT {}", w.chars().take(60).collect::<String>()),
        }
    }
}

impl Crs {
    /// Parses the manifest spellings: WGS84 | CGCS2000 | GCJ-02 | BD-09 | EPSG:NNNN.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().to_uppercase().replace(['_', ' '], "-");
        Ok(match t.as_str() {
            "WGS84" | "WGS-84" | "EPSG:4326" | "4326" => Crs::Wgs84,
            "CGCS2000" | "CGCS-2000" | "EPSG:4490" | "4490" => Crs::Cgcs2000,
            "GCJ-02" | "GCJ02" | "MARS" | "AMAP" | "GAODE" => Crs::Gcj02,
            "BD-09" | "BD09" | "BAIDU" => Crs::Bd09,
            _ => {
                let code = t.strip_prefix("EPSG:").unwrap_or(&t);
                match code.parse::<u32>() {
                    Ok(4326) => Crs::Wgs84,
                    Ok(4490) => Crs::Cgcs2000,
                    Ok(c) => Crs::Epsg(c),
                    Err(_) => return Err(Error::UnknownCrs(s.to_owned())),
                }
            }
        })
    }

    /// Recognises the common .prj texts; otherwise keeps the WKT for PROJ.
    pub fn from_prj(wkt: &str) -> Self {
        let w = wkt.to_uppercase();
        let projected = w.trim_start().starts_with("PROJCS") || w.contains("PROJCRS");
        if !projected {
            if w.contains("CHINA_GEODETIC_COORDINATE_SYSTEM_2000") || w.contains("CGCS2000") {
                return Crs::Cgcs2000;
            }
            if w.contains("WGS_1984") || w.contains("WGS 84") || w.contains("WGS84") {
                return Crs::Wgs84;
            }
        }
        Crs::Wkt(wkt.trim().to_owned())
    }

    /// True for lon/lat systems (where values beyond ±180/±90 are impossible).
    pub fn is_geographic(&self) -> bool {
        matches!(self, Crs::Wgs84 | Crs::Cgcs2000 | Crs::Gcj02 | Crs::Bd09)
    }

    /// The datum label shown to users.
    pub fn datum(&self) -> &'static str {
        match self {
            Crs::Wgs84 => "WGS84",
            Crs::Cgcs2000 => "CGCS2000",
            Crs::Gcj02 => "GCJ-02 (offset web-map datum)",
            Crs::Bd09 => "BD-09 (Baidu offset datum)",
            Crs::Epsg(c) if (4491..=4554).contains(c) => "CGCS2000",
            Crs::Epsg(3857) => "WGS84 (Web Mercator)",
            Crs::Epsg(_) | Crs::Wkt(_) => "per PROJ definition",
        }
    }
}

/// How a projected CRS converts to lon/lat in pure Rust, without PROJ: the systems a
/// Chinese bureau's data comes in. One code path on every platform (and the Windows build
/// has no PROJ); checked against PROJ to < 1 mm in tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Builtin {
    /// Transverse Mercator / Gauss-Krüger on a WGS84-compatible datum (CGCS2000, WGS84).
    Tm(crate::geom::TransverseMercator),
    /// EPSG:3857, spherical Web Mercator on WGS84.
    WebMercator,
}

const GRS80_INV_F: f64 = 298.257_222_101;
const WGS84_INV_F: f64 = 298.257_223_563;

impl Builtin {
    /// Projected metres → lon/lat degrees (WGS84/CGCS2000, which differ by < 1 m).
    pub fn to_lonlat(&self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Builtin::Tm(tm) => tm.inverse(x, y),
            Builtin::WebMercator => {
                let r = 6_378_137.0;
                let lon = (x / r).to_degrees();
                let lat = (2.0 * (y / r).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
                (lon, lat)
            }
        }
    }

    /// lon/lat degrees → projected metres.
    pub fn from_lonlat(&self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Builtin::Tm(tm) => tm.forward(lon, lat),
            Builtin::WebMercator => {
                let r = 6_378_137.0;
                let y = (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                    .tan()
                    .ln();
                (r * lon.to_radians(), r * y)
            }
        }
    }
}

fn tm(cm: f64, scale: f64, fe: f64, fn_: f64, inv_f: f64) -> Builtin {
    Builtin::Tm(crate::geom::TransverseMercator {
        central_meridian: cm,
        scale,
        false_easting: fe,
        false_northing: fn_,
        a: 6_378_137.0,
        inv_f,
    })
}

/// The EPSG codes converted without PROJ:
/// - 4491–4501: CGCS2000 6° Gauss-Krüger zones 13–23 (zone number in the easting);
/// - 4502–4512: CGCS2000 6° Gauss-Krüger CM 75°E–135°E;
/// - 4513–4533: CGCS2000 3° Gauss-Krüger zones 25–45 (zone number in the easting);
/// - 4534–4554: CGCS2000 3° Gauss-Krüger CM 75°E–135°E;
/// - 32601–32660 / 32701–32760: WGS84 UTM north / south;
/// - 3857: Web Mercator.
///
/// Everything else (Beijing 1954, Xi'an 1980 and other datums that need a shift, other
/// projections) needs PROJ.
pub fn epsg_builtin(code: u32) -> Option<Builtin> {
    let c = code as f64;
    Some(match code {
        4491..=4501 => {
            let zone = c - 4491.0 + 13.0;
            tm(
                6.0 * zone - 3.0,
                1.0,
                zone * 1e6 + 500_000.0,
                0.0,
                GRS80_INV_F,
            )
        }
        4502..=4512 => tm(75.0 + 6.0 * (c - 4502.0), 1.0, 500_000.0, 0.0, GRS80_INV_F),
        4513..=4533 => {
            let zone = c - 4513.0 + 25.0;
            tm(3.0 * zone, 1.0, zone * 1e6 + 500_000.0, 0.0, GRS80_INV_F)
        }
        4534..=4554 => tm(75.0 + 3.0 * (c - 4534.0), 1.0, 500_000.0, 0.0, GRS80_INV_F),
        32601..=32660 => {
            let zone = c - 32600.0;
            tm(6.0 * zone - 183.0, 0.9996, 500_000.0, 0.0, WGS84_INV_F)
        }
        32701..=32760 => {
            let zone = c - 32700.0;
            tm(
                6.0 * zone - 183.0,
                0.9996,
                500_000.0,
                10_000_000.0,
                WGS84_INV_F,
            )
        }
        3857 | 900_913 => Builtin::WebMercator,
        _ => return None,
    })
}

/// A WKT (a shapefile's .prj, a GeoPackage's SRS) that names a built-in system: by its
/// EPSG authority, or a transverse Mercator / Gauss-Krüger PROJCS on CGCS2000, GRS80 or
/// WGS84 with its parameters read. `None` for anything else (PROJ decides it).
pub fn wkt_builtin(wkt: &str) -> Option<Builtin> {
    let w = wkt.trim();
    let upper = w.to_uppercase();
    if !(upper.starts_with("PROJCS[") || upper.starts_with("PROJCRS[")) {
        return None;
    }
    // The outermost AUTHORITY / ID is the CRS's own (inner ones name the datum, units …).
    let authority = |key: &str| -> Option<u32> {
        let i = upper.rfind(key)?;
        let rest = &upper[i + key.len()..];
        let digits: String = rest
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let tail = rest.trim_end_matches([']', ' ', '\n', '\r']);
        // Only when nothing but closing brackets follows it.
        (tail.matches('[').count() <= 1).then(|| digits.parse().ok())?
    };
    if let Some(b) = authority("AUTHORITY[\"EPSG\",").and_then(epsg_builtin) {
        return Some(b);
    }
    if upper.starts_with("PROJCRS[") {
        return authority("ID[\"EPSG\",").and_then(epsg_builtin);
    }
    let projection = bracket_value(&upper, "PROJECTION[")?;
    if !matches!(
        projection.as_str(),
        "GAUSS_KRUGER" | "TRANSVERSE_MERCATOR" | "GAUSS-KRUGER"
    ) {
        return None;
    }
    let datum = bracket_value(&upper, "DATUM[")?;
    let datum_ok = [
        "CHINA_2000",
        "CGCS2000",
        "CHINA_GEODETIC",
        "WGS_1984",
        "WGS 84",
        "WGS84",
        "GRS_1980",
        "GRS80",
    ]
    .iter()
    .any(|d| datum.contains(d));
    if !datum_ok {
        return None;
    }
    let spheroid = numbers_after(&upper, "SPHEROID[");
    let (a, inv_f) = (*spheroid.first()?, *spheroid.get(1)?);
    if (a - 6_378_137.0).abs() > 0.01 || (inv_f - 298.2572).abs() > 0.001 {
        return None;
    }
    let param = |name: &str| parameter(&upper, name);
    if param("LATITUDE_OF_ORIGIN").unwrap_or(0.0) != 0.0 {
        return None;
    }
    // Metres only.
    let unit = upper.rfind("UNIT[").map(|i| &upper[i..]).unwrap_or("");
    if !(unit.contains("METER") || unit.contains("METRE")) {
        return None;
    }
    Some(Builtin::Tm(crate::geom::TransverseMercator {
        central_meridian: param("CENTRAL_MERIDIAN")?,
        scale: param("SCALE_FACTOR").unwrap_or(1.0),
        false_easting: param("FALSE_EASTING").unwrap_or(0.0),
        false_northing: param("FALSE_NORTHING").unwrap_or(0.0),
        a,
        inv_f,
    }))
}

/// The quoted name after `key` (`PROJECTION["Gauss_Kruger"]` → `GAUSS_KRUGER`).
fn bracket_value(upper: &str, key: &str) -> Option<String> {
    let i = upper.find(key)? + key.len();
    let rest = upper[i..].trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// The numbers of the bracket opened by `key` (after its quoted name).
fn numbers_after(upper: &str, key: &str) -> Vec<f64> {
    let Some(i) = upper.find(key) else {
        return Vec::new();
    };
    let rest = &upper[i + key.len()..];
    let end = rest.find(']').unwrap_or(rest.len());
    rest[..end]
        .split(',')
        .skip(1)
        .filter_map(|t| t.trim().parse::<f64>().ok())
        .collect()
}

/// `PARAMETER["NAME",value]`, names compared without case.
fn parameter(upper: &str, name: &str) -> Option<f64> {
    let key = format!("PARAMETER[\"{name}\"");
    let i = upper.find(&key)? + key.len();
    let rest = upper[i..].trim_start().strip_prefix(',')?;
    let end = rest.find(']')?;
    rest[..end].trim().parse().ok()
}
