//! The sized model on a dataset: demand rows merged by the sites that reach them, the
//! candidates' and existing facilities' reach and capacities, and the chosen sizes.

use std::collections::HashMap;

use geo::Point;

use super::{Demand, ProposeOptions};
use crate::coverage::analysis::Analysis;
use crate::coverage::Accessibility;
use crate::model::Dataset;
use crate::progress::Progress;
use crate::siting::exact::{solve_sized, Exact};
use crate::siting::sized::{greedy, Module, Sized, SizedProblem};
use crate::siting::{Problem, Solution};
use crate::{Error, Result};

/// The sized answer as the other models give theirs: the greedy (for its objective), the
/// chosen sites with objective, bound, gap and status, and each chosen site's places.
pub(super) type SizedAnswer = (
    Solution,
    (Vec<usize>, f64, Option<f64>, Option<f64>, String),
    HashMap<usize, f64>,
);

#[allow(clippy::too_many_arguments)]
pub(super) fn sized_answer(
    ds: &Dataset,
    an: &Analysis,
    demand: &Demand,
    pb: &Problem,
    opts: &ProposeOptions,
    access: &dyn Accessibility,
    notes: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<SizedAnswer> {
    let spb = sized_problem(ds, an, demand, pb, opts, access, notes, progress)?;
    let g = greedy(&spb)?;
    let (best, exact): (Sized, Option<Exact>) = if opts.exact {
        let (b, ex) = solve_sized(&spb, opts.time_limit, &g, progress)?;
        (b, Some(ex))
    } else {
        (g.clone(), None)
    };
    let places: HashMap<usize, f64> = best
        .open
        .iter()
        .map(|(j, s)| (*j, spb.modules[*s].size))
        .collect();
    let selected: Vec<usize> = best.open.iter().map(|x| x.0).collect();
    notes.push(format!(
        "sized model: {} sites at a cost of {:.2} of the budget {:.2}; {:.0} people served within reach and capacity (existing facilities included)",
        selected.len(),
        best.cost,
        spb.budget,
        best.served
    ));
    let answer = match exact {
        Some(ex) => (
            selected.clone(),
            best.served,
            Some(ex.bound),
            Some(ex.gap),
            format!("{}, {}", ex.status, ex.method),
        ),
        None => (
            selected.clone(),
            best.served,
            None,
            None,
            "greedy by people per cost".to_string(),
        ),
    };
    let heur = Solution {
        selected: g.open.iter().map(|x| x.0).collect(),
        objective: g.served,
        greedy_objective: g.served,
        swaps: 0,
        stopped: false,
    };
    Ok((heur, answer, places))
}

/// Rows of demand points reached by the same facilities (weights × uptake), the sets of
/// the candidates and of the existing facilities of the kind, with their capacities.
#[allow(clippy::too_many_arguments)]
fn sized_problem(
    ds: &Dataset,
    an: &Analysis,
    demand: &Demand,
    pb: &Problem,
    opts: &ProposeOptions,
    access: &dyn Accessibility,
    notes: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<SizedProblem> {
    let budget = opts.budget.ok_or_else(|| {
        Error::input(
            "the sized model needs --budget (in the unit of --module-costs)",
            "规模选择模型需要给出 --budget（与 --module-costs 同一单位）",
        )
    })?;
    if !(opts.uptake.is_finite() && opts.uptake > 0.0 && opts.uptake <= 1.0) {
        return Err(Error::input(
            format!(
                "--uptake {}: the share of the group needing a place, more than 0 and at most 1",
                opts.uptake
            ),
            format!(
                "--uptake {}：需要服务的人口比例，须大于 0 且不超过 1",
                opts.uptake
            ),
        ));
    }
    let costs: Vec<f64> = if opts.module_costs.is_empty() {
        vec![1.0; opts.modules.len()]
    } else if opts.module_costs.len() == opts.modules.len() {
        opts.module_costs.clone()
    } else {
        return Err(Error::input(
            format!(
                "--module-costs: {} costs for {} module sizes (--modules); give one cost per size",
                opts.module_costs.len(),
                opts.modules.len()
            ),
            format!(
                "--module-costs 给了 {} 个费用，而 --modules 有 {} 种规模：请逐一对应",
                opts.module_costs.len(),
                opts.modules.len()
            ),
        ));
    };
    let modules: Vec<Module> = opts
        .modules
        .iter()
        .zip(&costs)
        .map(|(size, cost)| Module {
            size: *size,
            cost: *cost,
        })
        .collect();
    // Existing facilities of the kind: their capacity is data, never assumed.
    let existing: Vec<(Point<f64>, f64)> = {
        let mut missing = Vec::new();
        let v = ds
            .facilities
            .iter()
            .filter(|f| an.counted[f.id.index()] && f.kind == opts.kind && f.location.is_some())
            .filter_map(|f| match f.capacity {
                Some(c) => Some((f.location.expect("filtered"), c)),
                None => {
                    missing.push(format!("{} ({})", f.name, f.source_id));
                    None
                }
            })
            .collect();
        if let Some(first) = missing.first() {
            return Err(Error::input(
                format!("the sized model needs every existing {}'s capacity: {} have none (first: {first})", opts.kind.key(), missing.len()),
                format!("规模选择模型需要现有{}的容量：{} 处没有（例如 {first}）", opts.kind.zh(), missing.len()),
            ));
        }
        v
    };
    let cand_sets = pb.coverage_sets(demand.radius);
    let ex_pts: Vec<Point<f64>> = existing.iter().map(|e| e.0).collect();
    let ex_reach = access.all_within(&demand.points, &ex_pts, demand.radius, progress)?;
    // Merge demand points by the facilities reaching them (an exact reduction).
    let n = demand.points.len();
    let mut key: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (j, s) in cand_sets.iter().enumerate() {
        for i in s {
            key[*i as usize].push(j as u32);
        }
    }
    let m = cand_sets.len() as u32;
    for (i, k) in key.iter_mut().enumerate() {
        for (e, _) in ex_reach.of(i) {
            k.push(m + e);
        }
    }
    let mut row_of: HashMap<&[u32], u32> = HashMap::new();
    let mut weight: Vec<f64> = Vec::new();
    let mut row_sets: Vec<Vec<u32>> = vec![Vec::new(); cand_sets.len() + existing.len()];
    for (i, k) in key.iter().enumerate() {
        if k.is_empty() {
            continue;
        }
        let r = *row_of.entry(k.as_slice()).or_insert_with(|| {
            weight.push(0.0);
            for f in k {
                row_sets[*f as usize].push((weight.len() - 1) as u32);
            }
            (weight.len() - 1) as u32
        });
        weight[r as usize] += demand.weight[i] * opts.uptake;
    }
    let existing_sets: Vec<(Vec<u32>, f64)> = existing
        .iter()
        .enumerate()
        .map(|(e, (_, c))| (row_sets[cand_sets.len() + e].clone(), *c))
        .collect();
    row_sets.truncate(cand_sets.len());
    if opts.uptake < 1.0 {
        notes.push(format!(
            "sized model: {:.0} % of the {} need a place (--uptake)",
            opts.uptake * 100.0,
            demand.group.en()
        ));
    }
    Ok(SizedProblem {
        weight,
        sets: row_sets,
        existing: existing_sets,
        modules,
        budget,
    })
}
