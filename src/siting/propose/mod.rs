//! Proposals on a dataset: "given what we have, where do the next N day-care rooms or
//! nurseries go, and how good is that answer?"
//!
//! Flow: the coverage rule of the kind gives the radius (or walking distance) and the age
//! group; the demand model gives weighted points; existing (and optionally planned)
//! facilities count as open; candidates come from the user's layer or are generated; the
//! model runs (heuristic, optionally exact with a bound); each chosen site is ranked by its
//! marginal gain; the coverage engine re-runs with the proposals added (before/after).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use geo::{InteriorPoint, Point};
use serde::Serialize;

use super::{Cover, Model, Problem, Quota};
use crate::coverage::analysis::Analysis;
use crate::coverage::rules::AgeGroup;
use crate::coverage::{self, Accessibility, Report, RuleSet, Test};
use crate::model::{
    Dataset, Facility, FacilityId, FacilityKind, FacilityStatus, LayerId, Qualifiers, UnitId,
    UnitRef,
};
use crate::progress::{check, Progress};

mod candidates;

use crate::spatial::{point_tree, UnitIndexes};
use crate::{Error, Result};
pub use candidates::candidates_from;
use candidates::*;

/// Which model a proposal run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposeModel {
    Mclp,
    Lscp,
    Pmedian,
    /// Nurseries with capacity modules: every unit short of its places-per-1000 target gets
    /// enough sites to close the gap; the rest maximise 0–3 coverage.
    Capacitated,
}

