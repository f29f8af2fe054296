//! Accessibility beyond "within 15 minutes or not": floating catchments that share a
//! facility's capacity among everyone who can reach it, decay with distance, gravity, and
//! the mean distance to the n nearest facilities.
//!
//! Every measure here is a pure function of demand weights, supply and a [`Reach`] (the
//! facilities within the catchment of each demand point, nearest first, in metres), so the
//! same code runs on straight-line and walking distances. Definitions follow PySAL
//! `access` 1.1 (`two_stage_fca` with a weight function, `weighted_catchment`) so the two
//! can be compared figure for figure:
//!
//! - 2SFCA (Luo & Wang 2003): R_j = S_j / Σ_{i: d_ij ≤ d₀} P_i, A_i = Σ_{j: d_ij ≤ d₀} R_j;
//! - E2SFCA (Luo & Qi 2009): the same with a weight W(d_ij) in both steps;
//! - gravity (Hansen 1959): A_i = Σ_{j: d_ij ≤ d₀} S_j W(d_ij), supply weighted by decay
//!   and not shared (no competition);
//! - nearest-n: the mean distance to the n nearest facilities (GOAT's "closest average").
//!
//! 2SFCA and E2SFCA are reported per 1000 people (places per 1000, the plan's unit); PySAL
//! gives the bare ratio.

mod dataset;

pub use dataset::{on_dataset, AccessJob, DatasetAccess, Supply};

use serde::{Deserialize, Serialize};

use crate::coverage::access::Reach;

/// How a facility's pull weakens with distance (d in metres, d₀ the catchment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decay", rename_all = "snake_case")]
pub enum Decay {
    /// Bands (upper limit in metres, weight), ascending; beyond the last, 0. Luo & Qi's
    /// E2SFCA uses weights 1, 0.68, 0.22 over three equal bands.
    Step { bands: Vec<(f64, f64)> },
    /// 1 − d / d₀.
    Linear,
    /// exp(−d² / 2σ²), with W(0) = 1 (PySAL's `gaussian`).
    Gaussian { sigma_m: f64 },
    /// exp(−β d), β per metre.
    Exponential { beta_per_m: f64 },
}

impl Decay {
    /// The weight at `d` metres with catchment `d0` (0 beyond it).
    pub fn weight(&self, d: f64, d0: f64) -> f64 {
        if d > d0 {
            return 0.0;
        }
        match self {
            Decay::Step { bands } => bands
                .iter()
                .find(|(limit, _)| d <= *limit)
                .map(|b| b.1)
                .unwrap_or(0.0),
            Decay::Linear => 1.0 - d / d0,
            Decay::Gaussian { sigma_m } => (-d * d / (2.0 * sigma_m * sigma_m)).exp(),
            Decay::Exponential { beta_per_m } => (-beta_per_m * d).exp(),
        }
    }

    /// Luo & Qi's three bands over a catchment: d₀/3, 2d₀/3, d₀ with 1, 0.68, 0.22.
    pub fn luo_qi(d0: f64) -> Decay {
        Decay::Step {
            bands: vec![(d0 / 3.0, 1.0), (2.0 * d0 / 3.0, 0.68), (d0, 0.22)],
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            Decay::Step { .. } => "step",
            Decay::Linear => "linear",
            Decay::Gaussian { .. } => "gaussian",
            Decay::Exponential { .. } => "exponential",
        }
    }

    /// Parameters in words: "σ = 300 m", "bands ≤300 m ×1, ≤600 m ×0.68".
    pub fn describe(&self) -> String {
        match self {
            Decay::Step { bands } => {
                let b: Vec<String> = bands
                    .iter()
                    .map(|(l, w)| format!("≤{l:.0} m ×{w}"))
                    .collect();
                format!("step {}", b.join(", "))
            }
            Decay::Linear => "linear 1 − d/d₀".into(),
            Decay::Gaussian { sigma_m } => format!("gaussian σ = {sigma_m:.0} m"),
            Decay::Exponential { beta_per_m } => {
                format!("exponential β = {:.4} per km", beta_per_m * 1000.0)
            }
        }
    }

