//! Coordinate reference systems and datums at the IO edge.
//!
//! Everything is converted to WGS84 lon/lat on input (then projected to local metres by
//! [`crate::geom::LocalProjection`]). The systems Chinese data comes in — CGCS2000
//! Gauss-Krüger zones, UTM, Web Mercator, and .prj files describing them — convert in pure
//! Rust ([`crate::crs::Builtin`]) on every platform; other EPSG codes and WKT go through PROJ
//! where the build has it (feature `proj`). GCJ-02 and BD-09 —
//! China's obfuscated web-map datums, which PROJ does not cover — are implemented here with
//! an iterative inverse accurate to well below a metre.

use std::path::Path;

use crate::error::{Error, Result};

pub use crate::crs::Crs;

/// Converts coordinates of one layer to WGS84 lon/lat.
pub struct ToWgs84 {
    crs: Crs,
    /// The pure-Rust conversion of a built-in EPSG code or .prj (every platform).
    builtin: Option<crate::crs::Builtin>,
    /// PROJ, for EPSG codes and WKT that are not built in (Linux builds with `proj`).
    #[cfg(feature = "proj")]
    proj: Option<proj::Proj>,
}

impl ToWgs84 {
    pub fn new(crs: &Crs) -> Result<Self> {
        let builtin = match crs {
            Crs::Epsg(code) => crate::crs::epsg_builtin(*code),
            Crs::Wkt(wkt) => crate::crs::wkt_builtin(wkt),
            _ => None,
        };
        let needs_proj = builtin.is_none() && matches!(crs, Crs::Epsg(_) | Crs::Wkt(_));
        #[cfg(feature = "proj")]
        let proj = match crs {
            Crs::Epsg(code) if needs_proj => Some(
                proj::Proj::new_known_crs(&format!("EPSG:{code}"), "EPSG:4326", None)
                    .map_err(|e| Error::Projection(format!("EPSG:{code}: {e}")))?,
            ),
            Crs::Wkt(wkt) if needs_proj => Some(
                proj::Proj::new_known_crs(wkt, "EPSG:4326", None)
                    .map_err(|e| Error::Projection(format!("CRS from .prj: {e}")))?,
            ),
            _ => None,
        };
        #[cfg(not(feature = "proj"))]
        if needs_proj {
            return Err(Error::NeedsProj(crs.to_string()));
        }
        Ok(ToWgs84 {
            crs: crs.clone(),
            builtin,
            #[cfg(feature = "proj")]
            proj,
        })
    }

    /// Converts one coordinate; Err carries a human-readable reason.
    pub fn convert(&self, x: f64, y: f64) -> std::result::Result<(f64, f64), String> {
        if !x.is_finite() || !y.is_finite() {
            return Err("coordinate is not a finite number".to_owned());
        }
        let out = match &self.crs {
            Crs::Wgs84 | Crs::Cgcs2000 => (x, y),
            Crs::Gcj02 => gcj02_to_wgs84(x, y),
            Crs::Bd09 => {
                let (gx, gy) = bd09_to_gcj02(x, y);
                gcj02_to_wgs84(gx, gy)
            }
            Crs::Epsg(_) | Crs::Wkt(_) => match &self.builtin {
                Some(b) => b.to_lonlat(x, y),
                None => self.with_proj(x, y)?,
            },
        };
        if !(out.0.is_finite() && out.1.is_finite()) || out.0.abs() > 180.0 || out.1.abs() > 90.0 {
            return Err(format!(
                "({x}, {y}) does not convert to a valid longitude/latitude"
            ));
        }
        Ok(out)
    }
}

impl ToWgs84 {
    #[cfg(feature = "proj")]
    fn with_proj(&self, x: f64, y: f64) -> std::result::Result<(f64, f64), String> {
        let p = self
            .proj
            .as_ref()
            .expect("proj built for EPSG/WKT that are not built in");
        p.convert((x, y)).map_err(|e| format!("PROJ: {e}"))
    }

    #[cfg(not(feature = "proj"))]
    fn with_proj(&self, _: f64, _: f64) -> std::result::Result<(f64, f64), String> {
        unreachable!("refused in ToWgs84::new without PROJ")
    }
}