impl ProposeModel {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "capacitated" | "cap" => ProposeModel::Capacitated,
            other => match Model::parse(other)? {
                Model::Mclp => ProposeModel::Mclp,
                Model::Lscp => ProposeModel::Lscp,
                Model::Pmedian => ProposeModel::Pmedian,
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
}

impl RuleDelta {
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

/// The kind's reach rule: a population-within rule that counts this kind.
fn reach_rule(rules: &RuleSet, kind: FacilityKind) -> Option<&coverage::rules::Rule> {
    rules
        .rules
        .iter()
        .find(|r| r.test == Test::PopulationWithin && r.kinds.contains(&kind))
}

/// How far (× the service radius) walking searches go for the p-median: its objective
/// needs distances past the circle, and a bounded search keeps the network job finite.
pub const PMEDIAN_REACH: f64 = 3.0;

/// Runs a proposal.
pub fn propose(
    ds: &Dataset,
    rules: &RuleSet,
    opts: &ProposeOptions,
    given: Option<Vec<Candidate>>,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let t0 = std::time::Instant::now();
    let mut notes = Vec::new();
    if opts.model == ProposeModel::Capacitated && opts.kind != FacilityKind::Nursery {
        return Err(Error::Analysis(
            "the capacitated model is for nurseries (places per 1000): use --kind nursery or another model".into(),
        ));
    }
    let copts = coverage::Options {
        include_planned: opts.include_planned,
        include_proposed: false,
        year: opts.year,
    };
    // One demand model for the "before" report and the siting problem.
    let an = Analysis::prepare(ds, rules, &copts, progress)?;
    progress.stage("coverage before", None);
    let before = coverage::analysis::analyze_prepared(&an, rules, &copts, access, progress)?;
    check(progress)?;

    let rule = reach_rule(rules, opts.kind);
    let (radius, group, cover_kinds) = match (rule, opts.radius_m) {
        (_, Some(r)) => (
            r,
            rule.map(|r| r.group).unwrap_or(default_group(opts.kind)),
            rule.map(|r| r.kinds.clone()).unwrap_or(vec![opts.kind]),
        ),
        (Some(r), None) => (
            r.distance.expect("population rules have a distance").metres,
            r.group,
            r.kinds.clone(),
        ),
        (None, None) => {
            let d = rules.settings.walk();
            notes.push(format!(
                "preset {} has no reach rule for {}: coverage uses the walking circle {} (give --radius to change)",
                rules.id,
                opts.kind.key(),
                d.describe()
            ));
            (d.metres, default_group(opts.kind), vec![opts.kind])
        }
    };
    if !(radius.is_finite() && radius > 0.0) {
        return Err(Error::input(
            format!("radius must be positive, not {radius}"),
            format!("服务半径须为正数，当前为 {radius}"),
        ));
    }

    let demand_pts: Vec<Point<f64>> = an.demand.points.iter().map(|d| d.location).collect();
    let weight: Vec<f64> = an.demand.points.iter().map(|d| d.weight(group)).collect();
    let existing: Vec<Point<f64>> = ds
        .facilities
        .iter()
        .filter(|f| an.counted[f.id.index()] && cover_kinds.contains(&f.kind))
        .filter_map(|f| f.location)
        .collect();
    // p-median needs distances beyond the circle: walking searches go to PMEDIAN_REACH ×
    // the radius, and farther demand counts as that far.
    let pmedian = opts.model == ProposeModel::Pmedian;
    let walking = access.mode() != "euclidean";
    let cutoff = if pmedian && walking {
        radius * PMEDIAN_REACH
    } else {
        radius
    };
    progress.stage("existing coverage", None);
    // Metres to the nearest existing facility, if within the cutoff.
    let nearest_existing: Vec<Option<f64>> = if existing.is_empty() {
        vec![None; demand_pts.len()]
    } else {
        access
            .nearest_within(&demand_pts, &existing, cutoff, progress)?
            .iter()
            .map(|n| n.map(|(_, m)| m))
            .collect()
    };
    let by_existing: Vec<bool> = nearest_existing
        .iter()
        .map(|m| m.is_some_and(|m| m <= radius))
        .collect();
    check(progress)?;

    // Candidates.
    let idx = UnitIndexes::new(ds);
    let spacing = opts.spacing_m.unwrap_or(radius / 4.0).max(1.0);
    let mut cands = match given {
        Some(c) => {
            if c.is_empty() {
                return Err(Error::Analysis(
                    "the candidate file has no sites: give points, or leave out --candidates to generate them".into(),
                ));
            }
            let outside = c.iter().filter(|c| c.unit.is_none()).count();
            if outside == c.len() {
                return Err(Error::input(
                    format!(
                        "none of the {} candidate sites lies inside the dataset's units: is the file in another CRS? (declare it with --candidates-crs)",
                        c.len()
                    ),
                    format!(
                        "{} 个候选点都不在数据集的行政单元内：候选点文件是否为其他坐标系？请声明其坐标系",
                        c.len()
                    ),
                ));
            }
            if outside > 0 {
                notes.push(format!(
                    "{outside} of {} candidate sites lie outside every unit: they are used but belong to no unit",
                    c.len()
                ));
            }
            c
        }
        None => {
            progress.stage("candidate sites", None);
            let deficit_units = if opts.model == ProposeModel::Capacitated {
                places_deficits(&before, rules)
                    .into_iter()
                    .map(|(u, _)| u)
                    .collect()
            } else if opts.quotas {
                quota_units(ds, &before, rules, opts.kind)
                    .into_iter()
                    .map(|(u, _)| u)
                    .collect()
            } else {
                Vec::new()
            };
            generate(
                ds,
                &idx,
                &demand_pts,
                &weight,
                &by_existing,
                radius,
                spacing,
                &deficit_units,
                access,
            )
        }
    };
    for c in cands.iter_mut() {
        if c.unit.is_none() {
            c.unit = idx.locate_finest(ds, c.location);
        }
    }
    let mut by_origin: BTreeMap<&'static str, usize> = BTreeMap::new();
    for c in &cands {
        *by_origin.entry(c.origin).or_default() += 1;
    }
    check(progress)?;

    // Coverage sets: the R-tree in straight-line mode, the walking network otherwise.
    let cand_pts: Vec<Point<f64>> = cands.iter().map(|c| c.location).collect();
    let cover = if !walking {
        None
    } else {
        progress.stage("candidate catchments", None);
        let reach = access.all_within(&demand_pts, &cand_pts, cutoff, progress)?;
        let mut sets: Vec<Vec<(u32, f32)>> = vec![Vec::new(); cands.len()];
        for i in 0..demand_pts.len() {
            for (j, m) in reach.of(i) {
                sets[j as usize].push((i as u32, m));
            }
        }
        for s in sets.iter_mut() {
            s.sort_unstable_by_key(|(i, _)| *i);
        }
        let existing_m = if pmedian {
            let far = |m: &Option<f64>| m.unwrap_or(f64::INFINITY);
            nearest_existing.iter().map(far).collect()
        } else {
            vec![f64::INFINITY; demand_pts.len()]
        };
        if pmedian {
            notes.push(format!(
                "p-median on walking distances: searches stop at {cutoff:.0} m ({PMEDIAN_REACH} × the {radius:.0} m circle); demand farther than that from every open site counts as {cutoff:.0} m"
            ));
        }
        Some(Cover {
            metres: if pmedian {
                sets.iter()
                    .map(|s| s.iter().map(|(_, m)| *m).collect())
                    .collect()
            } else {
                Vec::new()
            },
            sets: sets
                .into_iter()
                .map(|s| s.into_iter().map(|(i, _)| i).collect())
                .collect(),
            by_existing: by_existing.clone(),
            existing_m,
            cutoff,
        })
    };

    // Quotas. A candidate counts for the units above the finest unit it lies in: the same
    // rule the coverage engine uses when it counts the proposals afterwards.
    let inside = |u: UnitId| -> Vec<usize> {
        (0..cands.len())
            .filter(|j| {
                cands[*j]
                    .unit
                    .is_some_and(|c| ds.ancestors(c).any(|a| a == u))
            })
            .collect()
    };
    let mut quotas: Vec<Quota> = Vec::new();
    // Places short per quota (capacitated model), parallel to `quotas`.
    let mut shorts: Vec<f64> = Vec::new();
    let mut quota_units_in: Vec<(UnitId, u32, f64)> = Vec::new();
    let max_module = opts.modules.iter().copied().fold(0.0, f64::max);
    if opts.model == ProposeModel::Capacitated {
        if opts.modules.is_empty() || opts.modules.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
            return Err(Error::Analysis(
                "nursery modules must be positive place counts, e.g. --modules 80,150".into(),
            ));
        }
        for (u, short) in places_deficits(&before, rules) {
            let unit = ds.unit(u);
            let sites = inside(u);
            // Sites already required inside this unit by finer units' quotas.
            let (inner_need, inner_short) = quota_units_in
                .iter()
                .filter(|(c, _, _)| *c != u && ds.ancestors(*c).any(|a| a == u))
                .fold((0u32, 0.0), |(n, s), (_, k, d)| (n + k, s + d));
            let extra = ((short - inner_short).max(0.0) / max_module).ceil() as u32;
            if extra == 0 {
                continue;
            }
            let need = inner_need + extra;
            let label = format!(
                "{} {} ({}), {:.0} places short",
                unit.level.zh(),
                unit.name,
                unit.code,
                short
            );
            if sites.is_empty() {
                return Err(Error::input(
                    format!("{label}: no candidate site lies in it, so the capacitated problem is infeasible — add candidate sites there or leave out --candidates to generate them"),
                    format!("{label}：单元内没有候选点，托位缺口无法补足——请在该单元增加候选点，或改用自动生成的候选点"),
                ));
            }
            if sites.len() < need as usize {
                return Err(Error::input(
                    format!(
                        "{label}: needs {need} sites of at most {max_module:.0} places but only {} candidate sites lie in it — add candidates or a larger module (--modules)",
                        sites.len()
                    ),
                    format!(
                        "{label}：需要 {need} 处（每处至多 {max_module:.0} 个托位），但单元内只有 {} 个候选点——请增加候选点或采用更大的规模",
                        sites.len()
                    ),
                ));
            }
            quotas.push(Quota {
                sites,
                at_least: need,
                label,
            });
            shorts.push(short);
            quota_units_in.push((u, need, short));
        }
        if quotas.is_empty() {
            notes.push("every unit already reaches its places-per-1000 target: sites are placed for 0–3 coverage only".into());
        }
    } else if opts.quotas {
        let mut unmet = 0;
        for (u, rule_id) in quota_units(ds, &before, rules, opts.kind) {
            let unit = ds.unit(u);
            let sites = inside(u);
            if sites.is_empty() {
                unmet += 1;
                continue;
            }
            quotas.push(Quota {
                sites,
                at_least: 1,
                label: format!(
                    "{} {} ({}): {}",
                    unit.level.zh(),
                    unit.name,
                    unit.code,
                    rule_id
                ),
            });
        }
        if unmet > 0 {
            notes.push(format!(
                "{unmet} units lack a {} but no candidate site lies in them: the quota cannot be applied there",
                opts.kind.zh()
            ));
        }
    }

