//! One rule, one verdict: the rule's units and tally, then the test it names — presence of
//! qualified facilities per unit or as a share of units, or a figure for the jurisdiction
//! (capacity per 1000, totals, counts, qualified shares) with per-unit diagnostics. The
//! population-within test lives in `reach`.

use std::collections::BTreeMap;

use super::reach::population_within;
use super::tally::Tally;
use super::{thousands, Analysis, Options, RuleResult, Status, UncoveredPoint, UnitRuleStatus};
use crate::coverage::access::Accessibility;
use crate::coverage::demand::Resolved;
use crate::coverage::rules::{AgeGroup, Area, Rule, Scope, Test};
use crate::model::UnitId;
use crate::progress::Progress;
use crate::Result;

/// What every test of one rule reads: the units it looks at and what the data says.
pub(super) struct RuleCtx<'a, 'b> {
    pub an: &'a Analysis<'b>,
    pub rule: &'a Rule,
    pub units: Vec<UnitId>,
    pub tally: Tally,
    pub kinds_en: String,
    pub kinds_zh: String,
    pub marks: bool,
    pub pops: &'a [Resolved],
    pub top_tier: Option<u8>,
}

impl RuleCtx<'_, '_> {
    /// The unit is in the rule's area (all units when none is marked central urban).
    fn in_area(&self, u: UnitId) -> bool {
        self.rule.area == Area::All || !self.marks || self.an.ds.is_central_urban(u)
    }
}

/// Runs one rule: its units, its tally, then its test; per-unit statuses go to
/// `unit_rules`, demand out of reach to `uncovered`.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_rule(
    an: &Analysis,
    rule: &Rule,
    opts: &Options,
    pops: &[Resolved],
    top_tier: Option<u8>,
    demand_pts: &[geo::Point<f64>],
    access: &dyn Accessibility,
    progress: &dyn Progress,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
    uncovered: &mut Vec<UncoveredPoint>,
) -> Result<RuleResult> {
    let ds = an.ds;
    let marks = ds.has_central_urban_marks();
    let in_area = |u: UnitId| rule.area == Area::All || !marks || ds.is_central_urban(u);
    let units: Vec<UnitId> = ds
        .units
        .iter()
        .filter(|u| rule.levels.contains(&u.level) && in_area(u.id))
        .map(|u| u.id)
        .collect();
    let kinds_zh = rule
        .kinds
        .iter()
        .map(|k| k.zh())
        .collect::<Vec<_>>()
        .join("/");
    let kinds_en = rule
        .kinds
        .iter()
        .map(|k| k.en().to_lowercase())
        .collect::<Vec<_>>()
        .join("/");
    let mut res = new_result(rule, opts, marks);
    let mut notes = Vec::new();
    let tally = Tally::new(an, rule, opts.year);
    if !tally.any_data {
        res.explain_en = Some(format!(
            "no data on existing {kinds_en}: the dataset has no such facilities, layer or known total"
        ));
        res.explain_zh = Some(format!(
            "数据中没有现有{kinds_zh}的信息（无设施、图层或已知总数）"
        ));
        for u in units.iter() {
            unit_rules[u.index()].insert(
                rule.id.clone(),
                UnitRuleStatus::open(Status::NotEvaluable, "no data on this kind"),
            );
        }
        res.notes = notes;
        return Ok(res);
    }
    if !tally.complete {
        notes.push(format!(
            "no data on existing {kinds_en} beyond what is listed: a missing facility is 'unknown', not 'none'"
        ));
    }
    notes.extend(tally.notes.iter().cloned());
    let needs_units = !matches!(
        (rule.test, rule.scope),
        (Test::CapacityTotal, _) | (Test::Count, Scope::Count)
    );
    if units.is_empty() && needs_units {
        notes.push(format!(
            "the dataset has no {} units{}: not evaluated",
            rule.levels
                .iter()
                .map(|l| l.zh())
                .collect::<Vec<_>>()
                .join("/"),
            if rule.area == Area::CentralUrban && marks {
                " in the central urban area"
            } else {
                ""
            }
        ));
        res.explain_en = Some("no units of the level".into());
        res.explain_zh = Some("没有该级别的单元".into());
        res.notes = notes;
        return Ok(res);
    }
    let per_unit_presence = matches!(rule.test, Test::Presence | Test::PresenceShare)
        || (rule.test == Test::Count && rule.scope == Scope::PerUnit);

    let ctx = RuleCtx {
        an,
        rule,
        units,
        tally,
        kinds_en,
        kinds_zh,
        marks,
        pops,
        top_tier,
    };
    if per_unit_presence {
        presence(&ctx, &mut res, &mut notes, unit_rules);
    } else if rule.test == Test::PopulationWithin {
        population_within(
            an,
            rule,
            &ctx.units,
            &ctx.tally,
            demand_pts,
            access,
            progress,
            &|u| ctx.in_area(u),
            &mut res,
            &mut notes,
            unit_rules,
            uncovered,
        )?;
    } else {
        jurisdiction(&ctx, &mut res, &mut notes, unit_rules);
    }
    res.pass = res.status.pass();
    res.achieved = res.value;
    res.notes = notes;
    Ok(res)
}

