//! `access` (accessibility measures per demand point and unit) and `matrix` (the sparse
//! travel matrix another tool can read).

use super::*;
use carecircle::coverage::equity::{equity, Weighted};
use carecircle::coverage::measure::{self, AccessJob, Measure, Method, Supply};
use carecircle::coverage::rules::AgeGroup;
use carecircle::coverage::{self, DemandModel};

/// `carecircle access`: decay-weighted accessibility per demand point and unit.
#[derive(clap::Args)]
pub struct AccessArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Facility kind that supplies (nursery, day_care, …).
    #[arg(long)]
    pub kind: String,
    /// 2sfca | e2sfca | gravity | nearest-n
    #[arg(long, default_value = "2sfca")]
    pub method: String,
    /// e2sfca and gravity: step | linear | gaussian | exponential (default: the preset's
    /// `[settings.access]`, else gaussian with σ = half the catchment).
    #[arg(long)]
    pub decay: Option<String>,
    /// Catchment in metres (default: --minutes × speed when given, else the preset's
    /// nursery radius for childcare and its walk for elderly care).
    #[arg(long, conflicts_with = "minutes")]
    pub catchment_m: Option<f64>,
    /// nearest-n: how many nearest facilities to average (default: the preset's, else 3).
    #[arg(long)]
    pub n: Option<usize>,
    /// What a facility offers: capacity (places/beds) or count (1 each).
    #[arg(long, default_value = "capacity", value_parser = ["capacity", "count"])]
    pub supply: String,
    /// Whose demand: total, 60+ or 0-3 (default: total for childcare, as the plans count
    /// places per 1000 residents; 60+ for elderly care).
    #[arg(long, value_parser = ["total", "60+", "0-3"])]
    pub group: Option<String>,
    /// Output CSV per demand point: id,lon,lat,unit,access.
    #[arg(long)]
    pub csv: PathBuf,
    /// Output CSV per unit: code,name,level,people,people_without_value,access.
    #[arg(long)]
    pub units: Option<PathBuf>,
}

/// `carecircle matrix`: origin–facility pairs within a walk or distance.
#[derive(clap::Args)]
pub struct MatrixArgs {
    /// A folder with dataset.toml, a dataset.toml, or a single data file.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Origins: demand (the demand model's points) or units (a point inside each unit).
    #[arg(long, default_value = "demand", value_parser = ["demand", "units"])]
    pub from: String,
    /// Facility kind of the destinations.
    #[arg(long)]
    pub to: String,
    /// Only pairs within this many minutes (at the scenario's speed).
    #[arg(long)]
    pub max_minutes: f64,
    /// Output CSV: from_id,to_id,metres,minutes (sparse: only pairs within the limit).
    #[arg(long)]
    pub csv: PathBuf,
}

fn kind_of(s: &str, option: &str) -> anyhow::Result<FacilityKind> {
    FacilityKind::parse(s).with_context(|| {
        format!("{option}: unknown facility kind '{s}' (day_care, street_station, district_center, township_institution, county_hardship, village_mutual_aid, care_home, nursery)")
    })
}

fn say_generated(generated: bool, demand: &DemandModel, ds: &Dataset) {
    if let Some(n) = carecircle::coverage::demand::generated_ids_note(generated, demand, ds) {
        eprintln!("note: {n}");
    }
}

/// The catchment in metres from the arguments, the scenario and the kind.
fn catchment(a: &AccessArgs, sc: &coverage::Scenario, kind: FacilityKind) -> anyhow::Result<f64> {
    let d0 = match (a.catchment_m, a.scenario.minutes) {
        (Some(m), _) => m,
        (None, Some(_)) => sc.walk().metres,
        (None, None) if kind.is_childcare() => sc.rules().settings.nursery_radius_m,
        (None, None) => sc.walk().metres,
    };
    in_range(
        "--catchment-m",
        d0,
        1.0,
        100_000.0,
        "metres; a catchment, not a region",
    )?;
    Ok(d0)
}

