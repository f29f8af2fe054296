//! What a scenario leaves out or assumes, in plain words: facilities in no unit, missing
//! capacities, renovations, closed facilities, projects after the scenario year, units the
//! demand model skipped.

use super::{Analysis, Options};
use crate::model::{FacilityKind, FacilityStatus};

/// The report's `skipped` list before any rule runs.
pub(super) fn scenario_notes(an: &Analysis, opts: &Options) -> Vec<String> {
    let ds = an.ds;
    let mut skipped: Vec<String> = Vec::new();
    for f in &an.assignment.outside {
        let f = ds.facility(*f);
        if an.counted[f.id.index()] {
            skipped.push(format!(
                "facility {} ({}, {}) lies in no unit and has no unit code or town: counted only in jurisdiction totals",
                f.name,
                f.source_id,
                f.kind.key()
            ));
        }
    }
    let no_capacity = ds
        .facilities
        .iter()
        .filter(|f| {
            an.counted[f.id.index()] && f.kind == FacilityKind::Nursery && f.capacity.is_none()
        })
        .count();
    if no_capacity > 0 {
        skipped.push(format!(
            "{no_capacity} nurseries have no capacity: they count for presence and reach; their places are unknown, so place totals are lower bounds (set capacity or capacity_estimate)"
        ));
    }
    let renovations: Vec<String> = ds
        .facilities
        .iter()
        .filter(|f| f.renovation && f.status != FacilityStatus::Closed)
        .map(|f| format!("{} ({})", f.name, f.source_id))
        .collect();
    if !renovations.is_empty() {
        skipped.push(format!(
            "{} renovation projects of existing facilities add no new facility and no new capacity: {}",
            renovations.len(),
            renovations.join("; ")
        ));
    }
    let closed = ds
        .facilities
        .iter()
        .filter(|f| f.status == FacilityStatus::Closed)
        .count();
    if closed > 0 {
        skipped.push(format!("{closed} closed facilities are never counted"));
    }
    if let Some(y) = opts.year {
        let later = ds
            .facilities
            .iter()
            .filter(|f| {
                f.status != FacilityStatus::Closed
                    && !f.renovation
                    && f.year.is_some_and(|fy| fy > y)
            })
            .count();
        if later > 0 {
            skipped.push(format!(
                "{later} facilities or projects dated after {y} are not counted in the {y} scenario"
            ));
        }
    }
    if an.demand.outside_points > 0 {
        skipped.push(format!(
            "{} demand points lie in no unit (outside the area, or in a gap between unit shapes): left out",
            an.demand.outside_points
        ));
    }
    for (u, why) in &an.demand.skipped {
        let u = ds.unit(*u);
        skipped.push(format!("{} {} ({}): {}", u.level.zh(), u.name, u.code, why));
    }

    skipped
}