/// Checks that a sample coordinate is possible for the declared CRS. For impossible ones
/// the error suggests the likely CRS, so "500000, 5600000 declared as WGS84" tells the
/// user it is probably a Gauss-Krüger projection.
pub fn check_plausible(path: &Path, crs: &Crs, x: f64, y: f64) -> Result<()> {
    if crs.is_geographic() {
        if (3.0..=54.0).contains(&x) && (73.0..=136.0).contains(&y) {
            return Err(Error::Crs {
                path: path.to_owned(),
                declared: crs.to_string(),
                message: format!(
                    "({x}, {y}) looks like latitude, longitude in the wrong order: \
                     swap the columns (x = longitude, y = latitude)"
                ),
                zh: format!("({x}, {y}) 像是纬度、经度顺序颠倒：请交换两列（x = 经度，y = 纬度）"),
            });
        }
        if x.abs() > 180.0 || y.abs() > 90.0 {
            let (en, zh) = suggest(x, y);
            return Err(Error::Crs {
                path: path.to_owned(),
                declared: crs.to_string(),
                message: format!("({x}, {y}) is not a longitude/latitude. {en}"),
                zh: format!("({x}, {y}) 不是经纬度。{zh}"),
            });
        }
    } else if x.abs() <= 180.0 && y.abs() <= 90.0 {
        return Err(Error::Crs {
            path: path.to_owned(),
            declared: crs.to_string(),
            message: format!(
                "({x}, {y}) looks like longitude/latitude degrees, not projected metres: \
                 declare crs = \"WGS84\" (or CGCS2000 / GCJ-02)"
            ),
            zh: format!(
                "({x}, {y}) 像是经纬度（度），不是投影坐标（米）：请声明 crs = \"WGS84\"（或 CGCS2000 / GCJ-02）"
            ),
        });
    }
    Ok(())
}

/// A sentence naming the CRS(s) that coordinates `(x, y)` most likely use.
pub fn suggest_crs(x: f64, y: f64) -> String {
    suggest(x, y).0
}

/// [`suggest_crs`] in English and in Chinese.
fn suggest(x: f64, y: f64) -> (String, String) {
    let mut out: Vec<(String, String)> = Vec::new();
    let zone = (x / 1_000_000.0).floor() as i64;
    if (200_000.0..6_100_000.0).contains(&y) {
        if (100_000.0..900_000.0).contains(&x) {
            out.push((
                "Gauss-Krüger metres without zone prefix: the CGCS2000 3° zone of your area \
                 (EPSG:4534–4554, e.g. EPSG:4551 for CM 126°E) or a 6° zone (EPSG:4502–4512)"
                    .to_owned(),
                "不带带号的高斯-克吕格坐标（米）：所在地区的 CGCS2000 3° 带（EPSG:4534–4554，\
                 如中央经线 126°E 为 EPSG:4551）或 6° 带（EPSG:4502–4512）"
                    .to_owned(),
            ));
        }
        if (25..=45).contains(&zone) {
            let epsg = 4513 + (zone - 25);
            out.push((
                format!("Gauss-Krüger metres with 3° zone prefix {zone}: EPSG:{epsg}"),
                format!("带 3° 带号 {zone} 的高斯-克吕格坐标（米）：EPSG:{epsg}"),
            ));
        }
        if (13..=23).contains(&zone) {
            let epsg = 4491 + (zone - 13);
            out.push((
                format!("Gauss-Krüger metres with 6° zone prefix {zone}: EPSG:{epsg}"),
                format!("带 6° 带号 {zone} 的高斯-克吕格坐标（米）：EPSG:{epsg}"),
            ));
        }
    }
    if (8_000_000.0..15_300_000.0).contains(&x) && (300_000.0..7_300_000.0).contains(&y) {
        out.push((
            "Web Mercator metres: EPSG:3857".to_owned(),
            "Web 墨卡托坐标（米）：EPSG:3857".to_owned(),
        ));
    }
    if out.is_empty() {
        (
            "Declare the layer's CRS in dataset.toml (crs = \"EPSG:NNNN\").".to_owned(),
            "请在 dataset.toml 中声明该图层的坐标系（crs = \"EPSG:NNNN\"）。".to_owned(),
        )
    } else {
        let (en, zh): (Vec<String>, Vec<String>) = out.into_iter().unzip();
        (
            format!("They look like {}.", en.join("; or ")),
            format!("看起来是{}。", zh.join("；或")),
        )
    }
}

// ---------------------------------------------------------------------------------------
// GCJ-02 / BD-09

const GCJ_A: f64 = 6_378_245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;
const PI: f64 = std::f64::consts::PI;

