#!/usr/bin/env python3
"""Independent reference for CareCircle's walking distances: networkx's
multi_source_dijkstra_path_length on the very same edges.

Usage: networkx_check.py EDGES.csv SOURCES.txt CUTOFF_M OUT.csv [SAMPLE_EVERY]
EDGES.csv: u,v,length_m (node keys); SOURCES.txt: one node key per line.
Writes node,distance_m for every SAMPLE_EVERY-th reached node (sorted by key), which
tests/network.rs compares with our Dijkstra (|Δ| ≤ 0.01 m)."""
import csv
import sys

import networkx as nx

edges, sources, cutoff, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
every = int(sys.argv[5]) if len(sys.argv) > 5 else 1
G = nx.Graph()
with open(edges, newline="") as f:
    for r in csv.DictReader(f):
        u, v, w = r["u"], r["v"], float(r["length_m"])
        if G.has_edge(u, v):
            w = min(w, G[u][v]["weight"])
        G.add_edge(u, v, weight=w)
src = [s.strip() for s in open(sources) if s.strip()]
dist = nx.multi_source_dijkstra_path_length(G, set(src), cutoff=cutoff, weight="weight")
keys = sorted(dist)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["node", "distance_m"])
    for k in keys[::every]:
        w.writerow([k, f"{dist[k]:.6f}"])
print(f"{len(G)} nodes, {G.number_of_edges()} edges, {len(dist)} reached, {len(keys[::every])} written")
