//! The siting heuristics on the small reference instances (copied from ../shared/bench,
//! solved exactly by spopt/HiGHS): the heuristic must match the proven optimum here; the
//! city-size instances run in `cargo bench --bench siting`.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

use carecircle::siting::{read_instance, Model};

fn instance(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bench")
        .join(name)
}

fn reference(name: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(instance(name).join("reference.json")).unwrap(),
    )
    .unwrap();
    v["objective"].as_f64().unwrap()
}

#[test]
fn tiny_instances_reach_the_proven_optimum() {
    for name in ["tiny_mclp_p4", "tiny_lscp", "tiny_pmedian_p4"] {
        let pb = read_instance(&instance(name)).unwrap();
        let s = pb.solve_heuristic().unwrap();
        let want = reference(name);
        assert!(
            (s.objective - want).abs() <= 1e-6 * want,
            "{name}: {} vs optimum {want}",
            s.objective
        );
        // The objective is recomputed from the selection, not trusted from the solver.
        assert!((pb.objective(&s.selected) - s.objective).abs() <= 1e-6 * want);
    }
}

#[test]
fn exact_milp_proves_the_reference_optima() {
    for name in ["tiny_mclp_p4", "tiny_lscp", "tiny_pmedian_p4"] {
        let pb = read_instance(&instance(name)).unwrap();
        let warm = pb.solve_heuristic().unwrap();
        let ex = carecircle::siting::exact::solve_exact(&pb, 30.0, Some(&warm)).unwrap();
        let want = reference(name);
        assert!(
            (ex.objective - want).abs() <= 1e-6 * want,
            "{name}: {} vs {want}",
            ex.objective
        );
        assert_eq!(ex.status, "Optimal", "{name}");
        assert!(ex.gap <= 1e-6, "{name}: gap {}", ex.gap);
        assert!(
            (ex.bound - want).abs() <= 1e-6 * want,
            "{name}: bound {}",
            ex.bound
        );
    }
    // A cold start (no heuristic) proves the same.
    let pb = read_instance(&instance("tiny_mclp_p4")).unwrap();
    let ex = carecircle::siting::exact::solve_exact(&pb, 30.0, None).unwrap();
    assert_eq!(ex.objective, 252.0);
}

#[test]
fn coverage_is_inclusive_at_exactly_the_radius() {
    // tiny_mclp_p4 has three pairs at exactly 250.000 m: the optimum is 252 with `<=`.
    let pb = read_instance(&instance("tiny_mclp_p4")).unwrap();
    assert_eq!(pb.model, Model::Mclp);
    let s = pb.solve_heuristic().unwrap();
    assert_eq!(s.objective, 252.0);
    // Plain greedy alone gives the reference's greedy figure (248): same coverage sets.
    assert_eq!(s.greedy_objective, 248.0);
}

#[test]
fn bad_instance_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("problem.json"),
        r#"{"model": "mclp", "radius_m": 100, "p": 1}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("demand.csv"), "id,x,y,weight\nd0,0,0,abc\n").unwrap();
    std::fs::write(dir.path().join("candidates.csv"), "id,x,y\nc0,0,0\n").unwrap();
    let e = read_instance(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("demand.csv") && e.contains("row 2") && e.contains("weight"),
        "{e}"
    );
    std::fs::write(dir.path().join("problem.json"), r#"{"model": "maxcover"}"#).unwrap();
    let e = read_instance(dir.path()).unwrap_err().to_string();
    assert!(e.contains("problem.json") && e.contains("maxcover"), "{e}");
}

/// Quotas by hand: demand at x = 0, 100, …, 900 (weight 1, the last 5), candidates at
/// x = 0, 300, 600, 900, radius 150. Unconstrained p = 2 picks c1 + c3 (3 + 6 = 9); a
/// quota "c0 must open" forces c0 + c3 (2 + 6 = 8); "two of c0, c1, c2" gives c1 + c2 (6).
#[test]
fn quotas_are_constraints() {
    use carecircle::siting::{exact::solve_exact, Problem, Quota};
    let pb = |quotas: Vec<Quota>| Problem {
        model: Model::Mclp,
        demand: (0..10).map(|i| [i as f64 * 100.0, 0.0]).collect(),
        weight: (0..10).map(|i| if i == 9 { 5.0 } else { 1.0 }).collect(),
        demand_ids: Vec::new(),
        candidates: (0..4).map(|i| [i as f64 * 300.0, 0.0]).collect(),
        candidate_ids: (0..4).map(|i| format!("c{i}")).collect(),
        existing: Vec::new(),
        radius: Some(150.0),
        p: Some(2),
        share: None,
        cover: None,
        quotas,
    };
    let q = |sites: Vec<usize>, at_least: u32| Quota {
        sites,
        at_least,
        label: "test".into(),
    };
    // (Without quotas c1 + c3 and c2 + c3 tie at 9: only the objective is compared there.)
    for (quotas, want, sites) in [
        (vec![], 9.0, vec![]),
        (vec![q(vec![0], 1)], 8.0, vec![0, 3]),
        (vec![q(vec![0, 1, 2], 2)], 6.0, vec![1, 2]),
    ] {
        let p = pb(quotas);
        let h = p.solve_heuristic().unwrap();
        let ex = solve_exact(&p, 10.0, None).unwrap();
        assert_eq!((h.objective, ex.objective), (want, want));
        for mut sel in [h.selected, ex.selected] {
            sel.sort();
            assert!(sites.is_empty() || sel == sites, "{sel:?} vs {sites:?}");
        }
    }
    // More quota sites than p: refused with the p to use.
    let mut p = pb(vec![q(vec![0, 1, 2], 3)]);
    let err = p.solve_heuristic().unwrap_err().to_string();
    assert!(err.contains("raise p to 3"), "{err}");
    // A quota needing more sites than lie in it.
    p.p = Some(4);
    p.quotas = vec![q(vec![0], 2)];
    let err = p.solve_heuristic().unwrap_err().to_string();
    assert!(err.contains("only 1 candidate"), "{err}");
}

use proptest::prelude::*;

