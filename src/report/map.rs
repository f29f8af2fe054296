//! Presentation maps: the analysis drawn as SVG, and as PNG through resvg, with title,
//! legend, scale bar, north arrow and data attribution.
//!
//! The desktop app's "export map" and the CLI's `map` subcommand both call [`map_svg`], so a
//! map looks the same wherever it is made, and it renders headless (CI, servers) with the
//! bundled CJK font: no display and no system fonts needed. The colour schemes live here
//! too, so the app's choropleth and the exported legend cannot drift apart.
//!
//! ```
//! use carecircle::report::map::{share_rgba, status_rgba};
//! assert_eq!(status_rgba(Some(true))[..3], [46, 158, 79]);
//! assert_eq!(share_rgba(0.3)[..3], [189, 0, 38]); // under half covered: deep red
//! ```

use std::collections::HashSet;
use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use crate::coverage::Report;
use crate::error::{Error, Result};
use crate::model::{Dataset, FacilityKind, FacilityStatus, UnitId};

/// The CJK font shipped with CareCircle (WenQuanYi Micro Hei, GB2312 subset plus every
/// character of the demo data; Apache-2.0 / GPLv3).
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei-gb2312.ttf");
/// The family name inside [`CJK_FONT`].
pub const FONT_FAMILY: &str = "WenQuanYi Micro Hei";

/// Red, green, blue, alpha.
pub type Rgba = [u8; 4];

/// Rule status → colour: green meets, red fails, grey not evaluated.
/// The colour of a verdict: unknown is its own colour (sand), never the colour of failure.
pub fn verdict_rgba(status: crate::coverage::analysis::Status) -> Rgba {
    use crate::coverage::analysis::Status;
    match status {
        Status::Pass => status_rgba(Some(true)),
        Status::Fail => status_rgba(Some(false)),
        Status::Unknown => UNKNOWN_RGBA,
        Status::NotEvaluable => status_rgba(None),
    }
}

/// Units whose verdict the data cannot decide (no data on existing facilities …).
pub const UNKNOWN_RGBA: Rgba = [214, 190, 100, 100];

pub fn status_rgba(pass: Option<bool>) -> Rgba {
    match pass {
        Some(true) => [46, 158, 79, 110],
        Some(false) => [212, 61, 47, 110],
        None => [150, 150, 150, 60],
    }
}

/// Coverage share → colour: < 50 % deep red, 50–80 % orange, 80–95 % yellow, 95–99.9 %
/// light green, full green. Planners read "how far from 100 %", so the steps are uneven.
pub fn share_rgba(v: f64) -> Rgba {
    let (r, g, b) = if v < 0.5 {
        (189, 0, 38)
    } else if v < 0.8 {
        (240, 120, 40)
    } else if v < 0.95 {
        (250, 200, 60)
    } else if v < 0.999 {
        (150, 200, 100)
    } else {
        (46, 158, 79)
    };
    [r, g, b, 130]
}

/// One symbol colour per facility kind.
pub fn kind_rgb(kind: FacilityKind) -> [u8; 3] {
    match kind {
        FacilityKind::DayCare => [214, 96, 77],
        FacilityKind::StreetStation => [140, 45, 140],
        FacilityKind::DistrictCenter => [90, 30, 90],
        FacilityKind::TownshipInstitution => [160, 100, 40],
        FacilityKind::CountyHardship => [120, 70, 20],
        FacilityKind::VillageMutualAid => [80, 140, 60],
        FacilityKind::CareHome => [200, 150, 30],
        FacilityKind::Nursery => [33, 113, 181],
    }
}

/// Proposed sites (orange diamonds).
pub const PROPOSAL_RGB: [u8; 3] = [230, 120, 0];
/// Uncovered demand dots.
pub const UNCOVERED_RGBA: Rgba = [120, 20, 20, 170];

