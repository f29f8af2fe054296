//! `solve` and `propose`: facility-location instances and proposals on a dataset.

use super::*;

pub(super) fn solve(a: SolveArgs) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    check_time_limit(a.time_limit)?;
    let mut pb = carecircle::siting::read_instance(&a.instance)?;
    if let Some(m) = &a.model {
        pb.model = carecircle::siting::Model::parse(m)
            .with_context(|| format!("--model '{m}': expected mclp, lscp, pmedian or threshold"))?;
    }
    if a.share.is_some() {
        pb.share = a.share;
    }
    use carecircle::siting::{exact, Deadline};
    if a.exact {
        // Too big for the exact solver: say so now, not after the heuristic.
        exact::check_size(&pb)?;
    }
    // With --exact the heuristic is the warm start and gets a share of the limit.
    let share = if a.exact {
        exact::WARM_START_SHARE
    } else {
        1.0
    };
    let sol = pb.solve_heuristic_until(Deadline::after(a.time_limit * share))?;
    let check = pb.objective(&sol.selected);
    anyhow::ensure!(
        (check - sol.objective).abs() <= 1e-6 * check.abs().max(1.0),
        "internal check failed: objective {} recomputes to {check}",
        sol.objective
    );
    let (selected, objective, bound, gap, solver) = if a.exact {
        let remaining = (a.time_limit - t.elapsed().as_secs_f64()).max(0.1);
        let bar = BarProgress::new();
        let ex = carecircle::siting::exact::solve_exact_with(&pb, remaining, Some(&sol), &bar);
        bar.finish();
        let ex = ex?;
        // Keep the better of the two answers (the heuristic may beat a timed-out MILP).
        let better = match pb.model {
            carecircle::siting::Model::Mclp => ex.objective >= sol.objective,
            _ => ex.objective <= sol.objective,
        };
        let (sel, obj) = if better {
            (ex.selected.clone(), ex.objective)
        } else {
            (sol.selected.clone(), sol.objective)
        };
        let gap = if ex.bound.is_finite() {
            (ex.bound - obj).abs() / obj.abs().max(1e-12)
        } else {
            f64::INFINITY
        };
        (
            sel,
            obj,
            Some(ex.bound),
            Some(gap),
            format!(
                "{} ({}), warm-started by {}",
                ex.method,
                ex.status,
                pb.heuristic_name()
            ),
        )
    } else {
        (
            sol.selected.clone(),
            sol.objective,
            None,
            None,
            format!(
                "{} (heuristic; no bound){}",
                pb.heuristic_name(),
                if sol.stopped {
                    "; stopped at the time limit: the best found by then"
                } else {
                    ""
                }
            ),
        )
    };
    let secs = t.elapsed().as_secs_f64();
    let ids: Vec<&str> = selected
        .iter()
        .map(|i| pb.candidate_ids[*i].as_str())
        .collect();
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "objective": objective, "selected_ids": ids, "bound": bound, "gap": gap,
                "seconds": secs, "heuristic_objective": sol.objective,
                "greedy_objective": sol.greedy_objective, "solver": solver,
                "heuristic_stopped": sol.stopped,
            })
        );
    } else {
        println!(
            "{:?}: objective {} (heuristic {}, greedy {}){} in {:.3} s [{solver}]; sites: {}",
            pb.model,
            objective,
            sol.objective,
            sol.greedy_objective,
            match (bound, gap) {
                (Some(b), Some(g)) => format!(", bound {b}, gap {:.4}%", g * 100.0),
                _ => String::new(),
            },
            secs,
            ids.join(", ")
        );
    }
    Ok(())
}

/// The `--exclude` layer in the dataset's metres, with the option's checks.
fn excluded_of(
    a: &ProposeArgs,
    ds: &Dataset,
) -> anyhow::Result<Option<carecircle::siting::propose::Excluded>> {
    use geo::MapCoords;
    in_range(
        "--exclude-buffer",
        a.exclude_buffer,
        0.0,
        100_000.0,
        "metres around an excluded shape",
    )?;
    let Some(path) = &a.exclude else {
        anyhow::ensure!(
            a.exclude_buffer == 0.0 && a.exclude_crs.is_none(),
            "--exclude-buffer and --exclude-crs need --exclude FILE"
        );
        return Ok(None);
    };
    let (shapes, without) =
        carecircle::io::load::load_geometry_layer(path, a.exclude_crs.as_deref())
            .with_context(|| format!("--exclude {}", path.display()))?;
    anyhow::ensure!(
        !shapes.is_empty(),
        "--exclude {}: no shapes in the file{}",
        path.display(),
        if without > 0 {
            format!(" ({without} features without a geometry)")
        } else {
            String::new()
        }
    );
    if a.exclude_buffer == 0.0
        && shapes
            .iter()
            .all(|g| matches!(g, geo::Geometry::Point(_) | geo::Geometry::MultiPoint(_)))
    {
        anyhow::bail!(
            "--exclude {}: holds points only; give --exclude-buffer METRES (how close to them no site may go)",
            path.display()
        );
    }
    let shapes = shapes
        .into_iter()
        .map(|g| {
            g.map_coords(|c| {
                let (x, y) = ds.projection.forward(c.x, c.y);
                geo::Coord { x, y }
            })
        })
        .collect();
    Ok(Some(carecircle::siting::propose::Excluded {
        shapes,
        buffer_m: a.exclude_buffer,
        label: format!("--exclude {}", path.display()),
    }))
}