/// A random clustered problem on a 2 km square (two clusters so covers overlap).
/// Every p-subset of the sites 0..m (m < 32), for brute force.
fn p_subsets(m: usize, p: usize) -> impl Iterator<Item = Vec<usize>> {
    (0u32..(1 << m))
        .filter(move |mask| mask.count_ones() as usize == p)
        .map(move |mask| (0..m).filter(|j| mask & (1 << j) != 0).collect())
}

use carecircle::testkit::xorshift;

fn random_problem(
    model: Model,
    demand: &[(f64, f64, u8)],
    candidates: &[(f64, f64)],
    radius: f64,
    p: usize,
    quota: Option<(Vec<usize>, u32)>,
) -> carecircle::siting::Problem {
    let place = |x: f64, y: f64, k: usize| {
        let c = if k.is_multiple_of(2) { 0.0 } else { 1200.0 };
        [c + x * 800.0, c + y * 800.0]
    };
    carecircle::siting::Problem {
        model,
        demand: demand
            .iter()
            .enumerate()
            .map(|(k, (x, y, _))| place(*x, *y, k))
            .collect(),
        weight: demand.iter().map(|d| d.2 as f64).collect(),
        demand_ids: (0..demand.len()).map(|i| format!("d{i}")).collect(),
        candidates: candidates
            .iter()
            .enumerate()
            .map(|(k, (x, y))| place(*x, *y, k))
            .collect(),
        candidate_ids: (0..candidates.len()).map(|j| format!("c{j}")).collect(),
        existing: Vec::new(),
        radius: Some(radius),
        p: Some(p),
        share: None,
        cover: None,
        quotas: quota
            .map(|(sites, at_least)| {
                vec![carecircle::siting::Quota {
                    sites,
                    at_least,
                    label: "random".into(),
                }]
            })
            .unwrap_or_default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The LSCP heuristic (greedy, local search, Lagrangian heuristic with reductions)
    /// always returns a cover of every coverable point that keeps the quota, never fewer
    /// sites than the proven optimum; MCLP's heuristic objective is what its sites cover.
    #[test]
    fn heuristics_give_feasible_answers_no_better_than_the_optimum(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..20), 5..60),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 3..25),
        radius in 150.0f64..600.0,
        quota in prop::option::of((prop::collection::vec(0usize..3, 1..3), 1u32..2)),
    ) {
        use carecircle::siting::exact::solve_exact;
        let quota = quota.map(|(mut s, k)| { s.sort(); s.dedup(); (s, k) });
        let pb = random_problem(Model::Lscp, &demand, &candidates, radius, 1, quota.clone());
        let h = pb.solve_heuristic().unwrap();
        for d in &pb.demand {
            let reach = |c: &[f64; 2]| ((c[0] - d[0]).powi(2) + (c[1] - d[1]).powi(2)).sqrt() <= radius;
            if pb.candidates.iter().any(reach) {
                prop_assert!(h.selected.iter().any(|j| reach(&pb.candidates[*j])), "uncovered {d:?}");
            }
        }
        if let Some((sites, k)) = &quota {
            prop_assert!(sites.iter().filter(|s| h.selected.contains(s)).count() >= *k as usize);
        }
        let ex = solve_exact(&pb, 10.0, None).unwrap();
        prop_assert_eq!(ex.status.as_str(), "Optimal");
        prop_assert!(h.objective >= ex.objective, "{} < {}", h.objective, ex.objective);

        let p = (candidates.len() / 3).max(1);
        let pb = random_problem(Model::Mclp, &demand, &candidates, radius, p, None);
        let h = pb.solve_heuristic().unwrap();
        prop_assert_eq!(h.selected.len(), p);
        prop_assert!((pb.objective(&h.selected) - h.objective).abs() < 1e-9);
        let ex = solve_exact(&pb, 10.0, None).unwrap();
        prop_assert!(h.objective <= ex.objective + 1e-9, "{} > {}", h.objective, ex.objective);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The exact MCLP (Lagrangian branch-and-bound, HiGHS behind it) against brute force
    /// over every p-subset of up to 14 candidates, with and without existing sites.
    #[test]
    fn exact_mclp_matches_brute_force(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 30..120),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 8..15),
        radius in 200.0f64..450.0,
        p in 2usize..6,
        existing in prop::option::of((0.0f64..1.0, 0.0f64..1.0)),
    ) {
        let p = p.min(candidates.len());
        let mut pb = random_problem(Model::Mclp, &demand, &candidates, radius, p, None);
        if let Some((x, y)) = existing {
            pb.existing.push([x * 800.0, y * 800.0]);
        }
        let m = pb.candidates.len();
        let best = p_subsets(m, p)
            .map(|sel| pb.objective(&sel))
            .fold(f64::NEG_INFINITY, f64::max);
        let ex = carecircle::siting::exact::solve_exact(&pb, 10.0, None).unwrap();
        prop_assert_eq!(ex.status.as_str(), "Optimal");
        prop_assert!((ex.objective - best).abs() < 1e-6, "{} vs brute force {} ({})", ex.objective, best, ex.method);
        prop_assert!((ex.bound - best).abs() < 1e-6);
        // The tree alone from the worst start (the first p sites), so it must branch and
        // fix rather than confirm a heuristic optimum.
        use carecircle::siting::bnb;
        let (rows, constant) = tree_rows(&pb);
        let far = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let start: Vec<usize> = (0..p).collect();
        for integral in [true, false] {
            let out = bnb::solve(&rows, p, &start, None, bnb::Work::UNLIMITED, &|_| std::time::Instant::now() >= far, integral);
            prop_assert!(out.proven);
            prop_assert!((out.objective + constant - best).abs() < 1e-6, "tree {} vs brute force {}", out.objective + constant, best);
            prop_assert!((pb.objective(&out.selected) - best).abs() < 1e-6);
        }
    }
}

