#!/usr/bin/env python3
"""Peers of `cargo bench --bench network`: networkx and (if installed) pandana compute the
same all-facility walking catchment on the same graph.

Usage: bench_network.py networkx|pandana NODES.csv EDGES.csv SOURCES.txt CUTOFF_M
NODES.csv: id,x,y; EDGES.csv: u,v,length_m (integer ids); SOURCES.txt: node ids.
Prints one JSON line with seconds for each peer (Dijkstra/query only; graph construction
and pandana's contraction-hierarchy preprocessing reported separately) and reached counts."""
import json
import sys
import time

import numpy as np

peer = sys.argv[1]
nodes_f, edges_f, sources_f, cutoff = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
nodes = np.loadtxt(nodes_f, delimiter=",", skiprows=1)
edges = np.loadtxt(edges_f, delimiter=",", skiprows=1)
sources = [int(s) for s in open(sources_f) if s.strip()]
out = {}

if peer == "networkx":
    import networkx as nx

    t0 = time.perf_counter()
    G = nx.Graph()
    G.add_weighted_edges_from((int(u), int(v), float(w)) for u, v, w in edges)
    t1 = time.perf_counter()
    dist = nx.multi_source_dijkstra_path_length(G, set(sources), cutoff=cutoff)
    t2 = time.perf_counter()
    out["networkx_build_s"] = t1 - t0
    out["networkx_s"] = t2 - t1
    out["networkx_reached"] = len(dist)
    out["networkx_version"] = nx.__version__
    print(json.dumps(out))
    sys.exit(0)

try:
    import pandas as pd
    import pandana

    t0 = time.perf_counter()
    net = pandana.Network(
        pd.Series(nodes[:, 1], index=nodes[:, 0].astype(int)),
        pd.Series(nodes[:, 2], index=nodes[:, 0].astype(int)),
        pd.Series(edges[:, 0].astype(int)),
        pd.Series(edges[:, 1].astype(int)),
        pd.DataFrame({"w": edges[:, 2]}),
        twoway=True,
    )
    net.set_pois("fac", cutoff, 1, pd.Series(nodes[sources, 1]), pd.Series(nodes[sources, 2]))
    t1 = time.perf_counter()
    near = net.nearest_pois(cutoff, "fac", num_pois=1)
    t2 = time.perf_counter()
    out["pandana_prep_s"] = t1 - t0
    out["pandana_s"] = t2 - t1
    out["pandana_reached"] = int((near[1] < cutoff).sum())
    out["pandana_version"] = pandana.__version__
except Exception as e:  # pandana is optional
    out["pandana_error"] = repr(e)[:200]
print(json.dumps(out))
