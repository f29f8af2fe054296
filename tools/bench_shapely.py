#!/usr/bin/env python3
"""The peer of `cargo bench --bench coverage`: the same demand/facility points, the same
900 m question, answered with shapely 2's STRtree `query(..., predicate="dwithin")`.

Usage: bench_shapely.py DEMAND.f64 FACILITIES.f64 RADIUS_M
Each file is little-endian float64 x,y pairs (metres). Prints one JSON line:
{"build_s", "query_s", "pairs", "covered", "peak_rss_mb"}."""
import json
import resource
import sys
import time

import numpy as np
import shapely

demand = np.fromfile(sys.argv[1], dtype="<f8").reshape(-1, 2)
facilities = np.fromfile(sys.argv[2], dtype="<f8").reshape(-1, 2)
radius = float(sys.argv[3])

t0 = time.perf_counter()
fac_geoms = shapely.points(facilities)
tree = shapely.STRtree(fac_geoms)
dem_geoms = shapely.points(demand)
t1 = time.perf_counter()
pairs = tree.query(dem_geoms, predicate="dwithin", distance=radius)
t2 = time.perf_counter()
covered = int(np.unique(pairs[0]).size)
print(json.dumps({
    "build_s": t1 - t0,
    "query_s": t2 - t1,
    "pairs": int(pairs.shape[1]),
    "covered": covered,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
}))
