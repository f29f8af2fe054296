//! After every layer is read: parent links between units, facility joins by code or town
//! name, and the manifest's plan context (central urban codes, known totals, declared kinds).

use super::*;

/// The manifest's central-urban codes, known totals and declared facility kinds.
pub(super) fn apply_plan_context(
    ds: &mut Dataset,
    manifest: &Manifest,
    source: &Path,
) -> Result<()> {
    for code in &manifest.central_urban {
        let hits: Vec<usize> = ds
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| canonical_code(&u.code, u.level) == canonical_code(code, u.level))
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            ds.warnings.push(LoadWarning::new(
                source,
                None,
                Some("central_urban".into()),
                Said::new(
                    format!("no unit has code {code}; not marked central urban"),
                    format!("没有代码为 {code} 的单元；未标记为中心城区"),
                ),
            ));
        }
        for i in hits {
            ds.units[i].central_urban = Some(true);
        }
    }
    for (i, t) in manifest.known_totals.iter().enumerate() {
        let label = format!("known_totals[{i}] ({})", t.label);
        let mut kinds = Vec::new();
        for k in &t.kinds {
            kinds.push(FacilityKind::parse(k).ok_or_else(|| {
                manifest_err(source, format!("{label}: unknown facility kind '{k}'"))
            })?);
        }
        if kinds.is_empty() {
            return Err(manifest_err(source, format!("{label}: needs 'kinds'")));
        }
        let mut qualifiers = Qualifiers::default();
        for (k, v) in &t.qualifiers {
            let q = Qualifier::parse(k).ok_or_else(|| {
                manifest_err(
                    source,
                    format!("{label}: unknown qualifier '{k}' (standardised, public, public_benefit, comprehensive, demonstration)"),
                )
            })?;
            qualifiers.set(q, Some(*v));
        }
        for (name, v) in [
            ("facilities", t.facilities),
            ("capacity", t.capacity),
            ("nursing_beds", t.nursing_beds),
        ] {
            if v.is_some_and(|x| !(x.is_finite() && x >= 0.0)) {
                return Err(manifest_err(
                    source,
                    format!("{label}: {name} must be zero or positive"),
                ));
            }
        }
        ds.known_totals.push(KnownTotal {
            label: t.label.clone(),
            kinds,
            facilities: t.facilities,
            capacity: t.capacity,
            nursing_beds: t.nursing_beds,
            qualifiers,
            year: t.year,
            at_least: t.at_least,
            source: t.source.clone(),
        });
    }
    for spec in &manifest.layers {
        let role = parse_role(spec.role.trim());
        if !matches!(role, Some(LayerRole::Facilities)) {
            continue;
        }
        for k in spec.kinds.iter().chain(spec.kind.as_ref()) {
            let kind = FacilityKind::parse(k).ok_or_else(|| {
                manifest_err(
                    source,
                    format!("layer {}: unknown facility kind '{k}'", spec.path),
                )
            })?;
            if !ds.declared_kinds.contains(&kind) {
                ds.declared_kinds.push(kind);
            }
        }
    }
    Ok(())
}

/// Links units to their parents by parent code, else by the prefix of a national code.
pub(super) fn resolve_parents(ds: &mut Dataset) {
    let by_code = ds.units_by_code();
    let lookup = |code: &str, child_tier: u8| -> Option<UnitId> {
        let c = code.trim().trim_end_matches(".0");
        let mut cands = vec![c.to_owned()];
        for lvl in [UnitLevel::County, UnitLevel::Township] {
            cands.push(canonical_code(c, lvl));
        }
        cands
            .iter()
            .filter_map(|k| by_code.get(k))
            .copied()
            .find(|id| ds.units[id.index()].level.tier() < child_tier)
    };
    let mut updates = Vec::new();
    let mut warns = Vec::new();
    for u in &ds.units {
        let tier = u.level.tier();
        let parent = match &u.parent_code {
            Some(pc) => {
                let found = lookup(pc, tier);
                if found.is_none() && !ds.units.is_empty() {
                    // Only a problem when some unit of a higher level exists at all.
                    if ds.units.iter().any(|o| o.level.tier() < tier) {
                        warns.push(LoadWarning::new(
                            ds.layers[u.layer.index()].path.clone(),
                            Some(format!("{} ({})", u.name, u.code)),
                            Some("parent".into()),
                            Said::new(
                                format!("parent code {pc} is not a unit of this dataset"),
                                format!("上级代码 {pc} 不是本数据集中的单元"),
                            ),
                        ));
                    }
                }
                found
            }
            None => {
                let code = canonical_code(&u.code, u.level);
                let digits = code.chars().all(|c| c.is_ascii_digit());
                let mut found = None;
                if digits {
                    for len in [9usize, 6] {
                        if len < code.len() {
                            if let Some(id) = lookup(&code[..len], tier) {
                                found = Some(id);
                                break;
                            }
                        }
                    }
                }
                found
            }
        };
        updates.push(parent);
    }
    for (u, p) in ds.units.iter_mut().zip(updates) {
        u.parent = p;
    }
    ds.warnings.extend(warns);
}