    /// Checks the parameters; the message names the parameter.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Decay::Step { bands } => {
                if bands.is_empty() {
                    return Err("step decay needs at least one band".into());
                }
                let mut last = 0.0;
                for (l, w) in bands {
                    if !(l.is_finite() && *l > last) {
                        return Err(format!(
                            "step bands must have ascending positive limits in metres, not {l}"
                        ));
                    }
                    if !(w.is_finite() && *w >= 0.0) {
                        return Err(format!(
                            "step weights must be 0 or more, not {w} (band ≤{l} m)"
                        ));
                    }
                    last = *l;
                }
                Ok(())
            }
            Decay::Linear => Ok(()),
            Decay::Gaussian { sigma_m } if !(sigma_m.is_finite() && *sigma_m > 0.0) => Err(
                format!("gaussian sigma_m must be a positive number of metres, not {sigma_m}"),
            ),
            Decay::Exponential { beta_per_m } if !(beta_per_m.is_finite() && *beta_per_m > 0.0) => {
                Err(format!(
                    "exponential beta must be a positive rate per metre, not {beta_per_m}"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Which measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Method {
    /// Two-step floating catchment, no decay inside the catchment.
    TwoStep,
    /// Enhanced 2SFCA: the decay weighs demand and supply in both steps.
    Enhanced { decay: Decay },
    /// Hansen gravity: Σ supply × decay.
    Gravity { decay: Decay },
    /// Mean distance to the n nearest facilities, metres (lower is better).
    NearestN { n: usize },
}

impl Method {
    pub fn key(&self) -> &'static str {
        match self {
            Method::TwoStep => "2sfca",
            Method::Enhanced { .. } => "e2sfca",
            Method::Gravity { .. } => "gravity",
            Method::NearestN { .. } => "nearest-n",
        }
    }

    /// What the figure is, in words, for tables and the CSV's header comment.
    pub fn unit_en(&self) -> &'static str {
        match self {
            Method::TwoStep | Method::Enhanced { .. } => "supply per 1000 people",
            Method::Gravity { .. } => "decay-weighted supply in reach",
            Method::NearestN { .. } => "mean metres to the n nearest",
        }
    }

    /// Larger is better for every measure but nearest-n.
    pub fn higher_is_better(&self) -> bool {
        !matches!(self, Method::NearestN { .. })
    }
}

/// A measure over one catchment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measure {
    pub method: Method,
    /// Catchment d₀ in metres: pairs farther apart are not in the reach at all.
    pub catchment_m: f64,
}

/// Why a measure cannot be computed on these inputs.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MeasureError {
    #[error("{0}")]
    Decay(String),
    #[error("catchment must be a positive number of metres, not {0}")]
    Catchment(f64),
    #[error("n must be at least 1, not {0}")]
    ZeroN(usize),
    #[error("n = {n} is more than the {facilities} facilities there are")]
    NTooLarge { n: usize, facilities: usize },
    #[error("{what}: {got} values for {want} {of}")]
    Length {
        what: &'static str,
        got: usize,
        want: usize,
        of: &'static str,
    },
    #[error("{what} {index} is {value}: must be a finite number, 0 or more")]
    Negative {
        what: &'static str,
        index: usize,
        value: f64,
    },
}

impl Measure {
    /// Checks the parameters against the number of facilities.
    pub fn check(&self, facilities: usize) -> Result<(), MeasureError> {
        if !(self.catchment_m.is_finite() && self.catchment_m > 0.0) {
            return Err(MeasureError::Catchment(self.catchment_m));
        }
        match &self.method {
            Method::Enhanced { decay } | Method::Gravity { decay } => {
                decay.check().map_err(MeasureError::Decay)
            }
            Method::NearestN { n: 0 } => Err(MeasureError::ZeroN(0)),
            Method::NearestN { n } if *n > facilities => {
                Err(MeasureError::NTooLarge { n: *n, facilities })
            }
            _ => Ok(()),
        }
    }