/// The GCJ-02 offset applies only inside (roughly) China; outside it is the identity.
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02 (the published forward formula).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - GCJ_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (GCJ_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84 by fixed-point iteration on the forward formula; converges to ~1e-9°
/// (0.1 mm) in a handful of steps because the offset varies slowly.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wl, mut wa) = (lon, lat);
    for _ in 0..30 {
        let (gl, ga) = wgs84_to_gcj02(wl, wa);
        let (dl, da) = (gl - lon, ga - lat);
        wl -= dl;
        wa -= da;
        if dl.abs() < 1e-10 && da.abs() < 1e-10 {
            break;
        }
    }
    (wl, wa)
}

const X_PI: f64 = PI * 3000.0 / 180.0;

/// GCJ-02 → BD-09 (Baidu's published forward formula).
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02: the usual closed-form approximation, refined by iteration on the
/// forward formula so the round trip closes to sub-millimetre.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    let (mut gl, mut ga) = (z * theta.cos(), z * theta.sin());
    for _ in 0..20 {
        let (bl, ba) = gcj02_to_bd09(gl, ga);
        let (dl, da) = (bl - lon, ba - lat);
        gl -= dl;
        ga -= da;
        if dl.abs() < 1e-11 && da.abs() < 1e-11 {
            break;
        }
    }
    (gl, ga)
}

/// WGS84 → BD-09.
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g, a) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::haversine_m;

    #[test]
    fn gcj_round_trip_under_a_millimetre() {
        for &(lon, lat) in &[
            (126.63, 45.75),
            (116.39, 39.9),
            (127.5, 50.25),
            (87.6, 43.8),
        ] {
            let (g, a) = wgs84_to_gcj02(lon, lat);
            // The offset in Harbin is a few hundred metres.
            assert!(haversine_m((lon, lat), (g, a)) > 100.0);
            let back = gcj02_to_wgs84(g, a);
            assert!(haversine_m((lon, lat), back) < 1e-3);
        }
    }

    #[test]
    fn bd_round_trip_under_a_millimetre() {
        for &(lon, lat) in &[(126.63, 45.75), (116.39, 39.9)] {
            let (b, a) = wgs84_to_bd09(lon, lat);
            let (g, ga) = bd09_to_gcj02(b, a);
            let back = gcj02_to_wgs84(g, ga);
            assert!(haversine_m((lon, lat), back) < 1e-3);
        }
    }

    #[test]
    fn known_gcj_values() {
        // Test vectors of the eviltransform project (wgs lat, lon, gcj lat, lon).
        let cases = [
            (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
            (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        ];
        for (wa, wl, ga, gl) in cases {
            let (l, a) = wgs84_to_gcj02(wl, wa);
            assert!((l - gl).abs() < 1e-7 && (a - ga).abs() < 1e-7, "{l} {a}");
        }
    }

    #[test]
    fn outside_china_is_identity() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
    }

    #[test]
    fn projected_coordinates_declared_wgs84_are_refused_with_a_suggestion() {
        let e = check_plausible(Path::new("a.geojson"), &Crs::Wgs84, 500000.0, 5600000.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Gauss-Krüger") && e.contains("a.geojson"), "{e}");
        let e = check_plausible(Path::new("a.csv"), &Crs::Wgs84, 42500000.0, 5060000.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("EPSG:4530"), "{e}");
        let e = check_plausible(Path::new("a.csv"), &Crs::Wgs84, 14_090_000.0, 5_740_000.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("EPSG:3857"), "{e}");
        let e = check_plausible(Path::new("a.csv"), &Crs::Wgs84, 45.7, 126.6)
            .unwrap_err()
            .to_string();
        assert!(e.contains("wrong order"), "{e}");
        assert!(check_plausible(Path::new("a.csv"), &Crs::Wgs84, 126.6, 45.7).is_ok());
        assert!(check_plausible(Path::new("a.csv"), &Crs::Epsg(4551), 126.6, 45.7).is_err());
    }

    #[test]
    fn parse_spellings() {
        assert_eq!(Crs::parse("WGS84").unwrap(), Crs::Wgs84);
        assert_eq!(Crs::parse("gcj-02").unwrap(), Crs::Gcj02);
        assert_eq!(Crs::parse("BD-09").unwrap(), Crs::Bd09);
        assert_eq!(Crs::parse("EPSG:4490").unwrap(), Crs::Cgcs2000);
        assert_eq!(Crs::parse("EPSG:4551").unwrap(), Crs::Epsg(4551));
        assert!(Crs::parse("Mercator-ish").is_err());
    }
}
