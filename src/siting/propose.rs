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
use crate::spatial::{point_tree, UnitIndexes};
use crate::{Error, Result};

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

/// Most generated candidates kept besides the ones inside units that must receive a site.
pub const MAX_GENERATED: usize = 4000;
/// Grid points tried inside each unit that must receive a site.
const MUST_UNIT_GRID: usize = 200;

/// Generated candidates, in priority order, thinned to `spacing`:
/// 1. an interior point of every unit that must receive a site (quotas, places gaps);
/// 2. demand-weighted centres of uncovered clusters (cells of the radius), heaviest first;
/// 3. walking-network nodes near uncovered demand (network mode);
/// 4. a grid (half the radius) over cells with uncovered demand;
///    (2–4 stop at [`MAX_GENERATED`])
/// 5. a grid of up to 200 points inside each unit that must receive a site, so a unit that
///    needs several sites has room for them.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    ds: &Dataset,
    idx: &UnitIndexes,
    demand: &[Point<f64>],
    weight: &[f64],
    covered: &[bool],
    radius: f64,
    spacing: f64,
    must_units: &[UnitId],
    access: &dyn Accessibility,
) -> Vec<Candidate> {
    use geo::Area;
    let mut raw: Vec<(Point<f64>, &'static str)> = Vec::new();
    let gap: Vec<usize> = (0..demand.len())
        .filter(|i| !covered[*i] && weight[*i] > 0.0)
        .collect();
    // 1. Units that must receive a site.
    for u in must_units {
        if let Some(p) = ds
            .unit(*u)
            .geometry
            .as_ref()
            .and_then(|g| g.interior_point())
        {
            raw.push((p, "unit_centre"));
        }
    }
    let must_end = raw.len();
    // 2. Cluster centres.
    let mut cells: BTreeMap<(i64, i64), (f64, f64, f64)> = BTreeMap::new();
    for &i in &gap {
        let k = (
            (demand[i].x() / radius).floor() as i64,
            (demand[i].y() / radius).floor() as i64,
        );
        let e = cells.entry(k).or_default();
        e.0 += demand[i].x() * weight[i];
        e.1 += demand[i].y() * weight[i];
        e.2 += weight[i];
    }
    let mut centres: Vec<(f64, Point<f64>)> = cells
        .values()
        .filter(|(_, _, w)| *w > 0.0)
        .map(|(x, y, w)| (*w, Point::new(x / w, y / w)))
        .collect();
    centres.sort_by(|a, b| b.0.total_cmp(&a.0));
    raw.extend(centres.iter().map(|(_, p)| (*p, "gap_cluster")));
    // 3. Network nodes near uncovered demand.
    if !gap.is_empty() {
        if let Some(nodes) = access.network_nodes() {
            let gap_tree = point_tree(gap.iter().map(|i| Some(demand[*i])));
            let near = radius / 3.0;
            for n in nodes {
                if gap_tree
                    .locate_within_distance([n.x(), n.y()], near * near)
                    .next()
                    .is_some()
                {
                    raw.push((n, "network_node"));
                }
            }
        }
    }
    // 4. Grid over gap cells.
    let step = radius / 2.0;
    let mut grid_cells: BTreeMap<(i64, i64), ()> = BTreeMap::new();
    for &i in &gap {
        grid_cells.insert(
            (
                (demand[i].x() / step).round() as i64,
                (demand[i].y() / step).round() as i64,
            ),
            (),
        );
    }
    raw.extend(
        grid_cells
            .keys()
            .map(|(a, b)| (Point::new(*a as f64 * step, *b as f64 * step), "grid")),
    );
    let capped_end = raw.len();
    // 5. Grids inside units that must receive a site (cell from the unit's area).
    for u in must_units {
        let Some(g) = &ds.unit(*u).geometry else {
            continue;
        };
        let cell = step
            .max(spacing)
            .max((g.unsigned_area() / MUST_UNIT_GRID as f64).sqrt());
        let pts = crate::coverage::demand::grid_in(g, cell);
        raw.extend(
            pts.into_iter()
                .take(MUST_UNIT_GRID * 2)
                .map(|p| (p, "grid")),
        );
    }
    // Thin to the spacing in priority order; keep points inside some unit.
    let mut kept: Vec<Candidate> = Vec::new();
    let mut tree: rstar::RTree<[f64; 2]> = rstar::RTree::new();
    let mut counter: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut capped = 0usize;
    for (k, (p, origin)) in raw.into_iter().enumerate() {
        if k >= must_end && k < capped_end && capped >= MAX_GENERATED {
            continue;
        }
        let q = [p.x(), p.y()];
        if tree
            .locate_within_distance(q, spacing * spacing)
            .next()
            .is_some()
        {
            continue;
        }
        let Some(unit) = idx.locate_finest(ds, p) else {
            continue;
        };
        if k >= must_end && k < capped_end {
            capped += 1;
        }
        tree.insert(q);
        let n = counter.entry(origin).or_default();
        *n += 1;
        kept.push(Candidate {
            id: format!("{}-{}", origin, n),
            name: String::new(),
            origin,
            location: p,
            unit: Some(unit),
            attributes: serde_json::Map::new(),
        });
    }
    kept
}

/// Candidate sites from a candidate layer that `io::load::load_candidate_layer` read from
/// `path` (named in messages), moved into `ds`'s projection and placed in its units.
pub fn candidates_from(
    ds: &Dataset,
    cds: &Dataset,
    path: &std::path::Path,
) -> Result<Vec<Candidate>> {
    let idx = UnitIndexes::new(ds);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &cds.facilities {
        let Some(loc) = f.location else {
            return Err(Error::format(
                path,
                format!(
                    "feature '{}' ({}) has no point: candidate sites need coordinates",
                    f.name, f.source_id
                ),
            ));
        };
        let (lon, lat) = cds.projection.inverse(loc.x(), loc.y());
        let (x, y) = ds.projection.forward(lon, lat);
        let p = Point::new(x, y);
        if !seen.insert(f.source_id.clone()) {
            return Err(Error::format(
                path,
                format!(
                    "duplicate candidate id '{}': ids must be unique",
                    f.source_id
                ),
            ));
        }
        out.push(Candidate {
            id: f.source_id.clone(),
            name: f.name.clone(),
            origin: "file",
            location: p,
            unit: idx.locate_finest(ds, p),
            attributes: f.attributes.clone(),
        });
    }
    Ok(out)
}

impl Proposals {
    /// GeoJSON of the proposals (WGS84), one point per site with its rank and gains.
    pub fn to_geojson(&self) -> serde_json::Value {
        let features: Vec<serde_json::Value> = self
            .proposals
            .iter()
            .map(|p| {
                serde_json::json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                    "properties": {
                        "rank": p.rank,
                        "candidate_id": p.candidate_id,
                        "name": p.name,
                        "kind": self.kind,
                        "status": "proposed",
                        "origin": p.origin,
                        "unit_code": p.unit_code,
                        "unit_name": p.unit_name,
                        "marginal_people": p.marginal_people,
                        "places": p.places,
                        "fixes": p.fixes.join(";"),
                    }
                })
            })
            .collect();
        serde_json::json!({
            "type": "FeatureCollection",
            "properties": {
                "dataset": self.dataset, "preset": self.preset, "model": self.model,
                "mode": self.mode, "radius_m": self.radius_m, "objective": self.objective,
                "bound": self.bound, "gap": self.gap, "status": self.status,
            },
            "features": features,
        })
    }

    /// CSV (UTF-8 with BOM so Excel shows Chinese), one row per proposal.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "rank",
            "candidate_id",
            "name",
            "kind",
            "origin",
            "lon",
            "lat",
            "unit_code",
            "unit_name",
            "marginal_people",
            "places",
            "fixes",
        ]);
        for p in &self.proposals {
            let _ = w.write_record([
                p.rank.to_string(),
                p.candidate_id.clone(),
                p.name.clone(),
                self.kind.to_string(),
                p.origin.to_string(),
                format!("{:.6}", p.lon),
                format!("{:.6}", p.lat),
                p.unit_code.clone(),
                p.unit_name.clone(),
                format!("{:.1}", p.marginal_people),
                p.places.map(|x| format!("{x:.0}")).unwrap_or_default(),
                p.fixes.join(";"),
            ]);
        }
        let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
        format!("\u{feff}{body}")
    }

    /// A readable summary, Chinese or English.
    pub fn to_text(&self, english: bool) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        // Read back from a project file the key may be anything: show it as it is.
        let kind = FacilityKind::parse(&self.kind);
        let kind_name = |en: bool| match kind {
            Some(k) if en => k.en().to_owned(),
            Some(k) => k.zh().to_owned(),
            None => self.kind.to_string(),
        };
        let pct = |a: f64| {
            if self.people_total > 0.0 {
                a / self.people_total * 100.0
            } else {
                0.0
            }
        };
        if english {
            let _ = writeln!(
                s,
                "Proposals: {} × {} ({:?}, {} mode, {:.0} m), {} candidate sites",
                self.proposals.len(),
                kind_name(true),
                self.model,
                self.mode,
                self.radius_m,
                self.candidates
            );
            let _ = writeln!(
                s,
                "Covered {}: {:.0} → {:.0} of {:.0} ({:.1}% → {:.1}%)",
                self.group.en(),
                self.people_covered_before,
                self.people_covered_after,
                self.people_total,
                pct(self.people_covered_before),
                pct(self.people_covered_after)
            );
        } else {
            let _ = writeln!(
                s,
                "选址方案：新增 {} 处{}（{:?}，{}，{:.0} 米），候选点 {} 个",
                self.proposals.len(),
                kind_name(false),
                self.model,
                if self.mode == "network" {
                    "步行路网"
                } else {
                    "直线距离"
                },
                self.radius_m,
                self.candidates
            );
            let _ = writeln!(
                s,
                "覆盖{}：{:.0} → {:.0} / {:.0}（{:.1}% → {:.1}%）",
                self.group.zh(),
                self.people_covered_before,
                self.people_covered_after,
                self.people_total,
                pct(self.people_covered_before),
                pct(self.people_covered_after)
            );
        }
        match (self.bound, self.gap) {
            (Some(b), Some(g)) => {
                let _ = writeln!(
                    s,
                    "{} {:.1}, {} {:.1}, {} {:.3}% ({}), {:.2} s",
                    if english { "objective" } else { "目标值" },
                    self.objective,
                    if english { "bound" } else { "上界/下界" },
                    b,
                    if english { "gap" } else { "最优性差距" },
                    g * 100.0,
                    self.status,
                    self.seconds
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "{} {:.1} ({}; {} {:.1}), {:.2} s",
                    if english { "objective" } else { "目标值" },
                    self.objective,
                    if english {
                        "heuristic, no bound: add --exact for a proven gap"
                    } else {
                        "启发式，无界；加 --exact 求证最优性差距"
                    },
                    if english { "greedy" } else { "贪心" },
                    self.greedy_objective,
                    self.seconds
                );
            }
        }
        if self.places_added > 0.0 {
            let _ = writeln!(
                s,
                "{} {:.0}",
                if english {
                    "nursery places added"
                } else {
                    "新增托位"
                },
                self.places_added
            );
        }
        let _ = writeln!(
            s,
            "{:>4}  {:<16} {:<20} {:>10} {:>7}  {}",
            "#",
            if english { "site" } else { "候选点" },
            if english { "unit" } else { "所在单元" },
            if english { "+people" } else { "新增覆盖" },
            if english { "places" } else { "托位" },
            if english { "fixes" } else { "补齐指标" }
        );
        for p in &self.proposals {
            let _ = writeln!(
                s,
                "{:>4}  {:<16} {:<20} {:>10.0} {:>7}  {}",
                p.rank,
                p.candidate_id,
                format!("{} {}", p.unit_name, p.unit_code),
                p.marginal_people,
                p.places.map(|x| format!("{x:.0}")).unwrap_or_default(),
                p.fixes.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "{}",
            if english {
                "Before → after:"
            } else {
                "方案前 → 方案后："
            }
        );
        for r in &self.rules {
            if !r.evaluable() {
                let _ = writeln!(
                    s,
                    "  {:<34} {}",
                    if english { &r.title_en } else { &r.title },
                    RuleDelta::not_evaluable_text(english)
                );
                continue;
            }
            let f = |v: Option<f64>| match v {
                Some(v) if r.test == "places_per_1000" => format!("{v:.2}"),
                Some(v) => format!("{:.1}%", v * 100.0),
                None => "–".into(),
            };
            let _ = writeln!(
                s,
                "  {:<34} {} → {}   {} {}/{} → {}/{}",
                if english { &r.title_en } else { &r.title },
                f(r.before),
                f(r.after),
                if english {
                    "units meeting"
                } else {
                    "达标单元"
                },
                r.units_meeting_before,
                r.units_total,
                r.units_meeting_after,
                r.units_total
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "  ! {n}");
        }
        s
    }
}