/// Attaches facilities that carry a unit code or town/county name (and no point) to units:
/// by code first, else by name scoped to the county (和平街道 exists in several counties).
pub(super) fn resolve_facility_joins(ds: &mut Dataset) {
    let by_code = ds.units_by_code();
    let mut by_name: BTreeMap<String, Vec<UnitId>> = BTreeMap::new();
    for u in &ds.units {
        by_name
            .entry(normalise_name(&u.name))
            .or_default()
            .push(u.id);
        let short = strip_level_suffix(&normalise_name(&u.name));
        by_name.entry(short).or_default().push(u.id);
    }
    for v in by_name.values_mut() {
        v.sort();
        v.dedup();
    }
    let find_name = |name: &str, tier: u8, within: Option<UnitId>| -> Vec<UnitId> {
        let n = normalise_name(name);
        let mut ids: Vec<UnitId> = by_name
            .get(&n)
            .or_else(|| by_name.get(&strip_level_suffix(&n)))
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| ds.units[id.index()].level.tier() == tier)
            .filter(|id| within.is_none_or(|w| ds.ancestors(*id).any(|a| a == w)))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut results = Vec::new();
    for f in &ds.facilities {
        results.push(join_one(ds, f, &by_code, &find_name));
    }
    for (f, (unit, join, warn)) in ds.facilities.iter_mut().zip(results) {
        if f.location.is_none() || join.is_some() {
            f.unit = unit;
            f.unit_join = join;
        }
        if let Some(w) = warn {
            ds.warnings.push(w);
        }
    }
}

pub(super) fn strip_level_suffix(n: &str) -> String {
    for s in ["街道", "镇", "乡", "社区", "村"] {
        if let Some(x) = n.strip_suffix(s) {
            if !x.is_empty() {
                return x.to_owned();
            }
        }
    }
    n.to_owned()
}

/// One facility's unit by attribute: its unit code, else its town (or village) name within
/// its county; with a warning where the name or code does not match.
#[allow(clippy::type_complexity)]
fn join_one(
    ds: &Dataset,
    f: &Facility,
    by_code: &HashMap<String, UnitId>,
    find_name: &dyn Fn(&str, u8, Option<UnitId>) -> Vec<UnitId>,
) -> (Option<UnitId>, Option<UnitJoin>, Option<LoadWarning>) {
    if f.unit_ref.is_empty() {
        return (None, None, None);
    }
    let file = ds.layers[f.layer.index()].path.clone();
    let label = format!("{} ({})", f.name, f.source_id);
    let warn = |msg: Said| LoadWarning::new(file.clone(), Some(label.clone()), None, msg);
    if let Some(code) = &f.unit_ref.code {
        let found = UnitLevel::ALL
            .iter()
            .find_map(|l| by_code.get(&canonical_code(code, *l)).copied());
        match found {
            Some(id) => {
                return (Some(id), Some(UnitJoin::Code), None);
            }
            None => {
                return (
                    None,
                    None,
                    Some(warn(Said::new(
                        format!("unit code {code} is not a unit of this dataset"),
                        format!("单元代码 {code} 不是本数据集中的单元"),
                    ))),
                );
            }
        }
    }
    let county = match &f.unit_ref.county {
        Some(c) => {
            let ids = find_name(c, 1, None);
            match ids.as_slice() {
                [one] => Some(*one),
                [] => {
                    if f.unit_ref.town.is_none() {
                        return (
                            None,
                            None,
                            Some(warn(Said::new(
                                format!("'{c}' is not a county-level unit of this dataset (city-level or a special zone?): counted in dataset totals only"),
                                format!("“{c}”不是本数据集中的区县级单元（地级市或特殊区域？）：只计入数据集总数"),
                            ))),
                        );
                    }
                    None
                }
                _ => None,
            }
        }
        None => None,
    };
    let mut unit = county;
    let mut note = None;
    if let Some(town) = &f.unit_ref.town {
        match find_name(town, 2, county).as_slice() {
            [one] => unit = Some(*one),
            [] => {
                let county = f.unit_ref.county.as_deref();
                note = Some(warn(Said::new(
                    format!(
                        "town '{town}' not found{}; attached to the county",
                        county.map(|c| format!(" in {c}")).unwrap_or_default()
                    ),
                    format!(
                        "{}未找到乡镇“{town}”；归入区县",
                        county.map(|c| format!("在“{c}”中")).unwrap_or_default()
                    ),
                )))
            }
            many => {
                note = Some(warn(Said::new(
                    format!(
                        "town '{town}' is ambiguous ({} matches); attached to the county",
                        many.len()
                    ),
                    format!("乡镇“{town}”有歧义（{} 个匹配）；归入区县", many.len()),
                )))
            }
        }
        if let (Some(village), Some(t)) = (&f.unit_ref.village, unit) {
            if ds.units[t.index()].level.tier() == 2 {
                if let [one] = find_name(village, 3, Some(t)).as_slice() {
                    unit = Some(*one);
                }
            }
        }
    }
    (unit, unit.map(|_| UnitJoin::Name), note)
}