/// The Lagrangian tree's rows for an MCLP, one per demand point some candidate reaches and
/// no existing site covers, and the weight the existing sites already cover.
fn tree_rows(pb: &carecircle::siting::Problem) -> (carecircle::siting::bnb::Rows, f64) {
    let r = pb.radius.unwrap();
    let base = pb.covered_by_existing(r);
    let mut reach: Vec<Vec<usize>> = vec![Vec::new(); pb.demand.len()];
    for (j, s) in pb.coverage_sets(r).iter().enumerate() {
        for i in s {
            reach[*i as usize].push(j);
        }
    }
    let constant = (0..pb.demand.len())
        .filter(|i| base[*i])
        .map(|i| pb.weight[i])
        .sum();
    let rows = (0..pb.demand.len())
        .filter(|i| !base[*i] && !reach[*i].is_empty())
        .map(|i| (pb.weight[i], reach[i].clone()))
        .collect();
    (
        carecircle::siting::bnb::Rows::new(rows, pb.candidates.len()),
        constant,
    )
}

/// Cancels the job once `after` has passed since it was made.
struct CancelAfter {
    t0: std::time::Instant,
    after: std::time::Duration,
    advanced: std::sync::atomic::AtomicU64,
}

impl carecircle::progress::Progress for CancelAfter {
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _done: u64) {
        self.advanced
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn is_cancelled(&self) -> bool {
        self.t0.elapsed() >= self.after
    }
}

/// 20,000 uniform demand points, 1,500 candidates on a 20 km square: an MCLP no solver
/// settles in the first few hundred milliseconds.
fn hard_mclp(quota: bool) -> carecircle::siting::Problem {
    let mut rnd = xorshift(0x2545_F491_4F6C_DD1D);
    let demand: Vec<[f64; 2]> = (0..20_000)
        .map(|_| [rnd() * 20_000.0, rnd() * 20_000.0])
        .collect();
    let weight: Vec<f64> = (0..20_000).map(|_| (1.0 + rnd() * 99.0).round()).collect();
    let candidates: Vec<[f64; 2]> = (0..1_500)
        .map(|_| [rnd() * 20_000.0, rnd() * 20_000.0])
        .collect();
    carecircle::siting::Problem {
        model: Model::Mclp,
        demand_ids: (0..demand.len()).map(|i| format!("d{i}")).collect(),
        demand,
        weight,
        candidate_ids: (0..candidates.len()).map(|j| format!("c{j}")).collect(),
        candidates,
        existing: Vec::new(),
        radius: Some(900.0),
        p: Some(60),
        share: None,
        cover: None,
        quotas: if quota {
            vec![carecircle::siting::Quota {
                sites: (0..40).collect(),
                at_least: 1,
                label: "one of the first forty".into(),
            }]
        } else {
            Vec::new()
        },
    }
}

