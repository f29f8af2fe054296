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

mod layers;
pub(crate) mod svg;
pub use svg::*;

/// The CJK font shipped with CareCircle (WenQuanYi Micro Hei, GB2312 subset plus every
/// character of the demo data; Apache-2.0 / GPLv3).
pub const CJK_FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei-gb2312.ttf");
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
pub fn uncovered_points(report: &Report, rule: &str) -> Vec<[f64; 2]> {
    report
        .uncovered
        .iter()
        .filter(|p| &*p.rule == rule)
        .map(|p| [p.x, p.y])
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
    /// Print layout: the legend, north arrow and scale bar in a column of their own to the
    /// right of the data, never over it.
    pub legend_panel: bool,
    /// Dots per inch of a PNG: the layout is in pixels at 96 to the inch, so 300 renders it
    /// 3.125 × larger with every symbol and word in proportion.
    pub dpi: f64,
}

/// The elderly circle's walking bands (⅓, ⅔ and all of the walk, widest first so the
/// nearer ones paint over it) as triangles to draw: what the app's map and the report's
/// circle map show in walking-network mode.
pub fn band_marks(
    sc: &crate::coverage::Scenario,
    graph: &crate::network::Graph,
    facilities: &[crate::model::Facility],
) -> Vec<BandMark> {
    use geo::TriangulateEarcut;
    let speed = sc.rules().settings.walk_speed_m_s;
    sc.bands(graph, facilities)
        .into_iter()
        .map(|band| {
            let mut triangles = Vec::new();
            for p in &band.area.0 {
                let raw = p.earcut_triangles_raw();
                triangles.extend(raw.triangle_indices.iter().map(|i| raw.vertices[*i]));
            }
            BandMark {
                minutes: band.limit_m / (60.0 * speed),
                triangles,
            }
        })
        .collect()
}

/// Width of the print layout's legend column, pixels (at 96 to the inch: 66 mm).
pub const LEGEND_PANEL: f64 = 250.0;

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
            legend_panel: false,
            dpi: 96.0,
        }
    }
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
            let v = |x: f64| r.value_text(x, english);
            let value = r.value_with_range(english);
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
