//! Population within a distance of a qualified facility (the 15-minute circle, the nursery
//! radius) and the two-step floating catchment of nursery places.

use std::collections::BTreeMap;

use super::tally::{qualify_with, Tally, Q};
use super::{Analysis, RuleResult, Status, UncoveredPoint, UnitRuleStatus};
use crate::coverage::access::{Accessibility, DistanceMode, Euclidean};
use crate::coverage::measure::{Measure, Method};
use crate::coverage::rules::{AgeGroup, Rule, Scope};
use crate::model::{FacilityId, FacilityKind, UnitId};
use crate::progress::{check, Progress};
use crate::Result;

/// Population rules: the share of the group within reach of a qualified facility.
#[allow(clippy::too_many_arguments)]
pub(super) fn population_within(
    an: &Analysis,
    rule: &Rule,
    units: &[UnitId],
    tally: &Tally,
    demand_pts: &[geo::Point<f64>],
    access: &dyn Accessibility,
    progress: &dyn Progress,
    in_area: &dyn Fn(UnitId) -> bool,
    res: &mut RuleResult,
    notes: &mut Vec<String>,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
    uncovered: &mut Vec<UncoveredPoint>,
) -> Result<()> {
    let dist = rule
        .distance
        .expect("population rules have a distance")
        .metres;
    let (fac, pts, pointless) = qualified_points(an, rule, tally, notes);
    // Reach is known only when every existing facility of the kinds is in the data with
    // its location: a total without locations (or no data at all) leaves it open.
    let located_all =
        tally.complete && tally.totals_used.is_empty() && tally.totals_mixed.is_empty();
    if pts.is_empty() && (pointless > 0 || !located_all) {
        notes.push(if pointless > 0 {
            format!(
                "none of the {pointless} facilities of these kinds has a location: reach cannot be measured"
            )
        } else {
            "no facility of these kinds has a location in the data (existing ones are known only as totals, or not at all): reach cannot be measured".to_string()
        });
        res.explain_en = Some("no facility of these kinds has a location".into());
        res.explain_zh = Some("这些类型的设施都没有位置".into());
        for u in units {
            unit_rules[u.index()].insert(
                rule.id.clone(),
                UnitRuleStatus::open(Status::NotEvaluable, "facilities have no location"),
            );
        }
        return Ok(());
    }
    misplaced_notes(an, &fac, &pts, demand_pts, access, notes);
    let reached = access.any_within(demand_pts, &pts, dist, progress)?;
    // Network mode: what a straight-line circle of the same distance would claim.
    let straight = if access.mode() == DistanceMode::Network {
        Some(Euclidean.any_within(demand_pts, &pts, dist, progress)?)
    } else {
        None
    };
    let Reached {
        cov,
        all,
        over,
        c_sum,
        a_sum,
        over_sum,
    } = people_in_reach(
        an,
        rule,
        in_area,
        &reached,
        straight.as_deref(),
        // People out of reach of the listed facilities are "uncovered" only when the list
        // is the whole stock; otherwise painting them would show missing data as a gap.
        located_all.then_some(uncovered),
        progress,
    )?;
    // Without complete data on existing facilities, people out of reach of the listed
    // ones may be within reach of others: "unknown", never "fail".
    let judge = |share: f64| {
        if share + 1e-12 >= rule.target {
            Status::Pass
        } else if located_all {
            Status::Fail
        } else {
            Status::Unknown
        }
    };
    let (total, meeting, unknown, failing) = unit_shares(
        an,
        rule,
        units,
        &judge,
        (&cov, &all),
        straight.is_some().then_some(&over[..]),
        unit_rules,
    );
    if total < units.len() {
        notes.push(format!(
            "{} of {} units not evaluated spatially (no shape or no population)",
            units.len() - total,
            units.len()
        ));
    }
    res.units_total = total;
    res.units_meeting = meeting;
    res.units_unknown = unknown;
    res.people_covered = Some(c_sum);
    res.people_total = Some(a_sum);
    res.people_overclaimed = straight.as_ref().map(|_| over_sum);
    reach_verdict(
        rule,
        res,
        notes,
        (c_sum, a_sum),
        (total, unknown, failing),
        &judge,
    );
    Ok(())
}