/// Presence of qualified facilities: every unit (per_unit) or a share of units (share).
/// A unit without one is unknown, not failing, when qualifiers or existing facilities are
/// unknown; unlocated totals bound how many units could still pass.
fn presence(
    ctx: &RuleCtx,
    res: &mut RuleResult,
    notes: &mut Vec<String>,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
) {
    let (rule, units, tally) = (ctx.rule, &ctx.units, &ctx.tally);
    let (kinds_en, kinds_zh) = (&ctx.kinds_en, &ctx.kinds_zh);
    let ds = ctx.an.ds;
    let need = if rule.scope == Scope::Share {
        1.0
    } else {
        rule.target.max(1.0)
    };
    let (mut pass, mut unknown, mut fail, mut unknown_by_qualifier) = (0, 0, 0, 0);
    for u in units.iter() {
        let i = u.index();
        let (yes, maybe) = (tally.unit_yes[i], tally.unit_maybe[i]);
        let (status, reason) = if yes >= need {
            (Status::Pass, None)
        } else if yes + maybe >= need {
            unknown_by_qualifier += 1;
            (
                Status::Unknown,
                Some(format!(
                    "{maybe} facilities do not say whether they are {}",
                    rule.qualifier_words(true)
                )),
            )
        } else if !tally.complete {
            (
                Status::Unknown,
                Some("no data on existing facilities".into()),
            )
        } else if tally.unlocated_facilities.is_none_or(|k| k > 0.0) {
            (
                Status::Unknown,
                Some("facilities known only as totals may lie here".into()),
            )
        } else {
            (Status::Fail, None)
        };
        match status {
            Status::Pass => pass += 1,
            Status::Fail => fail += 1,
            _ => unknown += 1,
        }
        unit_rules[i].insert(
            rule.id.clone(),
            UnitRuleStatus {
                status,
                pass: status.pass(),
                deficit: Some((need - yes).max(0.0)),
                value: Some(yes),
                reason,
                euclidean_overclaim: None,
            },
        );
    }
    let shapeless = units
        .iter()
        .filter(|u| ds.unit(**u).geometry.is_none())
        .count();
    if shapeless > 0 {
        notes.push(format!(
            "{shapeless} of {} units have no shape: only facilities joined by unit code or town name count there",
            units.len()
        ));
    }
    let n = units.len();
    // At most this many units can still pass: the unknown ones, but when the data
    // is complete apart from unlocated totals, no more than those totals can fill.
    let reachable = if tally.complete {
        match tally.unlocated_facilities {
            Some(k) => unknown.min(unknown_by_qualifier + (k / need).floor() as usize),
            None => unknown,
        }
    } else {
        unknown
    };
    res.units_total = n;
    res.units_meeting = pass;
    res.units_unknown = unknown;
    let lo = pass as f64 / n as f64;
    let hi = (pass + reachable) as f64 / n as f64;
    res.value = Some(lo);
    if unknown > 0 {
        res.range = Some((lo, Some(hi)));
    }
    res.status = if rule.scope == Scope::Share {
        Status::of_bounds(lo, Some(hi), rule.target)
    } else if fail > 0 || pass + reachable < n {
        Status::Fail
    } else if pass == n {
        Status::Pass
    } else {
        Status::Unknown
    };
    if res.status == Status::Unknown || (res.status == Status::Fail && fail == 0) {
        let (en, zh) = tally.why(rule, kinds_en, kinds_zh);
        res.explain_en = Some(format!(
            "{pass} of {n} units pass, {unknown} unknown ({:.0} %–{:.0} %): {en}",
            lo * 100.0,
            hi * 100.0
        ));
        res.explain_zh = Some(format!(
            "{n} 个单元中 {pass} 个达标、{unknown} 个未知（{:.0}%–{:.0}%）：{zh}",
            lo * 100.0,
            hi * 100.0
        ));
    }
}