pub(super) fn access(a: AccessArgs) -> anyhow::Result<()> {
    let kind = kind_of(&a.kind, "--kind")?;
    let sc = a.scenario.scenario()?;
    let d0 = catchment(&a, &sc, kind)?;
    let settings = &sc.rules().settings;
    let n = a.n.or(settings.access.n).unwrap_or(3);
    let method = Method::named(
        &a.method,
        || settings.access.decay(a.decay.as_deref(), d0),
        n,
    )
    .map_err(|m| anyhow::anyhow!("--method/--decay: {m}"))?;
    anyhow::ensure!(
        a.decay.is_none() || matches!(method, Method::Enhanced { .. } | Method::Gravity { .. }),
        "--decay applies to e2sfca and gravity, not {}",
        a.method
    );
    let group = match a.group.as_deref() {
        Some("total") => AgeGroup::Total,
        Some("60+") => AgeGroup::Aged60plus,
        Some("0-3") => AgeGroup::Aged0to3,
        // Nursery places are planned per 1000 residents (4.5 ‰), elderly care per person 60+.
        _ if kind.is_childcare() => AgeGroup::Total,
        _ => AgeGroup::Aged60plus,
    };
    let ds = load(&a.dataset)?;
    {
        let extra: Vec<&Path> = rules_file(&a.scenario.rules).into_iter().collect();
        use carecircle::io::write::OutputFormat as F;
        let mut outs = vec![(a.csv.as_path(), F::Csv)];
        if let Some(u) = &a.units {
            outs.push((u.as_path(), F::Csv));
        }
        check_outputs(&ds, &extra, &outs)?;
    }
    let bar = BarProgress::new();
    let demand = coverage::build_demand(&ds, settings, &bar)?;
    let options = sc.options();
    let job = AccessJob {
        kind,
        measure: Measure {
            method,
            catchment_m: d0,
        },
        supply: if a.supply == "count" {
            Supply::Count
        } else {
            Supply::Capacity
        },
        group,
        options: &options,
        statuses: &settings.statuses,
    };
    let result = a.scenario.with_access(&sc, &ds, |acc| {
        measure::on_dataset(&ds, &demand, &job, acc, &bar)
    })??;
    bar.finish();

    let (ids, generated) = carecircle::coverage::demand::demand_ids(&ds, &demand);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "lon", "lat", "unit", "people", "access"])?;
    for (k, d) in demand.points.iter().enumerate() {
        let (lon, lat) = ds.projection.inverse(d.location.x(), d.location.y());
        w.write_record([
            ids[k].clone(),
            format!("{lon:.7}"),
            format!("{lat:.7}"),
            ds.unit(d.unit).code.clone(),
            format!("{}", result.weights[k]),
            result.values[k].map(|v| v.to_string()).unwrap_or_default(),
        ])?;
    }
    carecircle::io::write::write_atomic(&a.csv, &w.into_inner()?)?;
    say_generated(generated, &demand, &ds);

    let tier = demand.tier;
    if let Some(path) = &a.units {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "code",
            "name",
            "level",
            "people",
            "people_without_value",
            "access",
        ])?;
        for u in &ds.units {
            let x = result.units[u.id.index()];
            if x.people <= 0.0 {
                continue;
            }
            w.write_record([
                u.code.clone(),
                u.name.clone(),
                u.level.key().to_string(),
                format!("{:.3}", x.people),
                format!("{:.3}", x.people_without),
                x.mean().map(|v| v.to_string()).unwrap_or_default(),
            ])?;
        }
        carecircle::io::write::write_atomic(path, &w.into_inner()?)?;
    }

    let m = &job.measure;
    let detail = match &m.method {
        Method::Enhanced { decay } | Method::Gravity { decay } => format!(", {}", decay.describe()),
        Method::NearestN { n } => format!(", n = {n}"),
        Method::TwoStep => String::new(),
    };
    println!(
        "{} {} ({}{detail}), catchment {:.0} m ({}), {} {} supplying {}, {} demand points of {}",
        m.method.key(),
        m.method.unit_en(),
        kind.key(),
        d0,
        sc.mode.key(),
        result.facilities.len(),
        kind.key(),
        if job.supply == Supply::Count {
            "1 each".into()
        } else {
            format!("{:.0} in all", result.supply.iter().sum::<f64>())
        },
        demand.points.len(),
        group.en(),
    );
    if result.estimated > 0 {
        println!(
            "note: {} of the capacities are estimates (capacity_estimate), not data",
            result.estimated
        );
    }
    let without = result.values.iter().filter(|v| v.is_none()).count();
    if without > 0 {
        println!("{without} points have fewer than n facilities within the catchment: no value");
    }
    // Equity over the demand tier's units (the finest with population).
    let tier_units: Vec<Weighted> = ds
        .units
        .iter()
        .filter(|u| Some(u.level.tier()) == tier)
        .filter_map(|u| {
            let x = result.units[u.id.index()];
            x.mean().map(|v| Weighted {
                value: v,
                people: x.weighed,
            })
        })
        .collect();
    if m.method.higher_is_better() {
        match equity(&tier_units) {
            Some(e) => println!(
                "equity over {} units: mean {:.4}, Gini {:.3}, Palma {}, worst-served tenth of units ({}) hold {:.1} % of the people",
                e.units,
                e.mean,
                e.gini,
                e.palma.map(|p| format!("{p:.2}")).unwrap_or_else(|| "unbounded (bottom 40 % have none)".into()),
                e.worst_decile_units,
                e.worst_decile_people_share * 100.0
            ),
            None => println!("equity: no unit has supply within reach"),
        }
    }
    println!("per point: {}", a.csv.display());
    if let Some(p) = &a.units {
        println!("per unit: {}", p.display());
    }
    Ok(())
}