/// The rule's verdict from the people within reach (share of the area's group) and the
/// units' own verdicts (per_unit scope); unknown when the list is not the whole stock.
fn reach_verdict(
    rule: &Rule,
    res: &mut RuleResult,
    notes: &mut Vec<String>,
    (c_sum, a_sum): (f64, f64),
    (total, unknown, failing): (usize, usize, usize),
    judge: &dyn Fn(f64) -> Status,
) {
    if a_sum > 0.0 {
        let share = c_sum / a_sum;
        res.value = Some(share);
        res.status = if rule.scope == Scope::PerUnit {
            if failing > 0 {
                Status::Fail
            } else if unknown > 0 || total == 0 {
                Status::Unknown
            } else {
                Status::Pass
            }
        } else {
            judge(share)
        };
        if res.status == Status::Unknown {
            res.range = Some((share, Some(1.0)));
            res.explain_en = Some(format!(
                "{:.1} % within reach of the listed facilities; not every existing one is located in this dataset",
                share * 100.0
            ));
            res.explain_zh = Some(format!(
                "已列设施可达 {:.1}%；并非所有现有设施都在本数据中有位置",
                share * 100.0
            ));
        }
    } else {
        notes.push(format!(
            "no {} in the demand model: not evaluated",
            rule.group.en()
        ));
        res.explain_en = Some(format!("no {} placed", rule.group.en()));
        res.explain_zh = Some(format!("没有可布设的{}", rule.group.zh()));
    }
}