/// One figure for the jurisdiction (capacity per 1000 of a population base, totals,
/// counts, qualified shares), with per-unit values as diagnostics — or as the verdict when
/// the rule's scope is per_unit.
fn jurisdiction(
    ctx: &RuleCtx,
    res: &mut RuleResult,
    notes: &mut Vec<String>,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
) {
    let (rule, tally) = (ctx.rule, &ctx.tally);
    let (kinds_en, kinds_zh) = (&ctx.kinds_en, &ctx.kinds_zh);
    // Aggregate tests: one figure for the jurisdiction; per-unit values diagnose.
    let per_1000 = matches!(rule.test, Test::PlacesPer1000 | Test::BedsPer1000);
    let base_pop = if per_1000 {
        match population_base(ctx, res, notes) {
            Some(p) => p,
            None => return,
        }
    } else {
        0.0
    };
    let (lo, hi) = tally.amount_bounds(rule.test);
    res.amount = Some(lo);
    res.amount_upper = hi;
    let scale = |x: f64| {
        if per_1000 {
            x / base_pop * 1000.0
        } else {
            x
        }
    };
    // A share whose denominator is open can move either way: never pass or fail.
    let mut share_open = false;
    let (vlo, vhi) = match rule.test {
        Test::QualifiedShare | Test::NursingBedShare => {
            let (den, den_known) = tally.share_denominator();
            if den <= 0.0 {
                if den_known {
                    res.explain_en = Some(format!("no capacity of {kinds_en} counted"));
                    res.explain_zh = Some(format!("没有可计的{kinds_zh}容量"));
                    res.status = Status::NotEvaluable;
                } else {
                    res.status = Status::Unknown;
                    res.explain_en = Some("the capacity is not known".into());
                    res.explain_zh = Some("容量未知".into());
                }
                return;
            }
            share_open = !den_known;
            (
                lo / den,
                hi.filter(|_| den_known).map(|h| (h / den).min(1.0)),
            )
        }
        _ => (scale(lo), hi.map(scale)),
    };
    res.value = Some(vlo);
    if vhi != Some(vlo) {
        res.range = Some((vlo, vhi));
    }
    if rule.scope == Scope::Aggregate || rule.scope == Scope::Count {
        res.status = if share_open {
            Status::Unknown
        } else {
            Status::of_bounds(vlo, vhi, rule.target)
        };
    }
    let (pass, unknown, fail) = unit_verdicts(ctx, per_1000, unit_rules);
    res.units_total = pass + unknown + fail;
    res.units_meeting = pass;
    res.units_unknown = unknown;
    if rule.scope == Scope::PerUnit {
        res.status = if res.units_total == 0 {
            Status::NotEvaluable
        } else if fail > 0 {
            Status::Fail
        } else if unknown > 0 {
            Status::Unknown
        } else {
            Status::Pass
        };
    }
    if res.status == Status::Unknown {
        let (en, zh) = tally.why(rule, kinds_en, kinds_zh);
        let (range_en, range_zh) = (res.value_with_range(true), res.value_with_range(false));
        res.explain_en = Some(format!("{range_en}: {en}"));
        res.explain_zh = Some(format!("{range_zh}：{zh}"));
    }
}