#[test]
fn a_cancelled_exact_solve_stops_soon_with_cancelled() {
    // Without quotas the Lagrangian tree runs first; with one, HiGHS alone. Cancelled at
    // 1.5 s, HiGHS is inside its root LP, where it polls no callback (it went on for 29 s
    // there until the solve was made abandonable).
    for (quota, after) in [(false, 300), (true, 300), (true, 1500)] {
        let pb = hard_mclp(quota);
        let warm = pb.solve_heuristic().unwrap();
        let progress = CancelAfter {
            t0: std::time::Instant::now(),
            after: std::time::Duration::from_millis(after),
            advanced: Default::default(),
        };
        let r = carecircle::siting::exact::solve_exact_with(&pb, 600.0, Some(&warm), &progress);
        let secs = progress.t0.elapsed().as_secs_f64();
        assert!(
            matches!(r, Err(carecircle::Error::Cancelled)),
            "quota {quota}: expected Cancelled, got {:?}",
            r.map(|e| e.status)
        );
        // Building the model is not interruptible; solving is.
        assert!(
            secs < 5.0,
            "quota {quota}: stopped {secs:.2} s after the start"
        );
        assert!(
            progress.advanced.load(std::sync::atomic::Ordering::Relaxed) > 0,
            "quota {quota}: no progress reported"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// p-median on distances given from outside (walking distances in the app; here a grid
    /// city's Manhattan metric) with a search cutoff: the exact solve equals brute force over
    /// every p-subset, computed here independently, and the heuristic is feasible and no
    /// better. With a cutoff beyond every distance and Euclidean metres it agrees with the
    /// straight-line model.
    #[test]
    fn pmedian_on_given_distances_matches_brute_force(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 10..60),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 5..12),
        cutoff in 300.0f64..1500.0,
        p in 1usize..4,
        existing in prop::option::of((0.0f64..1.0, 0.0f64..1.0)),
    ) {
        use carecircle::siting::exact::solve_exact;
        let p = p.min(candidates.len());
        let mut pb = random_problem(Model::Pmedian, &demand, &candidates, 500.0, p, None);
        if let Some((x, y)) = existing {
            pb.existing.push([x * 800.0, y * 800.0]);
        }
        let cover_with = |pb: &carecircle::siting::Problem, metric: &dyn Fn(&[f64; 2], &[f64; 2]) -> f64, cutoff: f64| {
            let mut sets = Vec::new();
            let mut metres = Vec::new();
            for c in &pb.candidates {
                let (s, m): (Vec<u32>, Vec<f32>) = pb.demand.iter().enumerate()
                    .map(|(i, d)| (i as u32, metric(c, d)))
                    .filter(|(_, d)| *d <= cutoff)
                    .map(|(i, d)| (i, d as f32))
                    .unzip();
                sets.push(s);
                metres.push(m);
            }
            let existing_m: Vec<f64> = pb.demand.iter()
                .map(|d| pb.existing.iter().map(|e| metric(e, d)).filter(|m| *m <= cutoff).fold(f64::INFINITY, f64::min))
                .collect();
            carecircle::siting::Cover { sets, by_existing: vec![false; pb.demand.len()], metres, existing_m, cutoff }
        };
        let manhattan = |a: &[f64; 2], b: &[f64; 2]| (a[0] - b[0]).abs() + (a[1] - b[1]).abs();
        let euclid = |a: &[f64; 2], b: &[f64; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let mut walk = pb.clone();
        walk.cover = Some(cover_with(&pb, &manhattan, cutoff));
        let m = pb.candidates.len();
        let mut best = f64::INFINITY;
        for sel in p_subsets(m, p) {
            let total: f64 = pb.demand.iter().zip(&pb.weight).map(|(d, w)| {
                let near = sel.iter()
                    .map(|j| manhattan(&pb.candidates[*j], d))
                    .chain(pb.existing.iter().map(|e| manhattan(e, d)))
                    .fold(cutoff, f64::min);
                w * near
            }).sum();
            best = best.min(total);
        }
        let tol = 1e-6 * best.max(1.0);
        let ex = solve_exact(&walk, 10.0, None).unwrap();
        prop_assert_eq!(ex.status.as_str(), "Optimal");
        prop_assert!((ex.objective - best).abs() < tol, "exact {} vs brute force {}", ex.objective, best);
        let h = walk.solve_heuristic().unwrap();
        prop_assert_eq!(h.selected.len(), p);
        prop_assert!(h.objective >= best - tol, "heuristic {} beats the optimum {}", h.objective, best);
        prop_assert!((walk.objective(&h.selected) - h.objective).abs() < tol);

        let mut straight = pb.clone();
        straight.cover = Some(cover_with(&pb, &euclid, 1e6));
        let a = solve_exact(&straight, 10.0, None).unwrap();
        let b = solve_exact(&pb, 10.0, None).unwrap();
        prop_assert!((a.objective - b.objective).abs() < 1e-6 * b.objective.max(1.0), "{} vs {}", a.objective, b.objective);
    }
}

#[test]
fn the_lagrangian_tree_spends_work_not_seconds() {
    // A problem the tree cannot finish within its work share: where it stops must not
    // depend on how fast the machine is, or the answer would change with the load.
    use carecircle::siting::bnb;
    let pb = hard_mclp(false);
    let (rows, _) = tree_rows(&pb);
    let start = pb.solve_heuristic().unwrap().selected;
    let work = bnb::Work {
        root: 20_000_000,
        tree: 20_000_000,
    };
    let p = pb.p.unwrap();
    // A clock far beyond either run's need (≈ 0.1 s and 2 s in debug), so that a tree that
    // ignored its work share would stop here and fail the assertions, not hang the suite.
    let t0 = std::time::Instant::now();
    let late = || t0.elapsed() > std::time::Duration::from_secs(60);
    let fast = bnb::solve(&rows, p, &start, None, work, &|_| late(), true);
    // The same run on a "machine" slowed down at every poll.
    let slow = bnb::solve(
        &rows,
        p,
        &start,
        None,
        work,
        &|_| {
            std::thread::sleep(std::time::Duration::from_micros(300));
            late()
        },
        true,
    );
    assert!(
        !fast.proven,
        "the share should not suffice to prove this one"
    );
    assert!(fast.nodes > 1, "the tree should get past the root");
    assert_eq!(fast.nodes, slow.nodes);
    assert_eq!(fast.selected, slow.selected);
    assert_eq!(fast.bound, slow.bound);
    assert_eq!(fast.work, slow.work);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The p-median relaxation on its own, from the worst start (the first p sites) and with
    /// any work budget, checked against every p-subset: its bound never exceeds the optimum,
    /// its incumbent is what it says, every subset strictly better than the incumbent keeps
    /// its fixings, and "proven" means the optimum.
    #[test]
    fn pmedian_relaxation_bounds_and_fixings_hold_against_brute_force(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 5..40),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 4..11),
        p in 1usize..4,
        stay in prop::option::of(200.0f64..900.0),
        manhattan in any::<bool>(),
        steps in 1u64..300,
    ) {
        use carecircle::siting::pmedian_lr::{root, Fix, Pairs};
        let p = p.min(candidates.len());
        let m = candidates.len();
        let at = |x: f64, y: f64| [x * 800.0, y * 800.0];
        let metric = |a: [f64; 2], b: [f64; 2]| {
            if manhattan {
                (a[0] - b[0]).abs() + (a[1] - b[1]).abs()
            } else {
                ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
            }
        };
        let by_site: Vec<Vec<(u32, f64)>> = candidates
            .iter()
            .map(|(cx, cy)| {
                demand
                    .iter()
                    .enumerate()
                    .map(|(i, (x, y, w))| (i as u32, *w as f64 * metric(at(*cx, *cy), at(*x, *y))))
                    .collect()
            })
            .collect();
        let pairs = Pairs {
            by_site,
            stay: demand.iter().map(|(_, _, w)| stay.map(|s| *w as f64 * s)).collect(),
        };
        let subsets: Vec<(f64, Vec<usize>)> =
            p_subsets(m, p).map(|sel| (pairs.cost(&sel), sel)).collect();
        let opt = subsets.iter().map(|(c, _)| *c).fold(f64::INFINITY, f64::min);
        let tol = 1e-9 * opt.max(1.0);
        let nnz = (m * demand.len() + demand.len()) as u64;
        let start: Vec<usize> = (0..p).collect();
        let r = root(&pairs, p, &start, 1e-9, nnz * 3 * steps, &|| false);
        prop_assert!(r.bound <= opt + tol, "bound {} above the optimum {}", r.bound, opt);
        prop_assert_eq!(r.selected.len(), p);
        prop_assert!((pairs.cost(&r.selected) - r.objective).abs() <= tol);
        prop_assert!(r.objective >= opt - tol);
        for (c, sel) in &subsets {
            if *c < r.objective - tol {
                for (j, f) in r.fix.iter().enumerate() {
                    match f {
                        Fix::Open => prop_assert!(sel.contains(&j), "{sel:?} ({c}) lacks fixed-open {j}"),
                        Fix::Closed => prop_assert!(!sel.contains(&j), "{sel:?} ({c}) has fixed-closed {j}"),
                        Fix::Free => {}
                    }
                }
            }
        }
        if r.proven {
            prop_assert!((r.objective - opt).abs() <= tol, "proven {} but the optimum is {}", r.objective, opt);
        }
    }
}

