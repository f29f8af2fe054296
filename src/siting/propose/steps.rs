//! The steps of a proposal: the reach it covers, the quotas it must meet, the answer it
//! reports, the ranking by marginal gain, and the after-dataset and before → after deltas.

use super::*;

/// The reach the proposal covers: the preset's reach rule for the kind (radius, people,
/// kinds that already cover), a `--radius` override, or the preset's walk with a note.
pub(super) fn reach_of(
    rules: &RuleSet,
    opts: &ProposeOptions,
    notes: &mut Vec<String>,
) -> Result<(f64, AgeGroup, Vec<FacilityKind>)> {
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
    Ok((radius, group, cover_kinds))
}

/// The answer to report: the exact solve's when asked for and no worse than the
/// heuristic's (with its proven bound and gap), else the heuristic's.
#[allow(clippy::type_complexity)]
pub(super) fn best_answer(
    pb: &Problem,
    model: Model,
    opts: &ProposeOptions,
    heur: &crate::siting::Solution,
    time_limit: f64,
    progress: &dyn Progress,
) -> Result<(Vec<usize>, f64, Option<f64>, Option<f64>, String)> {
    Ok(if opts.exact {
        let ex = crate::siting::exact::solve_exact_with(pb, time_limit, Some(heur), progress)?;
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
            if heur.stopped {
                "heuristic, stopped at the time limit (the best found by then)".to_string()
            } else {
                "heuristic".to_string()
            },
        )
    })
}

/// Ranks the selected sites by marginal gain: each next site is the one adding most people
/// given those before it. Returns (site, gain) in order and who is covered in the end.
pub(super) fn rank_by_gain(
    sets: &[Vec<u32>],
    by_existing: &[bool],
    weight: &[f64],
    selected: &[usize],
) -> (Vec<(usize, f64)>, Vec<bool>) {
    let mut covered = by_existing.to_vec();
    let mut rest = selected.to_vec();
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
    (ranked, covered)
}

/// The dataset with the ranked proposals added as proposed facilities (named by rank,
/// with their modules' places), for the coverage engine's "after".
pub(super) fn with_proposals(
    ds: &Dataset,
    cands: &[Candidate],
    ranked: &[(usize, f64)],
    places: Option<&HashMap<usize, f64>>,
    kind: FacilityKind,
) -> Dataset {
    let mut after_ds = ds.clone();
    let layer = LayerId(after_ds.layers.len() as u32);
    for (k, (j, _)) in ranked.iter().enumerate() {
        {
            let c = &cands[*j];
            let id = FacilityId(after_ds.facilities.len() as u32);
            let mut f = Facility::proposed(
                id,
                c.id.clone(),
                format!("{} {}", kind.zh(), k + 1),
                kind,
                places.and_then(|p| p.get(j).copied()),
                c.location,
                c.unit,
                layer,
            );
            f.attributes = c.attributes.clone();
            after_ds.facilities.push(f);
        }
    }
    after_ds
}

/// Before → after of every rule about the proposed kind.
pub(super) fn deltas(
    relevant: &[&coverage::rules::Rule],
    before: &Report,
    after: &Report,
) -> Vec<RuleDelta> {
    relevant
        .iter()
        .filter_map(|r| {
            let b = before.rules.iter().find(|x| x.id == r.id)?;
            let a = after.rules.iter().find(|x| x.id == r.id)?;
            let eq = |rep: &Report| {
                rep.equity
                    .iter()
                    .find(|e| e.rule == r.id)
                    .map(|e| e.equity.clone())
            };
            let (eb, ea) = (eq(before), eq(after));
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
                gini_before: eb.as_ref().map(|e| e.gini),
                gini_after: ea.as_ref().map(|e| e.gini),
                worst_decile_share_before: eb.map(|e| e.worst_decile_people_share),
                worst_decile_share_after: ea.map(|e| e.worst_decile_people_share),
            })
        })
        .collect()
}

pub(super) fn default_group(kind: FacilityKind) -> AgeGroup {
    AgeGroup::for_kinds(&[kind])
}

/// Units failing a presence rule of `kind` (the rule id with each).
pub(super) fn quota_units(
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
pub(super) fn places_deficits(before: &Report, rules: &RuleSet) -> Vec<(UnitId, f64)> {
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
pub(super) fn assign_modules(
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