/// Whether `rule` is drawn as a coverage-share ramp (population within reach) rather than
/// pass/fail.
fn is_share_rule(report: &Report, rule: Option<&str>) -> bool {
    rule.and_then(|id| report.rules.iter().find(|r| r.id == id))
        .is_some_and(|r| r.test == "population_within")
}

/// The choropleth colour of a unit: the chosen rule's share or status, or with no rule the
/// unit's overall status over all rules. `None` for units without a result.
pub fn unit_fill(report: &Report, unit: UnitId, rule: Option<&str>) -> Option<Rgba> {
    let ur = report.units.get(unit.index())?;
    Some(match rule {
        Some(id) => match ur.rules.get(id) {
            Some(st) if is_share_rule(report, rule) && st.pass.is_some() => {
                share_rgba(st.value.unwrap_or(0.0))
            }
            Some(st) => verdict_rgba(st.status),
            None => status_rgba(None),
        },
        None => match super::unit_status(ur) {
            "pass" => status_rgba(Some(true)),
            "fail" => status_rgba(Some(false)),
            "unknown" => UNKNOWN_RGBA,
            _ => status_rgba(None),
        },
    })
}

/// The choropleth's legend: its title (the rule's name) and one swatch per class.
pub fn choropleth_legend(
    report: &Report,
    rule: Option<&str>,
    english: bool,
) -> (String, Vec<(Rgba, String)>) {
    let t = |zh: &str, en: &str| if english { en } else { zh }.to_owned();
    let found = rule.and_then(|id| report.rules.iter().find(|r| r.id == id));
    let title = match found {
        Some(r) if english => r.title_en.clone(),
        Some(r) => r.title.clone(),
        None => t("全部规则", "All rules"),
    };
    let items = if is_share_rule(report, rule) {
        [
            (0.3, "< 50%"),
            (0.6, "50–80%"),
            (0.9, "80–95%"),
            (0.97, "95–99.9%"),
            (1.0, "100%"),
        ]
        .iter()
        .map(|(v, l)| (share_rgba(*v), l.to_string()))
        .chain([
            (
                UNKNOWN_RGBA,
                t("未知（数据不足）", "Unknown (data lacking)"),
            ),
            (status_rgba(None), t("无法评估", "Not evaluated")),
        ])
        .collect()
    } else {
        vec![
            (status_rgba(Some(true)), t("达标", "Meets")),
            (status_rgba(Some(false)), t("未达标", "Fails")),
            (
                UNKNOWN_RGBA,
                t("未知（数据不足）", "Unknown (data lacking)"),
            ),
            (status_rgba(None), t("无法评估", "Not evaluated")),
        ]
    };
    (title, items)
}

/// Uncovered demand points of `rule` in local metres, with their people.
pub fn uncovered_points(ds: &Dataset, report: &Report, rule: &str) -> Vec<[f64; 2]> {
    report
        .uncovered
        .iter()
        .filter(|p| p.rule == rule)
        .map(|p| {
            let (x, y) = ds.projection.forward(p.lon, p.lat);
            [x, y]
        })
        .collect()
}

/// Which layers a map shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MapLayers {
    pub units: bool,
    pub outlines: bool,
    pub streets: bool,
    pub bands: bool,
    pub uncovered: bool,
    pub facilities: bool,
    pub proposals: bool,
}

impl Default for MapLayers {
    fn default() -> Self {
        MapLayers {
            units: true,
            outlines: true,
            streets: true,
            bands: true,
            uncovered: true,
            facilities: true,
            proposals: true,
        }
    }
}

/// A proposed site to draw.
#[derive(Clone, Debug)]
pub struct ProposalMark {
    pub x: f64,
    pub y: f64,
    pub rank: usize,
    pub accepted: bool,
}

/// A walking band to draw: minutes and triangles (local metres, three per triangle).
#[derive(Clone, Debug)]
pub struct BandMark {
    pub minutes: f64,
    pub triangles: Vec<[f64; 2]>,
}

