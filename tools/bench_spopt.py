#!/usr/bin/env python3
"""PySAL spopt on one facility-location instance (the ../shared/bench format), for the
siting benchmark: builds the dense cost matrix and the model exactly as spopt's docs do,
solves with HiGHS through PuLP (the solver carecircle uses), and prints one JSON line:
{"objective", "selected_ids", "seconds", "status", "proven", "solver"}.

`proven` is PuLP's solution status, not its status: PuLP reports a HiGHS run stopped by
the time limit with a solution as status "Optimal" (solution status "Solution Found"),
so only `proven` tells a proof from a time-limited stop.

The objective is recomputed here from the chosen ids with the benchmark's inclusive rule
(sqrt(dx²+dy²) <= r), not taken from the solver.

usage: bench_spopt.py INSTANCE_DIR [TIME_LIMIT_S]
"""
import csv
import json
import math
import os
import sys
import time

import numpy as np
import pulp
from scipy.spatial.distance import cdist
from spopt.locate import LSCP, MCLP, PMedian


def read(path, weight=False):
    ids, xy, w = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            ids.append(row["id"])
            xy.append((float(row["x"]), float(row["y"])))
            if weight:
                w.append(float(row["weight"]))
    return ids, np.array(xy), np.array(w)


def main():
    d = sys.argv[1]
    limit = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
    prob = json.load(open(os.path.join(d, "problem.json")))
    t0 = time.perf_counter()
    did, dxy, w = read(os.path.join(d, "demand.csv"), True)
    cid, cxy, _ = read(os.path.join(d, "candidates.csv"))
    ex_path = os.path.join(d, "existing.csv")
    eid, exy = [], np.zeros((0, 2))
    if os.path.exists(ex_path):
        eid, exy, _ = read(ex_path)
    sites = np.vstack([cxy, exy]) if len(eid) else cxy
    predefined = np.array([False] * len(cid) + [True] * len(eid)) if len(eid) else None
    cost = cdist(dxy, sites)
    model = prob["model"]
    r = prob.get("radius_m")
    p = prob.get("p")
    solver = pulp.HiGHS(msg=False, timeLimit=limit, threads=1)
    if model == "mclp":
        m = MCLP.from_cost_matrix(
            cost, w, r, p + len(eid), predefined_facilities_arr=predefined
        )
    elif model == "lscp":
        # LSCP needs every demand point coverable: drop the ones no site reaches (as the
        # reference did), and those an existing site already covers.
        keep = (cost <= r).any(axis=1)
        m = LSCP.from_cost_matrix(cost[keep], r, predefined_facilities_arr=predefined)
    else:
        m = PMedian.from_cost_matrix(
            cost, w, p + len(eid), predefined_facilities_arr=predefined
        )
    m = m.solve(solver)
    secs = time.perf_counter() - t0
    chosen = [
        j
        for j, v in enumerate(m.fac_vars)
        if v.value() is not None and v.value() > 0.5 and j < len(cid)
    ]
    open_xy = np.vstack([cxy[chosen], exy]) if len(eid) else cxy[chosen]
    if model == "mclp":
        dd = cdist(dxy, open_xy) if len(open_xy) else np.full((len(did), 1), math.inf)
        obj = float(w[(dd <= r).any(axis=1)].sum())
    elif model == "lscp":
        obj = float(len(chosen))
    else:
        obj = float((cdist(dxy, open_xy).min(axis=1) * w).sum())
    print(
        json.dumps(
            {
                "objective": obj,
                "selected_ids": [cid[j] for j in chosen],
                "seconds": secs,
                "status": pulp.LpStatus[m.problem.status],
                "proven": m.problem.sol_status == pulp.constants.LpSolutionOptimal,
                "solver": "spopt %s + PuLP HiGHS (1 thread)"
                % __import__("spopt").__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
