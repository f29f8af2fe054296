//! One scenario, filled by every front end: which plan (preset), how people walk (minutes ×
//! speed, with named speeds), straight line or the walking network (and how far a point may
//! be from a street), whether planned projects count and by which year. The CLI parses its
//! arguments into a [`Scenario`]; the app edits one; neither recomputes what it knows.
//!
//! ```
//! use carecircle::coverage::{DistanceMode, Scenario, WalkSpeed};
//! let mut s = Scenario::new("heilongjiang-2021").unwrap();
//! s.set_walk(10.0, WalkSpeed::Elderly.m_s()).unwrap();
//! assert_eq!(s.walk().describe(), "10 min × 0.8 m/s = 480 m");
//! assert_eq!(s.mode, DistanceMode::Euclidean);
//! assert!(s.rules().rules.iter().any(|r| r.distance == Some(s.walk())));
//! ```

use super::access::{Accessibility, DistanceMode, Euclidean};
use super::analysis::Options;
use super::network_access::NetworkAccess;
use super::rules::{Distance, RuleSet, Test};
use crate::error::{Error, Result};
use crate::model::{Facility, FacilityStatus};
use crate::network::{catchment_bands, Band, Graph, DEFAULT_BUFFER_M, DEFAULT_CELL_M};

/// Named walking speeds (studies of older pedestrians use about 0.8–1.0 m/s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkSpeed {
    Elderly,
    Adult,
    Wheelchair,
}

impl WalkSpeed {
    pub const ALL: [WalkSpeed; 3] = [WalkSpeed::Elderly, WalkSpeed::Adult, WalkSpeed::Wheelchair];
    pub fn m_s(self) -> f64 {
        match self {
            WalkSpeed::Elderly => 0.8,
            WalkSpeed::Adult => 1.2,
            WalkSpeed::Wheelchair => 0.6,
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            WalkSpeed::Elderly => "老人",
            WalkSpeed::Adult => "成人",
            WalkSpeed::Wheelchair => "轮椅",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            WalkSpeed::Elderly => "elderly",
            WalkSpeed::Adult => "adult",
            WalkSpeed::Wheelchair => "wheelchair",
        }
    }
}

/// Points farther than this from any street are unreachable on the walking network.
/// The longest walk a scenario takes, minutes.
pub const MAX_WALK_MINUTES: f64 = 240.0;
/// The fastest walking speed a scenario takes, m/s.
pub const MAX_WALK_SPEED_M_S: f64 = 5.0;
/// The farthest snap to a street a scenario takes, metres.
pub const MAX_SNAP_M: f64 = 5000.0;

pub const DEFAULT_MAX_SNAP_M: f64 = 300.0;

/// A plan checked under one set of assumptions.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The preset name or TOML path the rules came from.
    pub preset: String,
    rules: RuleSet,
    pub mode: DistanceMode,
    /// Network mode: metres a point may lie from a street and still be reached.
    pub max_snap_m: f64,
    /// Count planned projects as built (all, or those due by `year`).
    pub include_planned: bool,
    /// The scenario year (implies counting planned projects due by then).
    pub year: Option<i32>,
}

impl Scenario {
    /// A scenario on a preset name or a TOML file, with the preset's walk settings,
    /// straight-line distances and existing facilities only.
    pub fn new(preset: &str) -> Result<Self> {
        Ok(Scenario {
            preset: preset.to_owned(),
            rules: RuleSet::load(preset)?,
            mode: DistanceMode::default(),
            max_snap_m: DEFAULT_MAX_SNAP_M,
            include_planned: false,
            year: None,
        })
    }

    /// The rules, with the walk applied to every rule that follows it.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Changes the walking time and speed (both positive).
    pub fn set_walk(&mut self, minutes: f64, speed_m_s: f64) -> Result<()> {
        // Upper bounds with a reason: a "circle" of more than 4 hours' walk is no service
        // circle, and 5 m/s is a runner's pace, not a walk.
        let ok = |v: f64, hi: f64| v.is_finite() && v > 0.0 && v <= hi;
        if !(ok(minutes, MAX_WALK_MINUTES) && ok(speed_m_s, MAX_WALK_SPEED_M_S)) {
            return Err(Error::Input {
                en: format!(
                    "walking time {minutes} min and speed {speed_m_s} m/s must be positive, at most {MAX_WALK_MINUTES} min (a service circle, not a journey) and {MAX_WALK_SPEED_M_S} m/s (a walk, not a run)"
                ),
                zh: format!("步行时间 {minutes} 分钟和速度 {speed_m_s} 米/秒必须为正数，且不超过 {MAX_WALK_MINUTES} 分钟（服务圈而非长途）和 {MAX_WALK_SPEED_M_S} 米/秒（步行而非跑步）"),
            });
        }
        self.rules.set_walk(minutes, speed_m_s);
        Ok(())
    }

    /// The elderly-care walk: minutes × speed = metres.
    pub fn walk(&self) -> Distance {
        self.rules.settings.walk()
    }

    /// What counts as built.
    pub fn options(&self) -> Options {
        Options {
            include_planned: self.include_planned,
            include_proposed: false,
            year: self.year,
        }
    }

    /// The distance the coverage engine uses. Network mode needs the walking graph;
    /// without it this is an error naming what is missing, never a silent fallback.
    pub fn access<'g>(&self, graph: Option<&'g Graph>) -> Result<Box<dyn Accessibility + 'g>> {
        Ok(match (self.mode, graph) {
            (DistanceMode::Euclidean, _) => Box::new(Euclidean),
            (DistanceMode::Network, Some(graph)) => {
                Box::new(NetworkAccess::new(graph, self.max_snap_m))
            }
            (DistanceMode::Network, None) => {
                return Err(Error::Input {
                    en: "walking-network mode needs a street network: the dataset has none".into(),
                    zh: "步行路网模式需要路网：数据集中没有路网".into(),
                })
            }
        })
    }

    /// The walking bands of the elderly circle (a third, two thirds and all of the walk,
    /// widest first) around the existing facilities of its kinds.
    pub fn bands(&self, graph: &Graph, facilities: &[Facility]) -> Vec<Band> {
        let kinds = self
            .rules
            .rules
            .iter()
            .find(|r| r.test == Test::PopulationWithin && r.follows_walk)
            .map(|r| r.kinds.clone())
            .unwrap_or_default();
        let snaps: Vec<_> = facilities
            .iter()
            .filter(|f| kinds.contains(&f.kind) && f.status == FacilityStatus::Existing)
            .filter_map(|f| f.location.and_then(|l| graph.snap(l, self.max_snap_m)))
            .collect();
        let max = self.walk().metres;
        let mut bands = catchment_bands(
            graph,
            &snaps,
            &[max / 3.0, max * 2.0 / 3.0, max],
            DEFAULT_BUFFER_M,
            DEFAULT_CELL_M,
        );
        bands.reverse();
        bands
    }
}