    fn weight(&self, d: f64) -> f64 {
        match &self.method {
            Method::TwoStep | Method::NearestN { .. } => {
                if d <= self.catchment_m {
                    1.0
                } else {
                    0.0
                }
            }
            Method::Enhanced { decay } | Method::Gravity { decay } => {
                decay.weight(d, self.catchment_m)
            }
        }
    }

    /// Each demand point's accessibility: `demand[i]` people at point i, `supply[j]` at
    /// facility j, `reach` the facilities within the catchment of each point. A point that
    /// reaches nothing scores 0 (nearest-n: `None`, fewer than n facilities in reach).
    pub fn compute(
        &self,
        demand: &[f64],
        supply: &[f64],
        reach: &Reach,
    ) -> Result<Vec<Option<f64>>, MeasureError> {
        self.check(supply.len())?;
        if reach.row_of.len() != demand.len() {
            return Err(MeasureError::Length {
                what: "reach",
                got: reach.row_of.len(),
                want: demand.len(),
                of: "demand points",
            });
        }
        for (what, v) in [("demand", demand), ("supply", supply)] {
            if let Some((index, value)) = v
                .iter()
                .enumerate()
                .find(|(_, x)| !(x.is_finite() && **x >= 0.0))
            {
                return Err(MeasureError::Negative {
                    what,
                    index,
                    value: *value,
                });
            }
        }
        let n_dem = demand.len();
        Ok(match &self.method {
            Method::NearestN { n } => (0..n_dem)
                .map(|i| {
                    let row: Vec<f32> = reach
                        .of(i)
                        .filter(|(_, d)| f64::from(*d) <= self.catchment_m)
                        .take(*n)
                        .map(|x| x.1)
                        .collect();
                    (row.len() == *n)
                        .then(|| row.iter().map(|d| f64::from(*d)).sum::<f64>() / *n as f64)
                })
                .collect(),
            Method::Gravity { .. } => (0..n_dem)
                .map(|i| {
                    Some(
                        reach
                            .of(i)
                            .map(|(j, d)| supply[j as usize] * self.weight(f64::from(d)))
                            .fold(0.0, |a, b| a + b),
                    )
                })
                .collect(),
            Method::TwoStep | Method::Enhanced { .. } => {
                // Step 1: each facility's weighted demand; step 2: ratios summed back.
                let mut served = vec![0.0f64; supply.len()];
                for (i, p) in demand.iter().enumerate() {
                    for (j, d) in reach.of(i) {
                        served[j as usize] += p * self.weight(f64::from(d));
                    }
                }
                let ratio: Vec<f64> = supply
                    .iter()
                    .zip(&served)
                    .map(|(s, v)| if *v > 0.0 { s / v } else { 0.0 })
                    .collect();
                (0..n_dem)
                    .map(|i| {
                        Some(
                            reach
                                .of(i)
                                .map(|(j, d)| ratio[j as usize] * self.weight(f64::from(d)))
                                // fold from +0: an empty f64 `sum` is −0, shown as "-0".
                                .fold(0.0, |a, b| a + b)
                                * 1000.0,
                        )
                    })
                    .collect()
            }
        })
    }
}

/// Population-weighted mean of point values per unit: `unit_of[i]` is point i's unit
/// (already expanded to every ancestor by the caller if wanted). Points without a value are
/// left out and counted.
pub fn per_unit(
    values: &[Option<f64>],
    weights: &[f64],
    units_of: &dyn Fn(usize) -> Vec<usize>,
    n_units: usize,
) -> Vec<UnitAccess> {
    let mut out = vec![UnitAccess::default(); n_units];
    for (i, v) in values.iter().enumerate() {
        for u in units_of(i) {
            let a = &mut out[u];
            a.people += weights[i];
            match v {
                Some(v) => {
                    a.sum += v * weights[i];
                    a.weighed += weights[i];
                }
                None => a.people_without += weights[i],
            }
        }
    }
    out
}

/// One unit's accessibility: Σ value × people over the people with a value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UnitAccess {
    pub sum: f64,
    pub weighed: f64,
    pub people: f64,
    /// People whose point has no value (nearest-n with fewer than n in reach).
    pub people_without: f64,
}