    let quota_sites = super::quota_minimum(&quotas);
    let model = match opts.model {
        ProposeModel::Mclp | ProposeModel::Capacitated => Model::Mclp,
        ProposeModel::Lscp => Model::Lscp,
        ProposeModel::Pmedian => Model::Pmedian,
    };
    let p = match (opts.model, opts.p) {
        (ProposeModel::Capacitated, None) => Some(quota_sites.max(1)),
        (ProposeModel::Capacitated, Some(p)) if p < quota_sites => {
            return Err(Error::input(
                format!("closing every unit's places gap needs at least {quota_sites} sites of at most {max_module:.0} places, but p = {p}: raise p to {quota_sites} or larger modules (--modules)"),
                format!("补足各单元托位缺口至少需要 {quota_sites} 处（每处至多 {max_module:.0} 个托位），但 p = {p}：请将 p 提高到 {quota_sites}，或采用更大的规模"),
            ));
        }
        (ProposeModel::Lscp, _) => None,
        (_, None) => {
            return Err(Error::input(
                "give the number of new sites with --p (or use --model lscp to find the fewest)",
                "请给出新增数量 p（或选用最少设施模型 LSCP 求最少需要几处）",
            ))
        }
        (_, p) => p,
    };
    let pb = Problem {
        model,
        demand: demand_pts.iter().map(|p| [p.x(), p.y()]).collect(),
        weight: weight.clone(),
        demand_ids: Vec::new(),
        candidates: cand_pts.iter().map(|p| [p.x(), p.y()]).collect(),
        candidate_ids: cands.iter().map(|c| c.id.clone()).collect(),
        existing: existing.iter().map(|p| [p.x(), p.y()]).collect(),
        radius: Some(radius),
        p,
        cover,
        quotas,
    };
    progress.stage("optimising", None);
    let heur = pb.solve_heuristic()?;
    check(progress)?;
    let (selected, objective, bound, gap, status) = if opts.exact {
        let ex = super::exact::solve_exact_with(&pb, opts.time_limit, Some(&heur), progress)?;
        // Never report worse than the heuristic's own answer.
        let better = match model {
            Model::Mclp => ex.objective >= heur.objective,
            _ => ex.objective <= heur.objective,
        };
        if better {
            (
                ex.selected,
                ex.objective,
                Some(ex.bound),
                Some(ex.gap),
                format!("{}, {}", ex.status, ex.method),
            )
        } else {
            let gap = (ex.bound - heur.objective).abs() / heur.objective.abs().max(1e-12);
            (
                heur.selected.clone(),
                heur.objective,
                Some(ex.bound),
                Some(gap),
                format!("{}, {} (heuristic kept)", ex.status, ex.method),
            )
        }
    } else {
        (
            heur.selected.clone(),
            heur.objective,
            None,
            None,
            "heuristic".to_string(),
        )
    };