pub(super) fn propose(a: ProposeArgs) -> anyhow::Result<()> {
    use carecircle::siting::propose::{self as pr, ProposeModel, ProposeOptions};
    let sc = a.scenario.scenario()?;
    let kind = FacilityKind::parse(&a.kind).with_context(|| {
        format!(
            "--kind '{}': expected one of day_care, street_station, township_institution, nursery",
            a.kind
        )
    })?;
    let model = ProposeModel::parse(&a.model).with_context(|| {
        format!(
            "--model '{}': expected mclp, lscp, pmedian, threshold, sized or capacitated",
            a.model
        )
    })?;
    let modules: Vec<f64> = a
        .modules
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--modules '{}': expected numbers like 80,150", a.modules))?;
    check_time_limit(a.time_limit)?;
    if let Some(r) = a.forbidden_radius {
        in_range(
            "--forbidden-radius",
            r,
            0.0,
            100_000.0,
            "metres from an existing facility of the kind",
        )?;
    }
    match (model, a.share) {
        (ProposeModel::Threshold, None) => {
            anyhow::bail!("--model threshold needs --share (0.9 = 90 % of demand within reach)")
        }
        (ProposeModel::Threshold, Some(s)) => anyhow::ensure!(
            s.is_finite() && s > 0.0 && s <= 1.0,
            "--share {s}: must be more than 0 and at most 1 (0.9 = 90 % of demand within reach)"
        ),
        (_, Some(_)) => anyhow::bail!("--share applies to --model threshold only"),
        _ => {}
    }
    anyhow::ensure!(
        model == ProposeModel::Sized
            || (a.budget.is_none() && a.module_costs.is_none() && a.uptake == 1.0),
        "--budget, --module-costs and --uptake apply to --model sized only"
    );
    if model == ProposeModel::Sized {
        anyhow::ensure!(
            a.budget.is_some(),
            "--model sized needs --budget (what the new sites may cost together, in the unit of --module-costs; default cost 1 per site)"
        );
    }
    let ds = load(&a.dataset)?;
    let reports = check_proposal_outputs(&a, &ds)?;
    let given = match &a.candidates {
        Some(p) => {
            let layer =
                carecircle::io::load::load_candidate_layer(p, a.candidates_crs.as_deref(), kind)?;
            Some(pr::candidates_from(&ds, &layer, p)?)
        }
        None => None,
    };
    let opts = ProposeOptions {
        kind,
        model,
        p: a.p,
        exact: a.exact,
        time_limit: a.time_limit,
        quotas: a.quota,
        include_planned: sc.include_planned,
        year: sc.year,
        spacing_m: a.spacing,
        radius_m: a.radius,
        modules,
        share: a.share,
        excluded: excluded_of(&a, &ds)?,
        forbidden_radius_m: a.forbidden_radius,
        module_costs: match &a.module_costs {
            Some(c) => c
                .split(',')
                .map(|s| s.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .with_context(|| format!("--module-costs '{c}': expected numbers like 1,1.6"))?,
            None => Vec::new(),
        },
        budget: a.budget,
        uptake: a.uptake,
    };
    let bar = BarProgress::new();
    let out = a.scenario.with_access(&sc, &ds, |access| {
        pr::propose(&ds, sc.rules(), &opts, given, access, &bar)
    })?;
    bar.finish();
    let out = out.context("proposal")?;
    // An output written to standard output (`-`) owns it: the summary goes to stderr.
    let piped = [&a.out, &a.json]
        .iter()
        .any(|p| p.as_deref() == Some(Path::new("-")));
    let text = out.proposals.to_text(a.scenario.english());
    if piped {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    if let Some(p) = &a.out {
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            carecircle::io::write::write_atomic(p, out.proposals.to_csv().as_bytes())?;
        } else {
            // GeoJSON, or a GeoPackage for a .gpkg name.
            carecircle::io::geojson::write_collection_value(p, &out.proposals.to_geojson(), true)?;
        }
        eprintln!("proposals: {}", p.display());
    }
    if let Some(p) = &a.json {
        carecircle::io::write::write_atomic(p, &serde_json::to_vec_pretty(&out.proposals)?)?;
        eprintln!("JSON: {}", p.display());
    }
    if let Some(p) = &a.xlsx {
        let bytes = carecircle::report::xlsx::workbook(
            &out.after,
            Some(&out.proposals),
            a.scenario.english(),
        )?;
        carecircle::io::write::write_atomic(p, &bytes)?;
        eprintln!("Excel: {}", p.display());
    }
    if let Some([b, af]) = &reports {
        // Before and after on one city: every uncovered point, as before.
        let how = carecircle::report::UncoveredExport::all_points();
        carecircle::report::write_json(&out.before, &ds, b, &how)?;
        carecircle::report::write_json(&out.after, &ds, af, &how)?;
        println!("reports: {} {}", b.display(), af.display());
    }
    if let Some(p) = &a.map {
        proposal_map(&a, &ds, kind, &out, p)?;
    }
    Ok(())
}

/// The report files `--reports STEM` names, and every output checked before work starts.
fn check_proposal_outputs(a: &ProposeArgs, ds: &Dataset) -> anyhow::Result<Option<[PathBuf; 2]>> {
    let reports = a.reports.as_ref().map(|p| {
        let stem = p.with_extension("");
        [
            PathBuf::from(format!("{}-before.json", stem.display())),
            PathBuf::from(format!("{}-after.json", stem.display())),
        ]
    });
    {
        use carecircle::io::write::OutputFormat as F;
        let mut outs: Vec<(&Path, F)> = Vec::new();
        if let Some(p) = &a.out {
            let csv = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            outs.push((p, if csv { F::Csv } else { F::GeoJson }));
        }
        outs.extend(a.json.as_deref().map(|p| (p, F::Json)));
        outs.extend(reports.iter().flatten().map(|p| (p.as_path(), F::Json)));
        outs.extend(a.map.as_deref().map(|p| (p, map_format(p))));
        outs.extend(a.xlsx.as_deref().map(|p| (p, F::Xlsx)));
        let mut extra: Vec<&Path> = rules_file(&a.scenario.rules).into_iter().collect();
        extra.extend(a.candidates.as_deref());
        extra.extend(a.exclude.as_deref());
        check_outputs(ds, &extra, &outs)?;
    }
    Ok(reports)
}

/// The presentation map of the coverage after the proposals, the sites ranked on it.
fn proposal_map(
    a: &ProposeArgs,
    ds: &Dataset,
    kind: FacilityKind,
    out: &carecircle::siting::propose::Outcome,
    p: &Path,
) -> anyhow::Result<()> {
    use carecircle::report::map::{write_map, MapSpec, ProposalMark};
    let en = a.scenario.english();
    let kind_name = if en { kind.en() } else { kind.zh() };
    let mut spec = MapSpec::new(
        1600,
        1100,
        if en {
            format!("{} — proposed {kind_name} sites", ds.name)
        } else {
            format!("{} — 新增{kind_name}选址建议", ds.name)
        },
    );
    spec.english = en;
    // Colour by the kind's reach rule if the plan has one, else by its first rule.
    let of_kind = |r: &&carecircle::coverage::RuleResult| r.kinds.contains(&kind.key());
    spec.rule = out
        .after
        .rules
        .iter()
        .filter(of_kind)
        .find(|r| r.test == "population_within")
        .or_else(|| out.after.rules.iter().find(of_kind))
        .map(|r| r.id.clone());
    spec.subtitle = proposal_subtitle(&out.proposals, en);
    spec.proposals = out
        .proposals
        .proposals
        .iter()
        .map(|q| ProposalMark {
            x: q.x,
            y: q.y,
            rank: q.rank,
            accepted: true,
        })
        .collect();
    write_map(ds, Some(&out.after), &spec, p)?;
    println!("map: {}", p.display());
    Ok(())
}

pub(super) fn proposal_subtitle(p: &carecircle::siting::propose::Proposals, en: bool) -> String {
    let gap = p
        .gap
        .map(|g| format!(" · gap {:.3}%", g * 100.0))
        .unwrap_or_default();
    let (sites, model) = if en {
        ("new sites", "model")
    } else {
        ("处新增", "模型")
    };
    format!(
        "{} {sites} · {model} {} · {}{gap}",
        p.proposals.len(),
        format!("{:?}", p.model).to_lowercase(),
        carecircle::report::map::mode_label(&p.mode, en)
    )
}