/// A rule's result before its test runs: what the rule is, not yet what it found.
fn new_result(rule: &Rule, opts: &Options, marks: bool) -> RuleResult {
    let mut res = RuleResult {
        id: rule.id.clone(),
        title: rule.title_zh.clone(),
        title_en: rule.title_en.clone(),
        test: rule.test.key(),
        level: rule.level_key(),
        kinds: rule.kinds.iter().map(|k| k.key()).collect(),
        target: rule.target,
        target_user_set: rule.target_user_set,
        scope: rule.scope,
        status: Status::NotEvaluable,
        value: None,
        range: None,
        achieved: None,
        units_total: 0,
        units_meeting: 0,
        units_unknown: 0,
        pass: None,
        deadline: rule.deadline,
        due: match (opts.year, rule.deadline) {
            (Some(y), Some(d)) => Some(d <= y),
            _ => None,
        },
        qualifiers: rule.qualifiers.iter().map(|q| q.key()).collect(),
        area: None,
        base: None,
        base_population: None,
        amount: None,
        amount_upper: None,
        explain_en: None,
        explain_zh: None,
        distance_m: rule.distance.map(|d| d.metres),
        distance: rule.distance.map(|d| d.describe()),
        group: matches!(
            rule.test,
            Test::PopulationWithin | Test::PlacesPer1000 | Test::BedsPer1000
        )
        .then_some(rule.group),
        people_covered: None,
        people_total: None,
        people_overclaimed: None,
        citation: rule.citation.clone(),
        convention: rule.convention,
        binding: rule.binding,
        notes: Vec::new(),
    };
    if rule.area == Area::CentralUrban {
        res.area = Some(if marks {
            "central urban units only (中心城区)".into()
        } else {
            "no unit is marked central urban: reported over all units (未标记中心城区，按全部单元统计)"
                .into()
        });
    }
    res
}

/// The people of the rule's group in a unit, if the data has the figure.
fn group_pop(pops: &[Resolved], u: UnitId, group: AgeGroup) -> Option<f64> {
    let p = pops[u.index()];
    match group {
        AgeGroup::Total => p.total,
        AgeGroup::Aged60plus => p.aged_60plus,
        AgeGroup::Aged0to3 => p.aged_0_3,
    }
}