/// Everything a map needs besides the data.
#[derive(Clone, Debug)]
pub struct MapSpec {
    pub width: u32,
    pub height: u32,
    /// Centre of the view in local metres; `None` fits the finest units.
    pub center: Option<[f64; 2]>,
    /// Pixels per metre; `None` fits the finest units.
    pub scale: Option<f64>,
    pub title: String,
    pub subtitle: String,
    /// Rule colouring the units; `None` = overall status.
    pub rule: Option<String>,
    pub english: bool,
    pub layers: MapLayers,
    pub proposals: Vec<ProposalMark>,
    pub bands: Vec<BandMark>,
}

impl MapSpec {
    /// A fitted map of `width` × `height` pixels.
    pub fn new(width: u32, height: u32, title: impl Into<String>) -> Self {
        MapSpec {
            width,
            height,
            center: None,
            scale: None,
            title: title.into(),
            subtitle: String::new(),
            rule: None,
            english: false,
            layers: MapLayers::default(),
            proposals: Vec::new(),
            bands: Vec::new(),
        }
    }
}

const HEADER: f64 = 64.0;
const SOURCE_LINE: f64 = 13.0;

/// Splits `text` into lines of at most `width` pixels (estimated), at " · " separators
/// where possible.
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines = vec![String::new()];
    for part in text.split(" · ") {
        let cur = lines.last_mut().expect("non-empty");
        let joined = if cur.is_empty() {
            part.to_owned()
        } else {
            format!("{cur} · {part}")
        };
        if text_width(&joined, size) <= width || cur.is_empty() {
            *cur = joined;
        } else {
            lines.push(part.to_owned());
        }
    }
    // A single part wider than the line: cut it by characters.
    let mut out = Vec::new();
    for l in lines {
        let mut cur = String::new();
        for c in l.chars() {
            cur.push(c);
            if text_width(&cur, size) > width {
                let last = cur.pop().expect("pushed");
                out.push(std::mem::take(&mut cur));
                cur.push(last);
            }
        }
        out.push(cur);
    }
    out
}