pub(super) fn matrix(a: MatrixArgs) -> anyhow::Result<()> {
    let kind = kind_of(&a.to, "--to")?;
    check_minutes("--max-minutes", a.max_minutes)?;
    let sc = a.scenario.scenario()?;
    let speed = sc
        .walk()
        .speed_m_s
        .unwrap_or(sc.rules().settings.walk_speed_m_s);
    let max_m = a.max_minutes * 60.0 * speed;
    let ds = load(&a.dataset)?;
    {
        let extra: Vec<&Path> = rules_file(&a.scenario.rules).into_iter().collect();
        use carecircle::io::write::OutputFormat as F;
        check_outputs(&ds, &extra, &[(&a.csv, F::Csv)])?;
    }
    let bar = BarProgress::new();
    let options = sc.options();
    let statuses = &sc.rules().settings.statuses;
    let facs: Vec<_> = ds
        .facilities
        .iter()
        .filter(|f| f.kind == kind && f.location.is_some() && options.counts(statuses, f))
        .collect();
    anyhow::ensure!(
        !facs.is_empty(),
        "--to {}: no {} with a location counts in this scenario",
        a.to,
        kind.key()
    );
    let targets: Vec<geo::Point<f64>> = facs.iter().filter_map(|f| f.location).collect();
    let (origins, ids): (Vec<geo::Point<f64>>, Vec<String>) = if a.from == "units" {
        use geo::InteriorPoint;
        ds.units
            .iter()
            .filter_map(|u| {
                let p = u.geometry.as_ref()?.interior_point()?;
                Some((p, u.code.clone()))
            })
            .unzip()
    } else {
        let demand = coverage::build_demand(&ds, &sc.rules().settings, &bar)?;
        let (ids, generated) = carecircle::coverage::demand::demand_ids(&ds, &demand);
        say_generated(generated, &demand, &ds);
        (demand.points.iter().map(|d| d.location).collect(), ids)
    };
    let reach = a.scenario.with_access(&sc, &ds, |acc| {
        acc.all_within(&origins, &targets, max_m, &bar)
    })??;
    bar.finish();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["from_id", "to_id", "metres", "minutes"])?;
    for (i, id) in ids.iter().enumerate() {
        for (j, d) in reach.of(i) {
            // The f32 metres widened and printed in full: a reader parses exactly the
            // figure used here (printing the f32 itself would round differently in f64).
            w.write_record([
                id.clone(),
                facs[j as usize].source_id.clone(),
                format!("{}", f64::from(d)),
                format!("{:.3}", f64::from(d) / speed / 60.0),
            ])?;
        }
    }
    carecircle::io::write::write_atomic(&a.csv, &w.into_inner()?)?;
    println!(
        "{} pairs within {} min × {} m/s = {:.0} m ({}) from {} {} to {} {}; written to {}",
        reach.pairs(),
        a.max_minutes,
        speed,
        max_m,
        sc.mode.key(),
        origins.len(),
        a.from,
        facs.len(),
        kind.key(),
        a.csv.display()
    );
    Ok(())
}
