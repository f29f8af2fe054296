//! HiGHS: its options, the MILP run on its own thread (abandoned on cancel), the MCLP's LP
//! duals, the model rows, and the interrupt callbacks that report progress and stop it.

use super::*;

/// HiGHS's options for the exact solve: one thread, a proof to the last unit where the
/// weights are integers, and for the MCLP no presolve and none of its own sub-MIPs.
pub(super) fn configure(model: &mut highs::Model, time_limit: f64, integral: bool, mclp: bool) {
    model.make_quiet();
    model.set_option("time_limit", time_limit.max(0.01));
    model.set_option("mip_rel_gap", 1e-9);
    model.set_option("mip_abs_gap", if integral { 1.0 - 1e-6 } else { 1e-9 });
    model.set_option("random_seed", 1);
    // Strong branching dominates HiGHS's time on coverage models (city_mclp_p25: 92k of
    // 110k LP iterations); pseudo-costs from the first branchings do as well, twice as fast.
    model.set_option("mip_pscost_minreliable", 0);
    model.set_option("threads", 1);
    if mclp {
        // The MCLP model is already reduced (merged rows, covered demand a constant) and
        // HiGHS's presolve only reshuffles it: city_mclp_p25 proves in 22 s without it,
        // 33 s with it (same machine, same start).
        model.set_option("presolve", "off");
        // It always starts from our incumbent (the heuristic's or the tree's), so HiGHS's
        // own primal heuristics — sub-MIPs above all — spend its time finding what it has:
        // on city_mclp_p25 they took 9.7 of 14.8 s; without them the proof takes 5.4 s.
        for h in [
            "mip_heuristic_run_rins",
            "mip_heuristic_run_rens",
            "mip_heuristic_run_root_reduced_cost",
            "mip_heuristic_run_feasibility_jump",
        ] {
            model.set_option(h, false);
        }
    }
}

/// What the MILP solve leaves behind.
pub(super) struct MilpRun {
    pub(super) status: HighsModelStatus,
    pub(super) columns: Vec<f64>,
    /// HiGHS's proven bound (NaN if it has none).
    pub(super) dual_bound: f64,
}

/// Builds and solves the MILP on its own thread while this one reports progress and
/// watches for a cancel. HiGHS does not poll its interrupt callbacks while it solves the
/// root LP inside the MIP (a 20k × 1.5k MCLP: 29 s without one), so on a cancel the solve
/// is abandoned: it returns at once, and the thread stops at HiGHS's next poll or its time
/// limit, its answer dropped.
pub(super) fn solve_milp(
    rp: RowProblem,
    sense: Sense,
    setup: impl FnOnce(&mut highs::Model) + Send + 'static,
    watch: &Watch,
) -> Result<MilpRun> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("highs".into())
        .spawn(move || {
            let mut model = rp.optimise(sense);
            setup(&mut model);
            let data = &*flag as *const std::sync::atomic::AtomicBool as *const c_void;
            // SAFETY: `flag` (an Arc this thread holds) outlives the solve below.
            unsafe { install_callback(&mut model, Some(on_stop_flag), data) };
            let run = model.try_solve().map(|solved| MilpRun {
                status: solved.status(),
                columns: solved.get_solution().columns().to_vec(),
                dual_bound: solved
                    .double_info_value(c"mip_dual_bound")
                    .unwrap_or(f64::NAN),
            });
            // The flag outlives the solve: the callback reads it until try_solve returns.
            drop(flag);
            let _ = tx.send(run);
        })
        .map_err(|e| Error::Analysis(format!("cannot start the MILP solver thread: {e}")))?;
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(run) => return run.map_err(|e| Error::Analysis(format!("HiGHS failed: {e:?}"))),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                watch.tick();
                if watch.progress.is_cancelled() {
                    stop.store(true, Ordering::Relaxed);
                    return Err(Error::Cancelled);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Analysis(
                    "HiGHS stopped without an answer (solver thread failed)".into(),
                ))
            }
        }
    }
}

/// Points `model`'s simplex, IPM and MIP interrupt callbacks at `callback` with `data`.
///
/// # Safety
/// `data` must stay valid for as long as `model` solves, and be what `callback` expects.
pub(super) unsafe fn install_callback(
    model: &mut highs::Model,
    callback: highs_sys::HighsCCallbackType,
    data: *const c_void,
) {
    let ptr = model.as_mut_ptr();
    // SAFETY: `ptr` is a live Highs instance; the caller vouches for `data`.
    unsafe {
        highs_sys::Highs_setCallback(ptr, callback, data as *mut c_void);
        for kind in [
            highs_sys::kHighsCallbackSimplexInterrupt,
            highs_sys::kHighsCallbackIpmInterrupt,
            highs_sys::kHighsCallbackMipInterrupt,
        ] {
            highs_sys::Highs_startCallback(ptr, kind);
        }
    }
}

