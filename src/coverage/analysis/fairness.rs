//! Equity of every rule's unit values (and of nursery 2SFCA): how evenly the plan's figure
//! is spread over the units, weighed by the people each rule counts.

use serde::Serialize;

use super::{RuleResult, Status, UnitResult};
use crate::coverage::equity::{equity, Equity, Weighted};
use crate::coverage::rules::AgeGroup;

/// One rule's equity over its units.
#[derive(Clone, Debug, Serialize)]
pub struct RuleEquity {
    /// The rule's id, or `nursery_2sfca` for the 2SFCA figure.
    pub rule: String,
    pub level: String,
    /// Whose people weigh each unit.
    pub group: AgeGroup,
    /// Units left out because their own verdict is unknown (their value is only a bound).
    pub units_unknown_left_out: usize,
    #[serde(flatten)]
    pub equity: Equity,
}

fn people(u: &UnitResult, g: AgeGroup) -> Option<f64> {
    match g {
        AgeGroup::Total => u.population,
        AgeGroup::Aged60plus => u.pop_60plus,
        AgeGroup::Aged0to3 => u.pop_0_3,
    }
}

/// Equity per rule over the units of one tier it judged (pass or fail), and of nursery
/// 2SFCA over the demand tier's units. Rules with no spread to measure (no values, all zero) are left
/// out.
pub(super) fn equity_by_rule(
    results: &[RuleResult],
    units: &[UnitResult],
    tier: Option<u8>,
) -> Vec<RuleEquity> {
    let mut out = Vec::new();
    for r in results {
        let group = r.group.unwrap_or(AgeGroup::Total);
        let judged: Vec<(&UnitResult, &super::UnitRuleStatus)> = units
            .iter()
            .filter_map(|u| Some((u, u.rules.get(&r.id)?)))
            .collect();
        // One tier only: nested units would count the same people twice. The demand tier
        // when the rule judged it, else the finest it judged.
        let tiers: Vec<u8> = judged.iter().map(|(u, _)| u.level.tier()).collect();
        let Some(t) = tier
            .filter(|t| tiers.contains(t))
            .or_else(|| tiers.iter().copied().max())
        else {
            continue;
        };
        let mut unknown = 0;
        let mut w = Vec::new();
        let mut level = String::new();
        for (u, s) in judged.into_iter().filter(|(u, _)| u.level.tier() == t) {
            level = u.level.key().to_string();
            if s.status == Status::Unknown {
                unknown += 1;
                continue;
            }
            if let (Some(value), Some(people)) = (s.value, people(u, group)) {
                w.push(Weighted { value, people });
            }
        }
        if let Some(e) = equity(&w) {
            out.push(RuleEquity {
                rule: r.id.clone(),
                level,
                group,
                units_unknown_left_out: unknown,
                equity: e,
            });
        }
    }
    let sfca: Vec<Weighted> = units
        .iter()
        .filter(|u| Some(u.level.tier()) == tier)
        .filter_map(|u| {
            Some(Weighted {
                value: u.nursery_2sfca_per_1000?,
                people: u.population?,
            })
        })
        .collect();
    if let (Some(e), Some(t)) = (equity(&sfca), tier) {
        let level = units
            .iter()
            .find(|u| u.level.tier() == t)
            .map(|u| u.level.key().to_string())
            .unwrap_or_default();
        out.push(RuleEquity {
            rule: "nursery_2sfca".into(),
            level,
            group: AgeGroup::Total,
            units_unknown_left_out: 0,
            equity: e,
        });
    }
    out
}
