//! A measure on a dataset: the facilities of a kind that count in the scenario, the demand
//! model's points weighted by an age group, the scenario's distance, and the figures per
//! point and per unit (with every ancestor). The CLI's `access` and the app share it.

use geo::Point;
use serde::Serialize;

use super::{per_unit, Measure, MeasureError, Method, UnitAccess};
use crate::coverage::access::{Accessibility, Reach};
use crate::coverage::analysis::Options;
use crate::coverage::demand::DemandModel;
use crate::coverage::rules::AgeGroup;
use crate::model::{Dataset, FacilityId, FacilityKind, FacilityStatus};
use crate::progress::Progress;
use crate::{Error, Result};

/// What a facility offers in the measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Supply {
    /// Its places or beds; a facility without a figure is an error, not a zero.
    Capacity,
    /// One per facility.
    Count,
}

/// A measure's answer on a dataset.
#[derive(Clone, Debug)]
pub struct DatasetAccess {
    /// The facilities that supplied, and what each supplied.
    pub facilities: Vec<FacilityId>,
    pub supply: Vec<f64>,
    /// Per demand point of the model: its people of the group, and its value.
    pub weights: Vec<f64>,
    pub values: Vec<Option<f64>>,
    /// Per unit (index = unit id), the points inside it or a descendant.
    pub units: Vec<UnitAccess>,
    /// Pairs within the catchment (for the matrix and the PySAL check).
    pub reach: Reach,
    /// Estimated capacities among the supply (an assumption, not data).
    pub estimated: usize,
}

/// Everything a measure on a dataset needs besides the data.
pub struct AccessJob<'a> {
    pub kind: FacilityKind,
    pub measure: Measure,
    pub supply: Supply,
    pub group: AgeGroup,
    pub options: &'a Options,
    pub statuses: &'a [FacilityStatus],
}

/// Runs `job` on `ds` with demand `demand` and distance `access`.
pub fn on_dataset(
    ds: &Dataset,
    demand: &DemandModel,
    job: &AccessJob,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<DatasetAccess> {
    let facs: Vec<_> = ds
        .facilities
        .iter()
        .filter(|f| {
            f.kind == job.kind && f.location.is_some() && job.options.counts(job.statuses, f)
        })
        .collect();
    if facs.is_empty() {
        return Err(Error::Input {
            en: format!(
                "--kind {}: no {} with a location counts in this scenario",
                job.kind.key(),
                job.kind.key()
            ),
            zh: format!("没有计入本情景且有位置的{}", job.kind.zh()),
        });
    }
    let supply: Vec<f64> = match job.supply {
        Supply::Count => vec![1.0; facs.len()],
        Supply::Capacity => {
            let missing: Vec<String> = facs
                .iter()
                .filter(|f| f.capacity.is_none())
                .map(|f| format!("{} ({})", f.name, f.source_id))
                .collect();
            if !missing.is_empty() {
                return Err(Error::Input {
                    en: format!(
                        "--supply capacity: {} of {} {} have no capacity (first: {}); add the figures, or use --supply count",
                        missing.len(),
                        facs.len(),
                        job.kind.key(),
                        missing[0]
                    ),
                    zh: format!(
                        "{} 个{}没有容量数据（例如 {}）：请补充，或改用 --supply count",
                        missing.len(),
                        job.kind.zh(),
                        missing[0]
                    ),
                });
            }
            facs.iter().map(|f| f.capacity.unwrap_or(0.0)).collect()
        }
    };
    job.measure
        .check(facs.len())
        .map_err(|e| measure_error(&e))?;
    let targets: Vec<Point<f64>> = facs.iter().filter_map(|f| f.location).collect();
    let reach = access.all_within(
        demand.points.locations(),
        &targets,
        job.measure.catchment_m,
        progress,
    )?;
    let weights = demand.points.weights(job.group);
    let values = job
        .measure
        .compute(&weights, &supply, &reach)
        .map_err(|e| measure_error(&e))?;
    let units = per_unit(
        &values,
        &weights,
        &|i| {
            ds.ancestors(demand.points.unit(i))
                .map(|u| u.index())
                .collect()
        },
        ds.units.len(),
    );
    let estimated = match job.supply {
        Supply::Capacity => facs.iter().filter(|f| f.capacity_estimated).count(),
        Supply::Count => 0,
    };
    Ok(DatasetAccess {
        facilities: facs.iter().map(|f| f.id).collect(),
        supply,
        weights,
        values,
        units,
        reach,
        estimated,
    })
}

fn measure_error(e: &MeasureError) -> Error {
    Error::Input {
        en: e.to_string(),
        zh: format!("可达性参数有误：{e}"),
    }
}

impl Method {
    /// The method called `name` on the command line (2sfca, e2sfca, gravity, nearest-n).
    pub fn named(
        name: &str,
        decay: impl FnOnce() -> std::result::Result<super::Decay, String>,
        n: usize,
    ) -> std::result::Result<Method, String> {
        Ok(match name {
            "2sfca" => Method::TwoStep,
            "e2sfca" => Method::Enhanced { decay: decay()? },
            "gravity" => Method::Gravity { decay: decay()? },
            "nearest-n" | "nearest_n" => Method::NearestN { n },
            other => {
                return Err(format!(
                    "unknown method '{other}' (2sfca, e2sfca, gravity, nearest-n)"
                ))
            }
        })
    }
}