/// HiGHS's C callback for a stop flag: sets `user_interrupt` once the flag is.
pub(super) unsafe extern "C" fn on_stop_flag(
    _kind: c_int,
    _message: *const c_char,
    _out: *const highs_sys::HighsCallbackDataOut,
    data_in: *mut highs_sys::HighsCallbackDataIn,
    user: *mut c_void,
) {
    if user.is_null() || data_in.is_null() {
        return;
    }
    // SAFETY: `user` is the flag `solve_milp` registered; it outlives the solve.
    let flag = unsafe { &*(user as *const std::sync::atomic::AtomicBool) };
    if flag.load(Ordering::Relaxed) {
        // SAFETY: HiGHS passes a valid, writable input struct to interrupt callbacks.
        unsafe { (*data_in).user_interrupt = 1 };
    }
}

/// The MCLP's LP relaxation solved by HiGHS, for its coverage-row duals: the multipliers
/// at which the Lagrangian bound equals the LP bound (subgradient steps only approach
/// them slowly). `None` if HiGHS does not finish within `seconds`.
pub(super) fn lp_duals(
    rows: &[(f64, Vec<usize>)],
    m: usize,
    p: usize,
    seconds: f64,
    watch: &Watch,
) -> Option<Vec<f64>> {
    let mut rp = RowProblem::default();
    let x: Vec<highs::Col> = (0..m).map(|_| rp.add_column(0.0, 0.0..=1.0)).collect();
    add_mclp(&mut rp, &x, rows, p);
    let mut model = rp.optimise(Sense::Maximise);
    model.make_quiet();
    model.set_option("time_limit", seconds.max(0.01));
    model.set_option("threads", 1);
    // Interior point without crossover: 4× faster than simplex on city_mclp_p10 (0.23 s
    // vs 0.87 s), and near-optimal duals are all a warm start needs.
    model.set_option("solver", "ipm");
    model.set_option("run_crossover", "off");
    watch.install(&mut model);
    let solved = model.try_solve().ok()?;
    // Without crossover HiGHS may call a converged interior point "Unknown"; any
    // multipliers give a valid bound, these only need to be good ones.
    if !matches!(
        solved.status(),
        HighsModelStatus::Optimal | HighsModelStatus::Unknown
    ) {
        return None;
    }
    let sol = solved.get_solution();
    let duals = sol.dual_rows();
    if duals.len() < rows.len() || duals.iter().any(|d| !d.is_finite()) {
        return None;
    }
    Some(
        rows.iter()
            .zip(duals)
            .map(|((w, _), d)| d.abs().min(*w))
            .collect(),
    )
}

/// The MCLP over the site columns `x`: per merged row (w, sites) a coverage column worth w
/// (column `x.len() + k` for row k) with y ≤ Σ_{j∈sites} xⱼ, and Σ xⱼ = p. The integer
/// model and its LP relaxation share it, so the LP duals are the model's.
pub(super) fn add_mclp(
    rp: &mut RowProblem,
    x: &[highs::Col],
    rows: &[(f64, Vec<usize>)],
    p: usize,
) {
    for (w, sites) in rows {
        let y = rp.add_column(*w, 0.0..=1.0);
        let mut row: Vec<(highs::Col, f64)> = vec![(y, 1.0)];
        row.extend(sites.iter().map(|j| (x[*j], -1.0)));
        rp.add_row(..=0.0, &row);
    }
    rp.add_row(p as f64..=p as f64, x.iter().map(|c| (*c, 1.0)));
}

/// Who is watching a solve: HiGHS's interrupt callbacks report the elapsed time through it
/// and stop the solver once the job is cancelled.
pub(super) struct Watch<'a> {
    pub(super) progress: &'a dyn Progress,
    pub(super) t0: Instant,
    /// Milliseconds last reported (callbacks come every simplex iteration: report ~10/s).
    pub(super) shown: AtomicU64,
}

impl Watch<'_> {
    pub(super) fn tick(&self) {
        let ms = self.t0.elapsed().as_millis() as u64;
        if ms >= self.shown.load(Ordering::Relaxed) + 100 {
            self.shown.store(ms, Ordering::Relaxed);
            self.progress.advance(ms);
        }
    }

    /// Points `model`'s interrupt callbacks at this watch. It must outlive the solve (both
    /// live in the caller's frame).
    pub(super) fn install(&self, model: &mut highs::Model) {
        // SAFETY: `self` outlives the solve, and `on_highs_callback` reads a `Watch`.
        unsafe {
            install_callback(
                model,
                Some(on_highs_callback),
                self as *const Watch as *const c_void,
            )
        };
    }
}

/// HiGHS's C callback: reports progress and sets `user_interrupt` when cancelled. Never
/// unwinds into C (a panic counts as a cancel).
pub(super) unsafe extern "C" fn on_highs_callback(
    _kind: c_int,
    _message: *const c_char,
    _out: *const highs_sys::HighsCallbackDataOut,
    data_in: *mut highs_sys::HighsCallbackDataIn,
    user: *mut c_void,
) {
    if user.is_null() || data_in.is_null() {
        return;
    }
    // SAFETY: `user` is the `Watch` that `install` registered; it outlives the solve.
    let watch = unsafe { &*(user as *const Watch) };
    let stop = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        watch.tick();
        watch.progress.is_cancelled()
    }))
    .unwrap_or(true);
    if stop {
        // SAFETY: HiGHS passes a valid, writable input struct to interrupt callbacks.
        unsafe { (*data_in).user_interrupt = 1 };
    }
}
