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