/// Rough text width for layout (the font is not measured here): CJK glyphs are square,
/// Latin ones about half as wide.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.56 } else { 1.0 })
        .sum::<f64>()
        * size
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn rgb(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn fill_attr(c: Rgba) -> String {
    format!(
        "fill=\"{}\" fill-opacity=\"{:.3}\"",
        rgb([c[0], c[1], c[2]]),
        c[3] as f64 / 255.0
    )
}

/// The longest round length (1, 2 or 5 × 10ⁿ m) not above `target_m`, and its label
/// ("500 m", "2 km"): the scale bar of the app and of exported maps.
pub fn scale_bar_length(target_m: f64) -> (f64, String) {
    let pow = 10f64.powf(target_m.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .rfind(|m| *m <= target_m)
        .unwrap_or(pow);
    let label = if nice >= 1000.0 {
        format!("{} km", nice / 1000.0)
    } else {
        format!("{nice} m")
    };
    (nice, label)
}

/// "walking network" / "straight-line distance" for a report's `mode`, in either language.
pub fn mode_label(mode: &str, english: bool) -> &'static str {
    match (mode == "network", english) {
        (true, true) => "walking network",
        (true, false) => "步行路网",
        (false, true) => "straight-line distance",
        (false, false) => "直线距离",
    }
}

/// The map title's rule part and the subtitle of an analysis map: "plan · mode · m/n units
/// meet" for `rule` (with no rule: units passing every evaluated rule).
pub fn analysis_titles(report: &Report, rule: Option<&str>, english: bool) -> (String, String) {
    let (rule_title, _) = choropleth_legend(report, rule, english);
    let (meeting, total) = match report.rules.iter().find(|r| Some(r.id.as_str()) == rule) {
        Some(r) => (r.units_meeting, r.units_total),
        None => (
            report
                .units
                .iter()
                .filter(|u| super::unit_status(u) == "pass")
                .count(),
            report
                .units
                .iter()
                .filter(|u| super::unit_status(u) != "not_evaluated")
                .count(),
        ),
    };
    let mode = mode_label(report.mode, english);
    let found = report.rules.iter().find(|r| Some(r.id.as_str()) == rule);
    // An aggregate target has one verdict for the jurisdiction; the units only show where
    // the shortfall sits, so the subtitle gives the figure, not "m/n units".
    let verdict = match found {
        Some(r)
            if matches!(
                r.scope,
                crate::coverage::rules::Scope::Aggregate | crate::coverage::rules::Scope::Count
            ) =>
        {
            let v = |x: f64| match r.test {
                "places_per_1000" | "beds_per_1000" => format!("{x:.2}/1000"),
                "capacity_total" | "count" => crate::coverage::analysis::thousands(x),
                _ => format!("{:.1}%", x * 100.0),
            };
            let value = match (r.value, r.range) {
                (Some(x), Some((_, None))) => format!("≥{}", v(x)),
                (Some(x), Some((_, Some(h)))) if (h - x).abs() > 1e-9 => {
                    format!("{}–{}", v(x), v(h))
                }
                (Some(x), _) => v(x),
                (None, _) => "-".into(),
            };
            if english {
                format!(
                    "jurisdiction {value} vs {}: {} (units: diagnostics)",
                    v(r.target),
                    r.status.en()
                )
            } else {
                format!(
                    "全域 {value}，目标 {}：{}（各单元着色为诊断）",
                    v(r.target),
                    r.status.zh()
                )
            }
        }
        _ if english => format!("{meeting}/{total} units meet"),
        _ => format!("{meeting}/{total} 个单元达标"),
    };
    let subtitle = format!("{} · {mode} · {verdict}", report.preset_citation);
    (rule_title, subtitle)
}

/// Where a map puts things: the map frame in pixels and the world → pixel transform.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// View centre, local metres.
    pub center: [f64; 2],
    /// Pixels per metre.
    pub scale: f64,
    cx: f64,
    cy: f64,
    /// The map frame: left, top, right, bottom pixels (title above, sources below).
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Frame {
    /// Local metres → pixel (x right, y down).
    pub fn px(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.cx + (x - self.center[0]) * self.scale,
            self.cy - (y - self.center[1]) * self.scale,
        )
    }
    fn inside(&self, p: (f64, f64), pad: f64) -> bool {
        p.0 >= self.x0 - pad && p.0 <= self.x1 + pad && p.1 >= self.y0 - pad && p.1 <= self.y1 + pad
    }
}

/// Source lines under the map, wrapped to the width.
fn source_lines(ds: &Dataset, spec: &MapSpec) -> Vec<String> {
    let english = spec.english;
    let mut sources: Vec<String> = ds.attribution.clone();
    sources.push(format!(
        "{} {}",
        if english { "Projection" } else { "投影" },
        ds.projection.describe()
    ));
    wrap(
        &format!(
            "{}: {}",
            if english { "Data" } else { "数据来源" },
            sources.join(" · ")
        ),
        10.5,
        spec.width.max(200) as f64 - 32.0,
    )
}

/// The layout of the map `spec` describes: the frame between title and sources, and the
/// view (the spec's, or the finest units fitted into the frame).
pub fn layout(ds: &Dataset, spec: &MapSpec) -> Frame {
    let (w, h) = (spec.width.max(200) as f64, spec.height.max(200) as f64);
    let footer = 10.0 + source_lines(ds, spec).len() as f64 * SOURCE_LINE;
    let (x0, y0, x1, y1) = (0.0, HEADER, w, h - footer);
    let (center, scale) = match (spec.center, spec.scale) {
        (Some(c), Some(s)) if s > 0.0 && s.is_finite() => (c, s),
        _ => match ds.focus_bounds() {
            Some(b) => (
                [b.center().x, b.center().y],
                ((x1 - x0) / b.width().max(1.0)).min((y1 - y0) / b.height().max(1.0)) * 0.92,
            ),
            None => ([0.0, 0.0], 1e-3),
        },
    };
    Frame {
        center,
        scale,
        cx: (x0 + x1) / 2.0,
        cy: (y0 + y1) / 2.0,
        x0,
        y0,
        x1,
        y1,
    }
}