/// Two-step floating catchment area for nurseries (Luo & Wang 2003): each nursery's places
/// are shared among the residents within `radius` (R_j = places_j / Σ pop_k × 1000); each
/// demand point's accessibility is the sum of R_j it reaches — places per 1000 residents,
/// directly comparable with the 4.5 target. `None` when there are no nurseries with points.
pub fn two_step_fca(
    an: &Analysis,
    radius: f64,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Option<Vec<f64>>> {
    let ds = an.ds;
    let fac = an.facilities_of(&[FacilityKind::Nursery]);
    let located: Vec<(FacilityId, geo::Point<f64>)> = fac
        .iter()
        .filter_map(|f| ds.facility(*f).location.map(|p| (*f, p)))
        .collect();
    if located.is_empty() || an.demand.points.is_empty() {
        return Ok(None);
    }
    let pts: Vec<geo::Point<f64>> = located.iter().map(|x| x.1).collect();
    let reach = access.all_within(an.demand.points.locations(), &pts, radius, progress)?;
    // The same measure as `access --method 2sfca` (checked against PySAL there).
    let measure = Measure {
        method: Method::TwoStep,
        catchment_m: radius,
    };
    let people = an.demand.points.weights(AgeGroup::Total);
    let places: Vec<f64> = located
        .iter()
        .map(|(f, _)| ds.facility(*f).capacity.unwrap_or(0.0))
        .collect();
    let values = measure
        .compute(&people, &places, &reach)
        .map_err(|e| crate::Error::Analysis(e.to_string()))?;
    Ok(Some(values.into_iter().map(|v| v.unwrap_or(0.0)).collect()))
}

/// People of the rule's group in reach, per unit (with every ancestor) and in all, and
/// what a straight-line circle would also claim.
struct Reached {
    cov: Vec<f64>,
    all: Vec<f64>,
    over: Vec<f64>,
    c_sum: f64,
    a_sum: f64,
    over_sum: f64,
}

/// Sums the demand points in the rule's area: covered or not, per unit and its
/// ancestors; points out of reach go to `uncovered` (local metres).
fn people_in_reach(
    an: &Analysis,
    rule: &Rule,
    in_area: &dyn Fn(UnitId) -> bool,
    reached: &[bool],
    straight: Option<&[bool]>,
    mut uncovered: Option<&mut Vec<UncoveredPoint>>,
    progress: &dyn Progress,
) -> Result<Reached> {
    let ds = an.ds;
    let n_units = ds.units.len();
    let mut over = vec![0.0f64; n_units];
    let mut over_sum = 0.0;
    let mut cov = vec![0.0f64; n_units];
    let mut all = vec![0.0f64; n_units];
    let (mut c_sum, mut a_sum) = (0.0, 0.0);
    let rule_id: std::sync::Arc<str> = rule.id.as_str().into();
    let mut codes: Vec<Option<std::sync::Arc<str>>> = vec![None; n_units];
    for (k, d) in an.demand.points.iter().enumerate() {
        if k % 16_384 == 0 {
            check(progress)?;
        }
        if !in_area(d.unit) {
            continue;
        }
        let w = d.weight(rule.group);
        a_sum += w;
        let hit = reached[k];
        if hit {
            c_sum += w;
        } else if let (true, Some(uncovered)) = (w > 0.0, uncovered.as_deref_mut()) {
            let unit_code = codes[d.unit.index()]
                .get_or_insert_with(|| ds.unit(d.unit).code.as_str().into())
                .clone();
            uncovered.push(UncoveredPoint {
                rule: rule_id.clone(),
                demand_index: k,
                source_id: crate::coverage::demand::source_id(ds, &d),
                x: d.location.x(),
                y: d.location.y(),
                unit_code,
                people: w,
            });
        }
        let over_here = straight.is_some_and(|s| s[k]) && !hit;
        if over_here {
            over_sum += w;
        }
        for a in ds.ancestors(d.unit) {
            all[a.index()] += w;
            if hit {
                cov[a.index()] += w;
            }
            if over_here {
                over[a.index()] += w;
            }
        }
    }
    Ok(Reached {
        cov,
        all,
        over,
        c_sum,
        a_sum,
        over_sum,
    })
}

/// The located facilities of the rule's kinds that meet its qualifiers (those that may
/// are noted: they cover no one), with how many have no location.
fn qualified_points(
    an: &Analysis,
    rule: &Rule,
    tally: &Tally,
    notes: &mut Vec<String>,
) -> (Vec<FacilityId>, Vec<geo::Point<f64>>, usize) {
    let ds = an.ds;
    let fac: Vec<FacilityId> = an
        .facilities_of(&rule.kinds)
        .into_iter()
        .filter(|f| {
            let f = ds.facility(*f);
            qualify_with(rule, &[f.kind], |w| f.qualifiers.get(w), f.qualifiers.grade) == Q::Yes
        })
        .collect();
    if tally.facilities_maybe > 0 && !rule.qualifiers.is_empty() {
        notes.push(format!(
            "{} facilities do not say whether they are {}: they cover no one here",
            tally.facilities_maybe,
            rule.qualifier_words(true)
        ));
    }
    let pts: Vec<geo::Point<f64>> = fac
        .iter()
        .filter_map(|f| ds.facility(*f).location)
        .collect();
    let pointless = fac.len() - pts.len();
    if pointless > 0 && !pts.is_empty() {
        notes.push(format!(
            "{pointless} facilities have no location (joined by name only): they cannot cover anyone"
        ));
    }
    (fac, pts, pointless)
}

/// The distance model's doubts about the facilities (far from any street …), named.
fn misplaced_notes(
    an: &Analysis,
    fac: &[FacilityId],
    pts: &[geo::Point<f64>],
    demand_pts: &[geo::Point<f64>],
    access: &dyn Accessibility,
    notes: &mut Vec<String>,
) {
    let ds = an.ds;
    let located: Vec<FacilityId> = fac
        .iter()
        .copied()
        .filter(|f| ds.facility(*f).location.is_some())
        .collect();
    let mut about: Vec<String> = Vec::new();
    for (target, msg) in access.diagnose(demand_pts, pts) {
        match target {
            None => notes.push(msg),
            Some(j) => {
                let f = ds.facility(located[j]);
                about.push(format!("{} ({}): {msg}", f.name, f.source_id));
            }
        }
    }
    if !about.is_empty() {
        notes.push(format!(
            "{} facilities may be misplaced — check their locations: {}",
            about.len(),
            about.join("; ")
        ));
    }
}

/// Each unit's share within reach and its status; returns how many units were judged,
/// pass, are unknown, fail.
#[allow(clippy::type_complexity)]
fn unit_shares(
    an: &Analysis,
    rule: &Rule,
    units: &[UnitId],
    judge: &dyn Fn(f64) -> Status,
    (cov, all): (&[f64], &[f64]),
    over: Option<&[f64]>,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
) -> (usize, usize, usize, usize) {
    let ds = an.ds;
    let (mut total, mut meeting, mut unknown, mut failing) = (0, 0, 0, 0);
    for u in units {
        let i = u.index();
        let status = if all[i] > 0.0 {
            let share = cov[i] / all[i];
            let st = judge(share);
            total += 1;
            match st {
                Status::Pass => meeting += 1,
                Status::Fail => failing += 1,
                _ => unknown += 1,
            }
            UnitRuleStatus {
                status: st,
                pass: st.pass(),
                deficit: Some(all[i] - cov[i]),
                value: Some(share),
                reason: (st == Status::Unknown)
                    .then(|| "existing facilities not in the data".to_string()),
                euclidean_overclaim: over.map(|o| o[i]),
            }
        } else {
            UnitRuleStatus::open(
                Status::NotEvaluable,
                &if ds.unit(*u).geometry.is_none()
                    && an.demand.tier.is_none_or(|t| t < ds.unit(*u).level.tier())
                {
                    "no shape: people cannot be placed".to_string()
                } else {
                    format!("no {} placed in it", rule.group.en())
                },
            )
        };
        unit_rules[i].insert(rule.id.clone(), status);
    }
    (total, meeting, unknown, failing)
}