#[test]
fn pmedian_after_fixing_the_milp_still_finds_the_optimum() {
    // Seeded instances, many with an LP gap the relaxation cannot close: there the fixed
    // sites go to HiGHS, whose answer must still be brute force's optimum.
    use carecircle::siting::exact::solve_exact;
    let mut rnd = xorshift(0x9E37_79B9_7F4A_7C15);
    let mut handed_over = 0;
    for case in 0..150 {
        let n = 40 + (rnd() * 40.0) as usize;
        let m = 10 + (rnd() * 5.0) as usize;
        let p = 3 + (rnd() * 3.0) as usize;
        let demand: Vec<(f64, f64, u8)> = (0..n)
            .map(|_| (rnd(), rnd(), 1 + (rnd() * 49.0) as u8))
            .collect();
        let candidates: Vec<(f64, f64)> = (0..m).map(|_| (rnd(), rnd())).collect();
        let mut pb = random_problem(Model::Pmedian, &demand, &candidates, 500.0, p, None);
        if case % 3 == 0 {
            pb.existing.push([rnd() * 2000.0, rnd() * 2000.0]);
        }
        let best = p_subsets(m, p)
            .map(|sel| pb.objective(&sel))
            .fold(f64::INFINITY, f64::min);
        let ex = solve_exact(&pb, 10.0, None).unwrap();
        assert_eq!(ex.status, "Optimal", "case {case}");
        assert!(
            (ex.objective - best).abs() <= 1e-6 * best,
            "case {case}: {} vs brute force {best} ({})",
            ex.objective,
            ex.method
        );
        assert!(ex.bound <= best * (1.0 + 1e-9), "case {case}");
        if ex.method.contains("then HiGHS") {
            handed_over += 1;
        }
    }
    assert!(handed_over >= 5, "only {handed_over} cases reached HiGHS");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The MCLP tree stopped after its root (any work budget, from the worst start),
    /// checked against every p-subset: its bound is never below the optimum, its incumbent
    /// covers what it says, and every subset strictly better than the incumbent keeps the
    /// fixings it hands to HiGHS.
    #[test]
    fn mclp_tree_fixings_hold_against_brute_force(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 20..90),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 6..13),
        radius in 200.0f64..450.0,
        p in 2usize..5,
        steps in 1u64..400,
        integral in any::<bool>(),
    ) {
        use carecircle::siting::bnb::{self, Fix};
        let p = p.min(candidates.len() - 1);
        let pb = random_problem(Model::Mclp, &demand, &candidates, radius, p, None);
        let (rows, _) = tree_rows(&pb);
        let m = pb.candidates.len();
        let covered = |sel: &[usize]| {
            let mut open = vec![false; m];
            sel.iter().for_each(|j| open[*j] = true);
            rows.covered(&open)
        };
        let subsets: Vec<(f64, Vec<usize>)> = p_subsets(m, p).map(|s| (covered(&s), s)).collect();
        let opt = subsets.iter().map(|(c, _)| *c).fold(f64::NEG_INFINITY, f64::max);
        let nnz: u64 = rows.of.iter().map(|r| r.len() as u64).sum();
        let work = bnb::Work { root: (2 * nnz + m as u64) * steps, tree: 0 };
        let start: Vec<usize> = (0..p).collect();
        let out = bnb::solve(&rows, p, &start, None, work, &|_| false, integral);
        prop_assert!(out.bound >= opt - 1e-6, "bound {} below the optimum {}", out.bound, opt);
        prop_assert!((covered(&out.selected) - out.objective).abs() < 1e-6);
        for (c, sel) in &subsets {
            if *c > out.objective + 1e-6 {
                for (j, f) in out.fix.iter().enumerate() {
                    match f {
                        Fix::Open => prop_assert!(sel.contains(&j), "{sel:?} ({c}) lacks fixed-open {j}"),
                        Fix::Closed => prop_assert!(!sel.contains(&j), "{sel:?} ({c}) has fixed-closed {j}"),
                        Fix::Free => {}
                    }
                }
            }
        }
        if out.proven {
            prop_assert!((out.objective - opt).abs() < 1e-6);
        }
    }
}

