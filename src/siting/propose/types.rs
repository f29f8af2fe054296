//! What a proposal is asked and what it answers: the model and options, candidate sites,
//! ranked proposals, before → after deltas and the outcome.

use super::*;

/// Which model a proposal run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposeModel {
    Mclp,
    Lscp,
    Pmedian,
    /// The fewest sites so that `ProposeOptions::share` of demand is within reach.
    Threshold,
    /// Sites open as one of several sizes at a cost within a budget, serving people up to
    /// their capacity (see `siting::sized`).
    Sized,
    /// Nurseries with capacity modules: every unit short of its places-per-1000 target gets
    /// enough sites to close the gap; the rest maximise 0–3 coverage.
    Capacitated,
}

impl ProposeModel {
    /// The model's name for people ("最大覆盖 MCLP").
    pub fn name(self, english: bool) -> &'static str {
        match (self, english) {
            (ProposeModel::Mclp, false) => "最大覆盖 MCLP",
            (ProposeModel::Mclp, true) => "max coverage (MCLP)",
            (ProposeModel::Lscp, false) => "最少设施全覆盖 LSCP",
            (ProposeModel::Lscp, true) => "fewest sites, full cover (LSCP)",
            (ProposeModel::Pmedian, false) => "p-中位",
            (ProposeModel::Pmedian, true) => "p-median",
            (ProposeModel::Threshold, false) => "阈值覆盖（最少设施达到覆盖率）",
            (ProposeModel::Threshold, true) => "threshold covering (fewest sites to a share)",
            (ProposeModel::Sized, false) => "规模选择（预算内服务人数最多）",
            (ProposeModel::Sized, true) => "size choice (most people served within budget)",
            (ProposeModel::Capacitated, false) => "容量约束",
            (ProposeModel::Capacitated, true) => "capacitated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "capacitated" | "cap" => ProposeModel::Capacitated,
            "sized" | "modules" => ProposeModel::Sized,
            other => match Model::parse(other)? {
                Model::Mclp => ProposeModel::Mclp,
                Model::Lscp => ProposeModel::Lscp,
                Model::Pmedian => ProposeModel::Pmedian,
                Model::Threshold => ProposeModel::Threshold,
            },
        })
    }
}

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct ProposeOptions {
    pub kind: FacilityKind,
    pub model: ProposeModel,
    pub p: Option<usize>,
    pub exact: bool,
    pub time_limit: f64,
    /// Add the presence rules of the kind as constraints (one site in every unit that
    /// lacks one, where a candidate lies in it).
    pub quotas: bool,
    /// Count planned projects as built.
    pub include_planned: bool,
    /// Scenario year (see `coverage::Options::year`).
    pub year: Option<i32>,
    /// Minimum spacing between generated candidates; default a quarter of the radius.
    pub spacing_m: Option<f64>,
    /// Radius override when the preset has no reach rule for the kind.
    pub radius_m: Option<f64>,
    /// Nursery module sizes (places), smallest first after sorting.
    pub modules: Vec<f64>,
    /// Threshold covering: the share of demand (0–1] to bring within reach.
    pub share: Option<f64>,
    /// Where no site may go (rivers, parks, military land), and what to call it.
    pub excluded: Option<Excluded>,
    /// No new site within this many metres of an existing facility of the kind (AccessMod's
    /// "not within 5 km of an existing facility").
    pub forbidden_radius_m: Option<f64>,
    /// Sized model: the cost of each module in `modules` (empty: 1 each), the budget, and
    /// the share of the group that needs a place.
    pub module_costs: Vec<f64>,
    pub budget: Option<f64>,
    pub uptake: f64,
}

/// Areas or points no new site may go in or near, in the dataset's metres.
#[derive(Clone, Debug)]
pub struct Excluded {
    pub shapes: Vec<geo::Geometry<f64>>,
    /// Candidates closer than this to a shape are excluded too (points need one).
    pub buffer_m: f64,
    /// The option and file, for messages ("--exclude parks.geojson").
    pub label: String,
}

impl Default for ProposeOptions {
    fn default() -> Self {
        Self {
            kind: FacilityKind::DayCare,
            model: ProposeModel::Mclp,
            p: None,
            exact: false,
            time_limit: 60.0,
            quotas: false,
            include_planned: false,
            year: None,
            spacing_m: None,
            radius_m: None,
            modules: vec![80.0, 150.0],
            share: None,
            excluded: None,
            forbidden_radius_m: None,
            module_costs: Vec::new(),
            budget: None,
            uptake: 1.0,
        }
    }
}