/// Appends a ring as path data, dropping vertices closer than ~0.7 px to the last one
/// kept (the scale's own simplification). Returns false when the ring is off the frame.
fn ring_path(out: &mut String, f: &Frame, ring: &geo::LineString<f64>) -> bool {
    let pts: Vec<(f64, f64)> = ring.0.iter().map(|c| f.px(c.x, c.y)).collect();
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &pts {
        minx = minx.min(p.0);
        miny = miny.min(p.1);
        maxx = maxx.max(p.0);
        maxy = maxy.max(p.1);
    }
    if pts.len() < 3 || maxx < f.x0 || minx > f.x1 || maxy < f.y0 || miny > f.y1 {
        return false;
    }
    let mut last = pts[0];
    let _ = write!(out, "M{:.1} {:.1}", last.0, last.1);
    for p in &pts[1..] {
        if (p.0 - last.0).abs() + (p.1 - last.1).abs() >= 0.7 {
            let _ = write!(out, "L{:.1} {:.1}", p.0, p.1);
            last = *p;
        }
    }
    out.push('Z');
    true
}

fn kind_name(kind: FacilityKind, english: bool) -> &'static str {
    if english {
        kind.en()
    } else {
        kind.zh()
    }
}

/// The map as an SVG document: title and subtitle on top, the map frame (units coloured by
/// `spec.rule`, outlines, streets, walking bands, uncovered demand, facilities, proposals),
/// legend, scale bar and north arrow inside it, and the data sources underneath.
pub fn map_svg(ds: &Dataset, report: Option<&Report>, spec: &MapSpec) -> String {
    let (w, h) = (spec.width.max(200) as f64, spec.height.max(200) as f64);
    let english = spec.english;
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let sources = source_lines(ds, spec);
    let f = layout(ds, spec);
    let (x0, y0, x1, y1, scale) = (f.x0, f.y0, f.x1, f.y1, f.scale);
    let mut s = String::with_capacity(1 << 20);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_FAMILY}\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\
         <clipPath id=\"frame\"><rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\"/></clipPath>\
         <rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"#f6f5f0\"/>\
         <g clip-path=\"url(#frame)\">",
        x1 - x0,
        y1 - y0,
        x1 - x0,
        y1 - y0
    );
    let finest = ds.finest_shaped_tier();
    let rule = spec.rule.as_deref();
    // Units: one path per unit, holes by the even-odd rule.
    if let (true, Some(report)) = (spec.layers.units, report) {
        for u in &ds.units {
            let (Some(g), true) = (&u.geometry, Some(u.level.tier()) == finest) else {
                continue;
            };
            let Some(c) = unit_fill(report, u.id, rule) else {
                continue;
            };
            let mut d = String::new();
            let mut any = false;
            for p in &g.0 {
                any |= ring_path(&mut d, &f, p.exterior());
                for r in p.interiors() {
                    ring_path(&mut d, &f, r);
                }
            }
            if any {
                let _ = write!(
                    s,
                    "<path d=\"{d}\" {} fill-rule=\"evenodd\"/>",
                    fill_attr(c)
                );
            }
        }
    }
    if spec.layers.bands {
        let colours = [45u8, 60, 80];
        for (k, b) in spec.bands.iter().enumerate() {
            let mut d = String::new();
            for t in b.triangles.chunks_exact(3) {
                let p: Vec<_> = t.iter().map(|v| f.px(v[0], v[1])).collect();
                if p.iter().all(|q| !f.inside(*q, 50.0)) {
                    continue;
                }
                let _ = write!(
                    d,
                    "M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z",
                    p[0].0, p[0].1, p[1].0, p[1].1, p[2].0, p[2].1
                );
            }
            if !d.is_empty() {
                let _ = write!(
                    s,
                    "<path d=\"{d}\" {}/>",
                    fill_attr([70, 110, 220, colours[k.min(2)]])
                );
            }
        }
    }
    if spec.layers.streets && !ds.network.is_empty() {
        let mut d = String::new();
        for l in &ds.network {
            let pts: Vec<_> = l.geometry.0.iter().map(|c| f.px(c.x, c.y)).collect();
            if !pts.iter().any(|p| f.inside(*p, 0.0)) {
                continue;
            }
            let _ = write!(d, "M{:.1} {:.1}", pts[0].0, pts[0].1);
            for p in &pts[1..] {
                let _ = write!(d, "L{:.1} {:.1}", p.0, p.1);
            }
        }
        let _ = write!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"#bebebe\" stroke-width=\"0.6\"/>"
        );
    }
    if spec.layers.outlines {
        for tier in 1..=4u8 {
            let mut d = String::new();
            for u in ds.units.iter().filter(|u| u.level.tier() == tier) {
                if let Some(g) = &u.geometry {
                    for p in &g.0 {
                        ring_path(&mut d, &f, p.exterior());
                    }
                }
            }
            if d.is_empty() {
                continue;
            }
            let (width, colour) = match tier {
                1 => (2.0, "#3c3c6e"),
                2 => (1.0, "#5a6ea0"),
                _ => (0.6, "#8c96b4"),
            };
            let _ = write!(
                s,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" \
                 stroke-linejoin=\"round\"/>"
            );
        }
    }
    let uncovered_rule = rule.filter(|_| report.is_some_and(|r| is_share_rule(r, rule)));
    let mut n_uncovered = 0;
    if let (true, Some(report), Some(id)) = (spec.layers.uncovered, report, uncovered_rule) {
        // One dot per pixel: thousands of grid points in one pixel add nothing visible.
        let mut seen = HashSet::new();
        let mut d = String::new();
        for [x, y] in uncovered_points(ds, report, id) {
            let p = f.px(x, y);
            if f.inside(p, 0.0) && seen.insert((p.0 as i64, p.1 as i64)) {
                let _ = write!(d, "M{:.1} {:.1}h1.6v1.6h-1.6Z", p.0 - 0.8, p.1 - 0.8);
                n_uncovered += 1;
            }
        }
        if !d.is_empty() {
            let _ = write!(s, "<path d=\"{d}\" {}/>", fill_attr(UNCOVERED_RGBA));
        }
    }
    let mut kinds_drawn: Vec<FacilityKind> = Vec::new();
    let mut synthetic_drawn = false;
    let mut planned_drawn = false;
    if spec.layers.facilities {
        for fac in &ds.facilities {
            let Some(p) = fac.location else { continue };
            let q = f.px(p.x(), p.y());
            if !f.inside(q, 5.0) {
                continue;
            }
            let c = rgb(kind_rgb(fac.kind));
            if !kinds_drawn.contains(&fac.kind) {
                kinds_drawn.push(fac.kind);
            }
            if fac.synthetic {
                synthetic_drawn = true;
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"none\" stroke=\"{c}\" \
                     stroke-width=\"1.5\"/>",
                    q.0, q.1
                );
            } else if fac.status == FacilityStatus::Existing {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{c}\" stroke=\"#ffffff\" \
                     stroke-width=\"0.8\"/>",
                    q.0, q.1
                );
            } else {
                planned_drawn = true;
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" fill=\"{c}\"/>",
                    q.0 - 3.5,
                    q.1 - 3.5
                );
            }
        }
    }
    let orange = rgb(PROPOSAL_RGB);
    let mut proposals_drawn = false;
    if spec.layers.proposals {
        for p in &spec.proposals {
            let q = f.px(p.x, p.y);
            if !f.inside(q, 8.0) {
                continue;
            }
            proposals_drawn = true;
            let pts = format!(
                "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                q.0,
                q.1 - 7.0,
                q.0 + 7.0,
                q.1,
                q.0,
                q.1 + 7.0,
                q.0 - 7.0,
                q.1
            );
            if p.accepted {
                let _ = write!(
                    s,
                    "<polygon points=\"{pts}\" fill=\"{orange}\" stroke=\"#000000\" stroke-width=\"1\"/>"
                );
            } else {
                let _ = write!(
                    s,
                    "<polygon points=\"{pts}\" fill=\"#ffffff\" fill-opacity=\"0.6\" stroke=\"{orange}\" stroke-width=\"2\"/>"
                );
            }
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#000000\">{}</text>",
                q.0 + 8.0,
                q.1 - 6.0,
                p.rank
            );
        }
    }
    s.push_str("</g>");
    // Legend, inside the frame's top-left corner on a white card.
    let mut rows: Vec<(String, String)> = Vec::new(); // (symbol svg at 0,0, label)
    let mut legend_title = None;
    if let (true, Some(report)) = (spec.layers.units, report) {
        let (title, items) = choropleth_legend(report, rule, english);
        legend_title = Some(title);
        for (c, label) in items {
            rows.push((
                format!(
                    "<rect x=\"0\" y=\"-11\" width=\"16\" height=\"12\" {} stroke=\"#666666\" stroke-width=\"0.5\"/>",
                    fill_attr(c)
                ),
                label,
            ));
        }
    }
    if spec.layers.bands {
        for b in &spec.bands {
            rows.push((
                format!(
                    "<rect x=\"0\" y=\"-11\" width=\"16\" height=\"12\" {}/>",
                    fill_attr([70, 110, 220, 110])
                ),
                format!(
                    "{} {:.0} {}",
                    t("步行", "Walk"),
                    b.minutes,
                    t("分钟可达范围", "min reach")
                ),
            ));
        }
    }
    if n_uncovered > 0 {
        rows.push((
            format!(
                "<rect x=\"6\" y=\"-7\" width=\"4\" height=\"4\" {}/>",
                fill_attr(UNCOVERED_RGBA)
            ),
            t("未覆盖的需求点", "Uncovered demand").to_owned(),
        ));
    }
    for k in FacilityKind::ALL {
        if kinds_drawn.contains(&k) {
            rows.push((
                format!(
                    "<circle cx=\"8\" cy=\"-5\" r=\"4.5\" fill=\"{}\"/>",
                    rgb(kind_rgb(k))
                ),
                kind_name(k, english).to_owned(),
            ));
        }
    }
    if planned_drawn {
        rows.push((
            "<rect x=\"4\" y=\"-9\" width=\"8\" height=\"8\" fill=\"#777777\"/>".into(),
            t("方块 = 规划设施", "Square = planned facility").to_owned(),
        ));
    }
    if synthetic_drawn {
        rows.push((
            "<circle cx=\"8\" cy=\"-5\" r=\"3.5\" fill=\"none\" stroke=\"#b45a00\" stroke-width=\"1.5\"/>".into(),
            t("空心圆 = 模拟设施（非真实数据）", "Hollow ring = synthetic facility (not real)").to_owned(),
        ));
    }
    if proposals_drawn {
        rows.push((
            format!("<polygon points=\"8,-12 15,-5 8,2 1,-5\" fill=\"{orange}\" stroke=\"#000000\" stroke-width=\"1\"/>"),
            t("建议新增选址（空心 = 待定）", "Proposed site (hollow = undecided)").to_owned(),
        ));
    }
    if !rows.is_empty() {
        let title_w = legend_title.as_deref().map_or(0.0, |t| text_width(t, 14.0));
        let lw = rows
            .iter()
            .map(|(_, l)| 24.0 + text_width(l, 12.0))
            .fold(title_w, f64::max)
            + 20.0;
        let lh = 14.0 + rows.len() as f64 * 18.0 + if legend_title.is_some() { 22.0 } else { 0.0 };
        let (lx, ly) = (x0 + 10.0, y0 + 10.0);
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{ly}\" width=\"{lw:.0}\" height=\"{lh:.0}\" rx=\"4\" fill=\"#ffffff\" \
             fill-opacity=\"0.9\" stroke=\"#999999\" stroke-width=\"0.6\"/>"
        );
        let mut y = ly + 8.0;
        if let Some(title) = &legend_title {
            y += 16.0;
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"14\" font-weight=\"bold\" fill=\"#000000\">{}</text>",
                lx + 10.0,
                esc(title)
            );
            y += 6.0;
        }
        for (sym, label) in &rows {
            y += 18.0;
            let _ = write!(
                s,
                "<g transform=\"translate({:.1} {y:.1})\">{sym}</g>\
                 <text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"12\" fill=\"#000000\">{}</text>",
                lx + 10.0,
                lx + 34.0,
                esc(label)
            );
        }
    }
    // Scale bar: a round length of about a fifth of the frame.
    let (nice, label) = scale_bar_length((x1 - x0) / 5.0 / scale);
    let len = nice * scale;
    let (sx, sy) = (x0 + 20.0, y1 - 18.0);
    let _ = write!(
        s,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"30\" fill=\"#ffffff\" fill-opacity=\"0.8\"/>\
         <path d=\"M{sx:.1} {:.1}V{sy:.1}H{:.1}V{:.1}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"2\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#000000\">{label}</text>",
        sx - 8.0,
        sy - 24.0,
        len + 16.0,
        sy - 6.0,
        sx + len,
        sy - 6.0,
        sx + len / 2.0,
        sy - 9.0
    );
    // North arrow (the local projection's grid north; within a degree of true north).
    let (nx, ny) = (x1 - 30.0, y0 + 16.0);
    let _ = write!(
        s,
        "<polygon points=\"{nx:.1},{ny:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"#000000\"/>\
         <text x=\"{nx:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#000000\">N</text>",
        nx - 7.0,
        ny + 20.0,
        nx + 7.0,
        ny + 20.0,
        ny + 34.0
    );
    // Header and footer.
    let _ = write!(
        s,
        "<text x=\"16\" y=\"30\" font-size=\"22\" font-weight=\"bold\" fill=\"#000000\">{}</text>\
         <text x=\"16\" y=\"52\" font-size=\"13\" fill=\"#444444\">{}</text>",
        esc(&spec.title),
        esc(&spec.subtitle)
    );
    for (k, line) in sources.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"16\" y=\"{:.1}\" font-size=\"10.5\" fill=\"#555555\">{}</text>",
            y1 + 16.0 + k as f64 * SOURCE_LINE,
            esc(line)
        );
    }
    s.push_str("</svg>");
    s
}

/// Rasterises an SVG made by [`map_svg`] with the bundled font.
pub fn svg_to_png(svg: &str) -> std::result::Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut fontdb = usvg::fontdb::Database::new();
    fontdb.load_font_data(CJK_FONT.to_vec());
    let opt = usvg::Options {
        font_family: FONT_FAMILY.to_owned(),
        fontdb: Arc::new(fontdb),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| format!("SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("cannot allocate a {}×{} image", size.width(), size.height()))?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG: {e}"))
}

/// Writes the map to `path` atomically: `.svg` as SVG, anything else as PNG.
pub fn write_map(ds: &Dataset, report: Option<&Report>, spec: &MapSpec, path: &Path) -> Result<()> {
    let svg = map_svg(ds, report, spec);
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let bytes = if is_svg {
        svg.into_bytes()
    } else {
        svg_to_png(&svg).map_err(|e| Error::format(path, e))?
    };
    crate::io::geojson::write_atomic(path, &bytes)
}