#[test]
fn mclp_after_the_trees_fixings_the_milp_still_finds_the_optimum() {
    // Seeded instances whose tree stops after its root, so HiGHS takes over with the sites
    // the root fixed; its answer must still be brute force's optimum.
    use carecircle::progress::NoProgress;
    use carecircle::siting::{bnb::Work, exact::solve_exact_with_tree};
    let mut rnd = xorshift(0xD1B5_4A32_D192_ED03);
    let (mut handed_over, mut with_fixings) = (0, 0);
    for case in 0..120 {
        let n = 100 + (rnd() * 100.0) as usize;
        let m = 16 + (rnd() * 6.0) as usize;
        let p = 3 + (rnd() * 3.0) as usize;
        let demand: Vec<(f64, f64, u8)> = (0..n)
            .map(|_| (rnd(), rnd(), 1 + (rnd() * 49.0) as u8))
            .collect();
        let candidates: Vec<(f64, f64)> = (0..m).map(|_| (rnd(), rnd())).collect();
        let radius = 400.0 + rnd() * 300.0;
        let mut pb = random_problem(Model::Mclp, &demand, &candidates, radius, p, None);
        if case % 3 == 0 {
            pb.existing.push([rnd() * 2000.0, rnd() * 2000.0]);
        }
        let best = p_subsets(m, p)
            .map(|sel| pb.objective(&sel))
            .fold(f64::NEG_INFINITY, f64::max);
        let root = 200 + (rnd() * 20_000.0) as u64;
        let work = Work { root, tree: 0 };
        let ex = solve_exact_with_tree(&pb, 10.0, None, &NoProgress, Some(work)).unwrap();
        assert_eq!(ex.status, "Optimal", "case {case} ({})", ex.method);
        assert!(
            (ex.objective - best).abs() < 1e-6,
            "case {case}: {} vs brute force {best} ({})",
            ex.objective,
            ex.method
        );
        assert!(
            (ex.bound - best).abs() < 1e-6,
            "case {case}: bound {}",
            ex.bound
        );
        if ex.method.contains("then HiGHS") {
            handed_over += 1;
            if !ex.method.contains(" 0 of ") {
                with_fixings += 1;
            }
        }
    }
    assert!(
        handed_over >= 6 && with_fixings >= 4,
        "{handed_over} cases reached HiGHS, {with_fixings} with sites fixed"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The p-median heuristic ends at a swap-local optimum, checked by recomputing every
    /// single swap from the problem's own objective (the fast interchange prices them from
    /// nearest and second-nearest sites; this does not), with and without existing sites.
    #[test]
    fn pmedian_heuristic_leaves_no_improving_swap(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 5..60),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 3..16),
        p in 1usize..5,
        existing in prop::option::of((0.0f64..1.0, 0.0f64..1.0)),
    ) {
        let p = p.min(candidates.len());
        let mut pb = random_problem(Model::Pmedian, &demand, &candidates, 500.0, p, None);
        if let Some((x, y)) = existing {
            pb.existing.push([x * 2000.0, y * 2000.0]);
        }
        let s = pb.solve_heuristic().unwrap();
        let obj = pb.objective(&s.selected);
        prop_assert!((obj - s.objective).abs() <= 1e-9 * obj.max(1.0));
        prop_assert!(s.objective <= s.greedy_objective * (1.0 + 1e-12));
        for k in 0..p {
            for c in 0..pb.candidates.len() {
                if s.selected.contains(&c) {
                    continue;
                }
                let mut t = s.selected.clone();
                t[k] = c;
                let v = pb.objective(&t);
                prop_assert!(v >= obj - 1e-7 * obj.max(1.0), "swap {} -> {c}: {v} < {obj}", s.selected[k]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The MCLP heuristic ends at a swap-local optimum among the selections that keep the
    /// quota, checked by recomputing every single swap from the objective (the search
    /// prices them all in one sweep; this does not).
    #[test]
    fn mclp_heuristic_leaves_no_improving_swap(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 5..80),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 3..16),
        radius in 150.0f64..450.0,
        p in 1usize..5,
        quota in any::<bool>(),
        existing in prop::option::of((0.0f64..1.0, 0.0f64..1.0)),
    ) {
        let p = p.min(candidates.len());
        let m = candidates.len();
        let group: Vec<usize> = (0..m).filter(|j| j % 3 == 0).collect();
        let q = quota.then(|| (group.clone(), 1u32));
        let mut pb = random_problem(Model::Mclp, &demand, &candidates, radius, p, q);
        if let Some((x, y)) = existing {
            pb.existing.push([x * 800.0, y * 800.0]);
        }
        let s = pb.solve_heuristic().unwrap();
        let obj = pb.objective(&s.selected);
        prop_assert!((obj - s.objective).abs() < 1e-9);
        let keeps = |sel: &[usize]| !quota || sel.iter().any(|j| group.contains(j));
        prop_assert!(keeps(&s.selected));
        for k in 0..p {
            for c in (0..m).filter(|c| !s.selected.contains(c)) {
                let mut t = s.selected.clone();
                t[k] = c;
                if keeps(&t) {
                    prop_assert!(pb.objective(&t) <= obj + 1e-9, "swap {} -> {c} gains", s.selected[k]);
                }
            }
        }
    }
}

/// A generated city-sized instance: `n` demand points and `m` candidates scattered over
/// 20 × 20 km, weights 1–100.
fn big(
    model: Model,
    n: usize,
    m: usize,
    radius: f64,
    p: Option<usize>,
) -> carecircle::siting::Problem {
    let mut rnd = xorshift(0x5851_F42D_4C95_7F2D);
    let mut pt = || [rnd() * 20_000.0, rnd() * 20_000.0];
    let demand: Vec<[f64; 2]> = (0..n).map(|_| pt()).collect();
    let candidates: Vec<[f64; 2]> = (0..m).map(|_| pt()).collect();
    let mut w = xorshift(7);
    carecircle::siting::Problem {
        model,
        weight: (0..n).map(|_| 1.0 + (w() * 99.0).floor()).collect(),
        demand_ids: (0..n).map(|i| format!("d{i}")).collect(),
        candidate_ids: (0..m).map(|j| format!("c{j}")).collect(),
        demand,
        candidates,
        existing: Vec::new(),
        radius: Some(radius),
        p,
        share: None,
        cover: None,
        quotas: Vec::new(),
    }
}

/// Every heuristic keeps its time limit on an instance it cannot finish within it: the
/// answer comes back within limit + 10 % + 0.5 s, marked stopped, and still feasible (p
/// sites; a cover for the LSCP).
#[test]
fn heuristics_keep_their_time_limit() {
    use carecircle::siting::Deadline;
    let limit = 1.0;
    for pb in [
        big(Model::Pmedian, 20_000, 3_000, 1000.0, Some(60)),
        big(Model::Mclp, 20_000, 4_000, 1000.0, Some(400)),
        big(Model::Lscp, 30_000, 6_000, 400.0, None),
    ] {
        let t = std::time::Instant::now();
        let sol = pb.solve_heuristic_until(Deadline::after(limit)).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(
            secs <= limit * 1.1 + 0.5,
            "{:?} took {secs:.2} s with a {limit} s limit",
            pb.model
        );
        assert!(
            sol.stopped,
            "{:?}: the limit was not binding ({secs:.2} s)",
            pb.model
        );
        match pb.p {
            Some(p) => {
                assert_eq!(sol.selected.len(), p, "{:?}", pb.model);
                let mut s = sol.selected.clone();
                s.sort_unstable();
                s.dedup();
                assert_eq!(s.len(), p, "{:?}: a site chosen twice", pb.model);
            }
            None => {
                // Every demand point some candidate reaches is covered.
                let r = pb.radius.unwrap();
                let sets = pb.coverage_sets(r);
                let mut reach = vec![false; pb.demand.len()];
                let mut covered = vec![false; pb.demand.len()];
                for (j, s) in sets.iter().enumerate() {
                    for i in s {
                        reach[*i as usize] = true;
                        if sol.selected.contains(&j) {
                            covered[*i as usize] = true;
                        }
                    }
                }
                assert_eq!(reach, covered, "the stopped LSCP is not a cover");
            }
        }
        // The objective is the problem's own for the selection returned.
        assert!(
            (pb.objective(&sol.selected) - sol.objective).abs()
                <= 1e-6 * sol.objective.abs().max(1.0)
        );
    }
}

/// The exact p-median refuses a problem too large before the heuristic runs, not after.
#[test]
fn exact_size_is_checked_first() {
    let pb = big(Model::Pmedian, 20_000, 3_000, 1000.0, Some(60));
    let t = std::time::Instant::now();
    let e = carecircle::siting::exact::check_size(&pb).unwrap_err();
    assert!(t.elapsed().as_secs_f64() < 0.5);
    assert!(e.to_string().contains("assignment pairs"), "{e}");
}

/// The exact solvers keep the limit too: MCLP (tree, then HiGHS) and p-median (relaxation,
/// then HiGHS) on instances they cannot prove within it.
#[test]
fn exact_solvers_keep_their_time_limit() {
    use carecircle::siting::exact::solve_exact;
    let limit = 2.0;
    for pb in [
        big(Model::Mclp, 30_000, 2_000, 1000.0, Some(80)),
        big(Model::Pmedian, 2_000, 600, 1000.0, Some(40)),
    ] {
        let t = std::time::Instant::now();
        let warm = pb
            .solve_heuristic_until(carecircle::siting::Deadline::after(limit * 0.25))
            .unwrap();
        let left = limit - t.elapsed().as_secs_f64();
        let ex = solve_exact(&pb, left.max(0.1), Some(&warm)).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(
            secs <= limit * 1.1 + 0.5,
            "{:?} exact took {secs:.2} s with a {limit} s limit ({})",
            pb.model,
            ex.status
        );
    }
}

// ---------------------------------------------------------------------------------------
// Threshold covering: the fewest sites so that a share of demand is within reach.

/// By hand on the line (weights 1 × 9 and 5 at x = 900; candidates c0..c3 cover 2, 3, 3
/// and 6 of the 14): 40 % (5.6) needs c3 alone, 60 % (8.4) two sites, 80 % (11.2) three,
/// 95 % (13.3) all four.
#[test]
fn threshold_covering_by_hand() {
    use carecircle::siting::exact::solve_exact;
    let pb = |share: f64| carecircle::siting::Problem {
        model: Model::Threshold,
        demand: (0..10).map(|i| [i as f64 * 100.0, 0.0]).collect(),
        weight: (0..10).map(|i| if i == 9 { 5.0 } else { 1.0 }).collect(),
        demand_ids: Vec::new(),
        candidates: (0..4).map(|i| [i as f64 * 300.0, 0.0]).collect(),
        candidate_ids: (0..4).map(|i| format!("c{i}")).collect(),
        existing: Vec::new(),
        radius: Some(150.0),
        p: None,
        share: Some(share),
        cover: None,
        quotas: Vec::new(),
    };
    for (share, want) in [(0.4, 1.0), (0.6, 2.0), (0.8, 3.0), (0.95, 4.0)] {
        let p = pb(share);
        let h = p.solve_heuristic().unwrap();
        let ex = solve_exact(&p, 10.0, Some(&h)).unwrap();
        assert_eq!(ex.objective, want, "share {share}: {:?}", ex.selected);
        assert_eq!(ex.status, "Optimal");
        assert_eq!(
            h.objective, want,
            "share {share}: heuristic {:?}",
            h.selected
        );
    }
    assert_eq!(pb(0.4).solve_heuristic().unwrap().selected, vec![3]);
    // An existing site at x = 900 already reaches 6 of 14: 40 % needs nothing new.
    let mut p = pb(0.4);
    p.existing.push([900.0, 0.0]);
    assert!(p.solve_heuristic().unwrap().selected.is_empty());
    let ex = solve_exact(&p, 10.0, None).unwrap();
    assert_eq!((ex.objective, ex.bound), (0.0, 0.0));
    // A point no candidate reaches: at most 14 of 15 (93.33 %) is coverable.
    let mut p = pb(0.95);
    p.demand.push([5000.0, 0.0]);
    p.weight.push(1.0);
    let e = p.solve_heuristic().unwrap_err().to_string();
    assert!(
        e.contains("--share 0.95: unreachable") && e.contains("93.33 %"),
        "{e}"
    );
    for bad in [0.0, 1.5, f64::NAN] {
        let e = pb(bad).solve_heuristic().unwrap_err().to_string();
        assert!(e.contains("must be more than 0 and at most 1"), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Threshold covering against brute force over every subset of up to 12 candidates:
    /// the exact answer is the fewest sites that meet the share, proven; the heuristic's
    /// answer meets it too and is never below the optimum.
    #[test]
    fn threshold_matches_brute_force(
        demand in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u8..50), 20..90),
        candidates in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 4..13),
        radius in 200.0f64..500.0,
        share in 0.2f64..1.0,
        existing in prop::option::of((0.0f64..1.0, 0.0f64..1.0)),
    ) {
        let mut pb = random_problem(Model::Threshold, &demand, &candidates, radius, 1, None);
        pb.p = None;
        pb.share = Some(share);
        if let Some((x, y)) = existing {
            pb.existing.push([x * 800.0, y * 800.0]);
        }
        let total: f64 = pb.weight.iter().sum();
        let covered = |sel: &[usize]| -> f64 {
            let reach = |a: &[f64; 2], d: &[f64; 2]| ((a[0] - d[0]).powi(2) + (a[1] - d[1]).powi(2)).sqrt() <= radius;
            pb.demand.iter().zip(&pb.weight)
                .filter(|(d, _)| pb.existing.iter().any(|e| reach(e, d)) || sel.iter().any(|j| reach(&pb.candidates[*j], d)))
                .map(|(_, w)| *w).sum()
        };
        let m = pb.candidates.len();
        let all: Vec<usize> = (0..m).collect();
        let target = share * total;
        if covered(&all) + 1e-9 * total < target {
            prop_assert!(pb.solve_heuristic().is_err());
            return Ok(());
        }
        let best = (0..=m)
            .find(|k| p_subsets(m, *k).any(|s| covered(&s) + 1e-9 * total >= target))
            .unwrap() as f64;
        let h = pb.solve_heuristic().unwrap();
        prop_assert!(covered(&h.selected) + 1e-9 * total >= target);
        prop_assert!(h.objective >= best);
        let ex = carecircle::siting::exact::solve_exact(&pb, 10.0, Some(&h)).unwrap();
        prop_assert_eq!(ex.status.as_str(), "Optimal");
        prop_assert_eq!(ex.objective, best, "{:?}", ex.selected);
        prop_assert_eq!(ex.bound, best);
        prop_assert!(covered(&ex.selected) + 1e-9 * total >= target);
    }
}