    // Rank by marginal gain: each next site is the one adding most given those before it.
    let sets = pb.coverage_sets(radius);
    let mut covered = by_existing.clone();
    let mut rest = selected.clone();
    let mut ranked: Vec<(usize, f64)> = Vec::new();
    while !rest.is_empty() {
        let mut best: Option<(f64, usize)> = None;
        for (k, &j) in rest.iter().enumerate() {
            let g: f64 = sets[j]
                .iter()
                .filter(|i| !covered[**i as usize])
                .map(|i| weight[*i as usize])
                .sum();
            if best.is_none_or(|(bg, bk)| g > bg || (g == bg && j < rest[bk])) {
                best = Some((g, k));
            }
        }
        let (g, k) = best.expect("non-empty");
        let j = rest.remove(k);
        for i in &sets[j] {
            covered[*i as usize] = true;
        }
        ranked.push((j, g));
    }

    // Modules for the capacitated model: per unit, the fewest places that close its gap.
    let places = if opts.model == ProposeModel::Capacitated {
        Some(assign_modules(
            &pb.quotas,
            &shorts,
            &selected,
            &opts.modules,
        ))
    } else {
        None
    };

    // After: the proposals as facilities, the coverage engine once more.
    let mut after_ds = ds.clone();
    let layer = LayerId(after_ds.layers.len() as u32);
    for (k, (j, _)) in ranked.iter().enumerate() {
        {
            let c = &cands[*j];
            let id = FacilityId(after_ds.facilities.len() as u32);
            after_ds.facilities.push(Facility {
                id,
                source_id: c.id.clone(),
                name: format!("{} {}", opts.kind.zh(), k + 1),
                kind: opts.kind,
                capacity: places.as_ref().and_then(|p| p.get(j).copied()),
                capacity_estimated: false,
                nursing_beds: None,
                qualifiers: Qualifiers::default(),
                renovation: false,
                status: FacilityStatus::Proposed,
                synthetic: false,
                location: Some(c.location),
                unit_ref: UnitRef::default(),
                unit: c.unit,
                unit_join: None,
                year: None,
                layer,
                attributes: c.attributes.clone(),
            });
        }
    }
    progress.stage("coverage after", None);
    let acopts = coverage::Options {
        include_planned: opts.include_planned,
        include_proposed: true,
        year: opts.year,
    };
    let after = coverage::analyze(&after_ds, rules, &acopts, access, progress)?;