impl UnitAccess {
    /// Population-weighted mean; `None` when no one in the unit has a value.
    pub fn mean(&self) -> Option<f64> {
        (self.weighed > 0.0).then(|| self.sum / self.weighed)
    }
}

/// Decay parameters a preset may set (`[settings.access]`); the command line overrides them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AccessSettings {
    /// Default decay: step, linear, gaussian or exponential.
    pub decay: Option<String>,
    /// Gaussian width, metres (default: half the catchment).
    pub sigma_m: Option<f64>,
    /// Exponential rate per km (default: the weight falls to 0.1 at the catchment's edge).
    pub beta_per_km: Option<f64>,
    /// Step bands as (upper limit in metres, weight) (default: Luo & Qi's thirds).
    pub steps: Option<Vec<(f64, f64)>>,
    /// n of nearest-n (default 3).
    pub n: Option<usize>,
}

impl AccessSettings {
    /// The decay called `name` (or the preset's, or gaussian) over catchment `d0`, with the
    /// preset's parameters where given; an error names the parameter.
    pub fn decay(&self, name: Option<&str>, d0: f64) -> Result<Decay, String> {
        let name = name.or(self.decay.as_deref()).unwrap_or("gaussian");
        let decay = match name {
            "step" => match &self.steps {
                Some(bands) => Decay::Step {
                    bands: bands.clone(),
                },
                None => Decay::luo_qi(d0),
            },
            "linear" => Decay::Linear,
            "gaussian" => Decay::Gaussian {
                sigma_m: self.sigma_m.unwrap_or(d0 / 2.0),
            },
            "exponential" => Decay::Exponential {
                beta_per_m: self
                    .beta_per_km
                    .map(|b| b / 1000.0)
                    .unwrap_or(10f64.ln() / d0),
            },
            other => {
                return Err(format!(
                    "unknown decay '{other}' (step, linear, gaussian, exponential)"
                ))
            }
        };
        decay.check()?;
        Ok(decay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(rows: &[&[(u32, f32)]]) -> Reach {
        let mut r = Reach::default();
        r.offsets.push(0);
        for (i, row) in rows.iter().enumerate() {
            r.row_of.push(i as u32);
            for (t, d) in row.iter() {
                r.targets.push(*t);
                r.metres.push(*d);
            }
            r.offsets.push(r.targets.len() as u32);
        }
        r
    }

    #[test]
    fn decays_at_their_ends() {
        let d0 = 900.0;
        assert_eq!(Decay::Linear.weight(0.0, d0), 1.0);
        assert_eq!(Decay::Linear.weight(450.0, d0), 0.5);
        assert_eq!(Decay::Linear.weight(901.0, d0), 0.0);
        let g = Decay::Gaussian { sigma_m: 300.0 };
        assert!((g.weight(300.0, d0) - (-0.5f64).exp()).abs() < 1e-15);
        let s = Decay::luo_qi(d0);
        assert_eq!(s.weight(300.0, d0), 1.0);
        assert_eq!(s.weight(300.1, d0), 0.68);
        assert_eq!(s.weight(900.0, d0), 0.22);
    }

    #[test]
    fn bad_parameters_are_named() {
        let m = Measure {
            method: Method::NearestN { n: 4 },
            catchment_m: 500.0,
        };
        assert_eq!(
            m.check(3),
            Err(MeasureError::NTooLarge {
                n: 4,
                facilities: 3
            })
        );
        let g = Decay::Gaussian { sigma_m: -1.0 };
        assert!(g.check().unwrap_err().contains("sigma_m"));
        let s = Decay::Step {
            bands: vec![(600.0, 1.0), (300.0, 0.5)],
        };
        assert!(s.check().unwrap_err().contains("ascending"));
    }

    #[test]
    fn no_supply_in_reach_scores_zero_not_unknown() {
        let r = reach(&[&[(0, 100.0)], &[]]);
        let m = Measure {
            method: Method::TwoStep,
            catchment_m: 300.0,
        };
        let a = m.compute(&[10.0, 10.0], &[5.0], &r).unwrap();
        assert_eq!(a, vec![Some(500.0), Some(0.0)]);
    }
}