/// On the 5,000 × 300 city instance: the optimum proven within the limit, the answer
/// meeting the share, the heuristic never below it.
#[test]
fn threshold_is_proven_on_the_bench_city() {
    let mut pb = read_instance(&instance("city_lscp")).unwrap();
    pb.model = Model::Threshold;
    let r = pb.radius.unwrap();
    for share in [0.8, 0.9] {
        pb.share = Some(share);
        let h = pb.solve_heuristic().unwrap();
        let ex = carecircle::siting::exact::solve_exact(&pb, 60.0, Some(&h)).unwrap();
        assert_eq!(ex.status, "Optimal", "share {share}");
        assert!(ex.gap.abs() < 1e-9, "share {share}: gap {}", ex.gap);
        assert!(h.objective >= ex.objective);
        let sets = pb.coverage_sets(r);
        let mut hit = vec![false; pb.demand.len()];
        for j in &ex.selected {
            for i in &sets[*j] {
                hit[*i as usize] = true;
            }
        }
        let covered: f64 = hit
            .iter()
            .zip(&pb.weight)
            .filter(|x| *x.0)
            .map(|x| x.1)
            .sum();
        let total: f64 = pb.weight.iter().sum();
        assert!(
            covered >= share * total * (1.0 - 1e-9),
            "share {share}: {covered} of {total}"
        );
        eprintln!(
            "city_lscp, share {share}: {} sites proven (heuristic {})",
            ex.objective, h.objective
        );
    }
}