    let relevant: Vec<&coverage::rules::Rule> = rules
        .rules
        .iter()
        .filter(|r| r.kinds.contains(&opts.kind))
        .collect();
    let rule_deltas: Vec<RuleDelta> = relevant
        .iter()
        .filter_map(|r| {
            let b = before.rules.iter().find(|x| x.id == r.id)?;
            let a = after.rules.iter().find(|x| x.id == r.id)?;
            Some(RuleDelta {
                id: r.id.clone(),
                title: r.title_zh.clone(),
                title_en: r.title_en.clone(),
                test: r.test.key().into(),
                target: r.target,
                before: b.achieved,
                after: a.achieved,
                units_total: b.units_total,
                units_meeting_before: b.units_meeting,
                units_meeting_after: a.units_meeting,
                people_covered_before: b.people_covered,
                people_covered_after: a.people_covered,
            })
        })
        .collect();

    // Which failing unit rules each proposal fixes.
    let unit_pos: HashMap<UnitId, usize> = before
        .units
        .iter()
        .enumerate()
        .map(|(k, u)| (u.id, k))
        .collect();
    let proposals: Vec<Proposal> = ranked
        .iter()
        .enumerate()
        .map(|(k, (j, g))| {
            let c = &cands[*j];
            let (lon, lat) = ds.projection.inverse(c.location.x(), c.location.y());
            let mut fixes = Vec::new();
            if let Some(u) = c.unit {
                // Per rule, the finest unit around the site where the rule has a verdict.
                for r in &relevant {
                    let at = ds.ancestors(u).find_map(|anc| {
                        let pos = *unit_pos.get(&anc)?;
                        let b = before.units[pos].rules.get(&r.id)?.pass?;
                        let a = after.units[pos].rules.get(&r.id)?.pass?;
                        Some((anc, b, a))
                    });
                    if let Some((anc, false, true)) = at {
                        fixes.push(format!("{}@{}", r.id, ds.unit(anc).code));
                    }
                }
            }
            let unit = c.unit.map(|u| ds.unit(u));
            Proposal {
                rank: k + 1,
                candidate_id: c.id.clone(),
                name: c.name.clone(),
                origin: c.origin.into(),
                lon,
                lat,
                x: c.location.x(),
                y: c.location.y(),
                unit_code: unit.map(|u| u.code.clone()).unwrap_or_default(),
                unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
                marginal_people: *g,
                places: places.as_ref().and_then(|p| p.get(j).copied()),
                fixes,
                candidate: *j,
            }
        })
        .collect();
    let people_total: f64 = weight.iter().sum();
    let covered_before: f64 = by_existing
        .iter()
        .zip(&weight)
        .filter(|(c, _)| **c)
        .map(|(_, w)| *w)
        .sum();
    let covered_after: f64 = covered
        .iter()
        .zip(&weight)
        .filter(|(c, _)| **c)
        .map(|(_, w)| *w)
        .sum();
    let places_added = places.as_ref().map(|p| p.values().sum()).unwrap_or(0.0);
    Ok(Outcome {
        proposals: Proposals {
            dataset: ds.name.clone(),
            preset: rules.id.clone(),
            kind: opts.kind.key().into(),
            model: opts.model,
            mode: access.mode().into(),
            rule: rule
                .filter(|_| opts.radius_m.is_none())
                .map(|r| r.id.clone()),
            radius_m: radius,
            group,
            p: p.unwrap_or(selected.len()),
            candidates: cands.len(),
            candidates_by_origin: by_origin.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            proposals,
            objective,
            greedy_objective: heur.greedy_objective,
            bound,
            gap,
            status,
            seconds: t0.elapsed().as_secs_f64(),
            people_total,
            people_covered_before: covered_before,
            people_covered_after: covered_after,
            places_added,
            rules: rule_deltas,
            notes,
        },
        before,
        after,
        dataset_after: after_ds,
    })
}

fn default_group(kind: FacilityKind) -> AgeGroup {
    AgeGroup::for_kinds(&[kind])
}

/// Units failing a presence rule of `kind` (the rule id with each).
fn quota_units(
    ds: &Dataset,
    before: &Report,
    rules: &RuleSet,
    kind: FacilityKind,
) -> Vec<(UnitId, String)> {
    let mut out = Vec::new();
    for r in rules
        .rules
        .iter()
        .filter(|r| r.kinds.contains(&kind) && matches!(r.test, Test::Presence))
    {
        for u in &before.units {
            if u.rules.get(&r.id).and_then(|s| s.pass) == Some(false)
                && ds.unit(u.id).geometry.is_some()
            {
                out.push((u.id, r.id.clone()));
            }
        }
    }
    out
}

/// Units short of places per 1000, finest level first, with the places short. A coarser
/// unit is listed too: its population may exceed its children's (parts of a district with
/// no sub-district boundaries).
fn places_deficits(before: &Report, rules: &RuleSet) -> Vec<(UnitId, f64)> {
    let Some(r) = rules
        .rules
        .iter()
        .find(|r| r.test == Test::PlacesPer1000 && r.kinds.contains(&FacilityKind::Nursery))
    else {
        return Vec::new();
    };
    let mut out: Vec<(u8, UnitId, f64)> = before
        .units
        .iter()
        .filter_map(|u| {
            let s = u.rules.get(&r.id)?;
            (s.pass == Some(false)).then_some((u.level.tier(), u.id, s.deficit.unwrap_or(0.0)))
        })
        .filter(|(_, _, d)| *d > 0.0)
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    out.into_iter().map(|(_, u, d)| (u, d)).collect()
}

/// Per selected site, its module: every site starts at the smallest module; then, quota by
/// quota (finest units first), sites inside are upgraded one module step at a time (lowest
/// candidate index first) until the unit's places gap is closed. A coarser unit's gap thus
/// counts the places its finer units' sites already bring. With two module sizes this
/// gives the fewest places that close every gap for the chosen sites.
fn assign_modules(
    quotas: &[Quota],
    shorts: &[f64],
    selected: &[usize],
    modules: &[f64],
) -> HashMap<usize, f64> {
    let mut mods: Vec<f64> = modules.to_vec();
    mods.sort_by(f64::total_cmp);
    let mut level: HashMap<usize, usize> = selected.iter().map(|j| (*j, 0)).collect();
    let mut sorted = selected.to_vec();
    sorted.sort_unstable();
    for (q, &short) in quotas.iter().zip(shorts) {
        let members: std::collections::HashSet<usize> = q.sites.iter().copied().collect();
        let sites: Vec<usize> = sorted
            .iter()
            .copied()
            .filter(|j| members.contains(j))
            .collect();
        let mut total: f64 = sites.iter().map(|j| mods[level[j]]).sum();
        'fill: while total + 1e-9 < short {
            for j in &sites {
                let l = level[j];
                if l + 1 < mods.len() {
                    total += mods[l + 1] - mods[l];
                    level.insert(*j, l + 1);
                    continue 'fill;
                }
            }
            break;
        }
    }
    level.into_iter().map(|(j, l)| (j, mods[l])).collect()
}
