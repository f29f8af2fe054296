#!/usr/bin/env python3
"""Reference accessibility figures from PySAL `access` (1.1) on CareCircle's own pairs.

Reads, from the folder given as the first argument:
  demand.csv  id,people
  supply.csv  id,supply
  cost.csv    origin,dest,cost        (metres; every pair within the catchment)
  cases.json  [{"name", "method", "catchment", "decay": {...} | null, "n"}]
and writes pysal.csv (case,id,access) beside them, one row per demand point.

2SFCA and E2SFCA come from `access.fca.two_stage_fca` (scaled to per 1000 people, as
CareCircle reports them), gravity from `access.fca.weighted_catchment` (supply summed per
origin with the decay), nearest-n from pandas (PySAL has no such measure). Decays use
`access.weights.step_fn` and `access.weights.gaussian`; linear and exponential are the
lambdas PySAL's documentation suggests for functions it does not ship.

Used by tests/access.rs (when the package is installed) and benches/access.rs.
Install: python3 -m venv ~/.cache/carecircle-peers && ~/.cache/carecircle-peers/bin/pip install access==1.1.10
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from access import fca, weights


def weight_fn(decay, catchment):
    if decay is None:
        return None
    kind = decay["decay"]
    if kind == "step":
        return weights.step_fn({float(limit): float(w) for limit, w in decay["bands"]})
    if kind == "gaussian":
        return weights.gaussian(decay["sigma_m"])
    if kind == "linear":
        return lambda x: 1.0 - x / catchment
    if kind == "exponential":
        beta = decay["beta_per_m"]
        return lambda x: np.exp(-beta * x)
    raise ValueError(kind)


def main(folder):
    demand = pd.read_csv(f"{folder}/demand.csv", dtype={"id": str})
    supply = pd.read_csv(f"{folder}/supply.csv", dtype={"id": str})
    cost = pd.read_csv(f"{folder}/cost.csv", dtype={"origin": str, "dest": str})
    cases = json.load(open(f"{folder}/cases.json"))
    demand_df = demand.rename(columns={"id": "geoid", "people": "demand"})
    supply_df = supply.set_index("id").rename(columns={"supply": "supply"})
    supply_df.index.name = "geoid"
    out = []
    timings = {}
    for case in cases:
        t0 = time.perf_counter()
        name, method, d0 = case["name"], case["method"], case["catchment"]
        fn = weight_fn(case.get("decay"), d0)
        if method in ("2sfca", "e2sfca"):
            s = fca.two_stage_fca(
                demand_df,
                supply_df,
                cost,
                max_cost=d0,
                demand_index="geoid",
                demand_name="demand",
                supply_name="supply",
                cost_origin="origin",
                cost_dest="dest",
                cost_name="cost",
                weight_fn=fn if method == "e2sfca" else None,
            )
            values = (s * 1000.0).reindex(demand["id"]).fillna(0.0)
        elif method == "gravity":
            sup = supply.rename(columns={"id": "geoid"})
            s = fca.weighted_catchment(
                sup,
                cost,
                max_cost=d0,
                cost_source="dest",
                cost_dest="origin",
                cost_cost="cost",
                loc_index="geoid",
                loc_value="supply",
                weight_fn=fn,
            )
            values = s.reindex(demand["id"]).fillna(0.0)
        elif method == "nearest-n":
            n = case["n"]
            near = cost[cost["cost"] <= d0].sort_values(["origin", "cost"])
            top = near.groupby("origin").head(n).groupby("origin")["cost"]
            mean = top.mean().where(top.count() == n)
            values = mean.reindex(demand["id"])
        else:
            raise ValueError(method)
        timings[name] = time.perf_counter() - t0
        for i, v in zip(demand["id"], values):
            out.append((name, i, "" if pd.isna(v) else repr(float(v))))
    pd.DataFrame(out, columns=["case", "id", "access"]).to_csv(f"{folder}/pysal.csv", index=False)
    json.dump(timings, open(f"{folder}/pysal_seconds.json", "w"))


if __name__ == "__main__":
    main(sys.argv[1])