// ---------------------------------------------------------------------------------------
// Sized siting: candidates open as one of several modules at a cost, within a budget.

fn sized(
    weight: Vec<f64>,
    sets: Vec<Vec<u32>>,
    existing: Vec<(Vec<u32>, f64)>,
    budget: f64,
) -> carecircle::siting::sized::SizedProblem {
    use carecircle::siting::sized::{Module, SizedProblem};
    SizedProblem {
        weight,
        sets,
        existing,
        modules: vec![
            Module {
                size: 80.0,
                cost: 1.0,
            },
            Module {
                size: 150.0,
                cost: 1.6,
            },
        ],
        budget,
    }
}

/// By hand: two groups of 100 people, site A reaching the first, B the second; an existing
/// facility of 50 places also reaches the first. Budget 1.6: B at 150 serves its 100 (A at
/// 80 would add only 50): 150 served. Budget 2.0: A at 80 and B at 80: 50 + 50 + 80 = 180.
/// Budget 3.2: both at 150: 200. Budget 1.0: B at 80: 130.
#[test]
fn sized_siting_by_hand() {
    use carecircle::siting::exact::solve_sized_quiet;
    use carecircle::siting::sized::greedy;
    for (budget, want, sites) in [
        (1.6, 150.0, vec![(1, 1)]),
        (2.0, 180.0, vec![(0, 0), (1, 0)]),
        (3.2, 200.0, vec![]),
        (1.0, 130.0, vec![(1, 0)]),
    ] {
        let pb = sized(
            vec![100.0, 100.0],
            vec![vec![0], vec![1]],
            vec![(vec![0], 50.0)],
            budget,
        );
        let g = greedy(&pb).unwrap();
        let (best, ex) = solve_sized_quiet(&pb, 10.0, &g).unwrap();
        assert!(
            (best.served - want).abs() < 1e-6,
            "budget {budget}: {best:?}"
        );
        assert!(
            (ex.bound - want).abs() < 1e-6,
            "budget {budget}: bound {}",
            ex.bound
        );
        assert!(best.cost <= budget + 1e-9);
        if !sites.is_empty() {
            let mut open = best.open.clone();
            open.sort();
            assert_eq!(open, sites, "budget {budget}");
        }
    }
    let e = carecircle::siting::sized::greedy(&sized(vec![1.0], vec![vec![0]], vec![], 0.5))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--budget 0.5: less than the cheapest module"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Against brute force over every (no site | module) choice for up to 6 candidates:
    /// the exact answer serves the most people within the budget, proven; greedy's answer
    /// is within the budget and never above it.
    #[test]
    fn sized_siting_matches_brute_force(
        weight in prop::collection::vec(1.0f64..120.0, 4..12),
        reach in prop::collection::vec(prop::collection::vec(0usize..12, 1..5), 2..7),
        existing in prop::option::of((prop::collection::vec(0usize..12, 1..4), 10.0f64..100.0)),
        budget in 1.0f64..5.0,
    ) {
        let n = weight.len();
        let set = |v: &Vec<usize>| {
            let mut s: Vec<u32> = v.iter().map(|k| (k % n) as u32).collect();
            s.sort();
            s.dedup();
            s
        };
        let sets: Vec<Vec<u32>> = reach.iter().map(set).collect();
        let existing: Vec<(Vec<u32>, f64)> = existing.iter().map(|(v, c)| (set(v), *c)).collect();
        let pb = sized(weight, sets, existing, budget);
        let m = pb.sets.len();
        let mut best = f64::NEG_INFINITY;
        for code in 0..3usize.pow(m as u32) {
            let mut c = code;
            let mut open = Vec::new();
            let mut cost = 0.0;
            for j in 0..m {
                match c % 3 {
                    0 => {}
                    s => {
                        open.push((j, s - 1));
                        cost += pb.modules[s - 1].cost;
                    }
                }
                c /= 3;
            }
            if cost <= budget + 1e-9 {
                best = best.max(carecircle::siting::exact::served(&pb, &open).unwrap());
            }
        }
        let g = carecircle::siting::sized::greedy(&pb).unwrap();
        prop_assert!(g.cost <= budget + 1e-9);
        prop_assert!(g.served <= best + 1e-6);
        let (s, ex) = carecircle::siting::exact::solve_sized_quiet(&pb, 10.0, &g).unwrap();
        prop_assert_eq!(ex.status.as_str(), "Optimal");
        prop_assert!((s.served - best).abs() < 1e-6, "{} vs brute force {}", s.served, best);
        prop_assert!((ex.bound - best).abs() < 1e-6 * best.max(1.0));
        prop_assert!(s.cost <= budget + 1e-9);
    }
}