/// The population a per-1000 figure divides by: the coarsest tier with figures, within
/// the area, named in the result ("常住人口 1,286,401 = 6 个区/县(市)单元合计"). `None` (with
/// the reason in the result) when there is none.
fn population_base(ctx: &RuleCtx, res: &mut RuleResult, notes: &mut Vec<String>) -> Option<f64> {
    let (rule, ds, top_tier) = (ctx.rule, ctx.an.ds, ctx.top_tier);
    let group = rule.group;
    let pop_of = |u: UnitId| group_pop(ctx.pops, u, group);
    // Population base: the coarsest tier with figures, within the area.
    let base_units: Vec<UnitId> = ds
        .units
        .iter()
        .filter(|u| Some(u.level.tier()) == top_tier && ctx.in_area(u.id))
        .map(|u| u.id)
        .collect();
    let with_pop: Vec<(UnitId, f64)> = base_units
        .iter()
        .filter_map(|u| pop_of(*u).map(|p| (*u, p)))
        .collect();
    let base_pop: f64 = with_pop.iter().map(|x| x.1).sum();
    {
        if with_pop.is_empty() || base_pop <= 0.0 {
            res.explain_en = Some(format!("no figures for {} in the units", group.en()));
            res.explain_zh = Some(format!("单元缺少{}数据", group.zh()));
            return None;
        }
        let missing = base_units.len() - with_pop.len();
        let level_words = {
            let mut l: Vec<&str> = base_units.iter().map(|u| ds.unit(*u).level.zh()).collect();
            l.sort();
            l.dedup();
            l.join("/")
        };
        let sources: Vec<String> = {
            let mut v: Vec<String> = with_pop
                .iter()
                .filter_map(|(u, _)| ds.unit(*u).population_source.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        res.base = Some(format!(
            "{} {} = {} 个{}单元合计{}{}",
            group.zh(),
            thousands(base_pop),
            with_pop.len(),
            level_words,
            if missing > 0 {
                format!("（另有 {missing} 个单元无数据，未计入）")
            } else {
                String::new()
            },
            if sources.is_empty() {
                String::new()
            } else {
                format!("；来源：{}", sources.join("、"))
            }
        ));
        res.base_population = Some(base_pop);
        if missing > 0 {
            notes.push(format!(
                "{missing} of {} units have no figure for {}: the base leaves them out",
                base_units.len(),
                group.en()
            ));
        }
    }
    Some(base_pop)
}

/// Each unit's own figure and status on an aggregate rule (its verdict when the scope is
/// per_unit, a diagnostic otherwise). Returns how many pass, are unknown, fail.
fn unit_verdicts(
    ctx: &RuleCtx,
    per_1000: bool,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
) -> (usize, usize, usize) {
    let (rule, units, tally) = (ctx.rule, &ctx.units, &ctx.tally);
    let pop_of = |u: UnitId| group_pop(ctx.pops, u, rule.group);
    // Per unit: the verdict for per_unit scope, diagnostics otherwise.
    let (mut pass, mut unknown, mut fail) = (0, 0, 0);
    for u in units.iter() {
        let i = u.index();
        let (ulo, uhi) = tally.unit_amount_bounds(rule.test, i);
        let v = match rule.test {
            Test::PlacesPer1000 | Test::BedsPer1000 => match pop_of(*u) {
                Some(p) if p > 0.0 => Some((
                    ulo / p * 1000.0,
                    uhi.map(|h| h / p * 1000.0),
                    (rule.target * p / 1000.0 - ulo).max(0.0),
                    false,
                )),
                _ => None,
            },
            Test::QualifiedShare | Test::NursingBedShare => {
                let (den, known) = tally.unit_share_denominator(i);
                (den > 0.0).then(|| {
                    (
                        ulo / den,
                        uhi.filter(|_| known).map(|h| (h / den).min(1.0)),
                        (rule.target * den - ulo).max(0.0),
                        !known,
                    )
                })
            }
            _ => Some((ulo, uhi, (rule.target - ulo).max(0.0), false)),
        };
        let st = match v {
            Some((lo, hi, short, open)) => {
                let status = if open {
                    Status::Unknown
                } else {
                    Status::of_bounds(lo, hi, rule.target)
                };
                match status {
                    Status::Pass => pass += 1,
                    Status::Fail => fail += 1,
                    _ => unknown += 1,
                }
                UnitRuleStatus {
                    status,
                    pass: status.pass(),
                    deficit: Some(short),
                    value: Some(lo),
                    reason: (status == Status::Unknown)
                        .then(|| "capacity or existing facilities unknown".to_string()),
                    euclidean_overclaim: None,
                }
            }
            None => UnitRuleStatus::open(
                Status::NotEvaluable,
                if per_1000 {
                    "no population figure"
                } else {
                    "no capacity here"
                },
            ),
        };
        unit_rules[i].insert(rule.id.clone(), st);
    }
    (pass, unknown, fail)
}