/// A site that may be opened.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    /// "file", "gap_cluster", "network_node", "grid", "unit_centre".
    pub origin: &'static str,
    #[serde(skip)]
    pub location: Point<f64>,
    #[serde(skip)]
    pub unit: Option<UnitId>,
    /// Unknown attributes of a user candidate, kept for the output.
    #[serde(skip)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// One proposed site, in rank order.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Proposal {
    pub rank: usize,
    pub candidate_id: String,
    pub name: String,
    pub origin: Cow<'static, str>,
    pub lon: f64,
    pub lat: f64,
    pub x: f64,
    pub y: f64,
    pub unit_code: String,
    pub unit_name: String,
    /// People of the rule's age group newly covered by this site given the ones ranked
    /// before it (and every existing facility).
    pub marginal_people: f64,
    /// Nursery places of the site (capacitated model).
    pub places: Option<f64>,
    /// Rule ids this site's unit passes after the proposals and failed before.
    pub fixes: Vec<String>,
    #[serde(skip)]
    pub candidate: usize,
}

/// A rule before and after the proposals.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct RuleDelta {
    pub id: String,
    pub title: String,
    pub title_en: String,
    pub test: Cow<'static, str>,
    pub target: f64,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub units_total: usize,
    pub units_meeting_before: usize,
    pub units_meeting_after: usize,
    pub people_covered_before: Option<f64>,
    pub people_covered_after: Option<f64>,
    /// Gini of the rule's unit values over units, before and after (see `coverage::equity`).
    #[serde(default)]
    pub gini_before: Option<f64>,
    #[serde(default)]
    pub gini_after: Option<f64>,
    /// Share of the group's people in the worst-served tenth of units, before and after.
    #[serde(default)]
    pub worst_decile_share_before: Option<f64>,
    #[serde(default)]
    pub worst_decile_share_after: Option<f64>,
}

impl RuleDelta {
    /// The title in the UI's language.
    pub fn title_in(&self, english: bool) -> &str {
        if english {
            &self.title_en
        } else {
            &self.title
        }
    }

    /// Whether the dataset has anything the rule applies to (a rule on communities, say,
    /// on data without community units is not evaluable, before or after).
    pub fn evaluable(&self) -> bool {
        self.units_total > 0 || self.before.is_some() || self.after.is_some()
    }

    /// What the before/after list says for a rule that is not [`evaluable`](Self::evaluable).
    pub fn not_evaluable_text(english: bool) -> &'static str {
        if english {
            "not evaluable (no units it applies to)"
        } else {
            "无法评估（数据中无适用单元）"
        }
    }
}

/// The answer of a run.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Proposals {
    pub dataset: String,
    pub preset: String,
    pub kind: Cow<'static, str>,
    pub model: ProposeModel,
    /// Threshold covering: the share asked for.
    #[serde(default)]
    pub share: Option<f64>,
    pub mode: Cow<'static, str>,
    /// The reach rule used for coverage (None when `--radius` stood in).
    pub rule: Option<String>,
    pub radius_m: f64,
    pub group: AgeGroup,
    pub p: usize,
    pub candidates: usize,
    pub candidates_by_origin: BTreeMap<Cow<'static, str>, usize>,
    pub proposals: Vec<Proposal>,
    /// Model objective: people covered (MCLP, capacitated), sites (LSCP), weighted metres
    /// (p-median).
    pub objective: f64,
    pub greedy_objective: f64,
    pub bound: Option<f64>,
    pub gap: Option<f64>,
    pub status: String,
    pub seconds: f64,
    pub people_total: f64,
    pub people_covered_before: f64,
    pub people_covered_after: f64,
    pub places_added: f64,
    pub rules: Vec<RuleDelta>,
    pub notes: Vec<String>,
}

/// Everything a caller may want: the proposals and the two coverage reports.
pub struct Outcome {
    pub proposals: Proposals,
    pub before: Report,
    pub after: Report,
    /// The dataset with the proposals added as `proposed` facilities.
    pub dataset_after: Dataset,
}
