#!/usr/bin/env python3
"""Builds the demo datasets in maps/ from the public data in ../shared/data.

Deterministic: same inputs, same outputs (random.Random seeded with fixed strings; Python's
string seeding is stable across platforms and versions since 3.2). Standard library only.

    python3 tools/build_maps.py [--shared ../shared/data] [--out maps]

What it writes and why is documented in maps/harbin/README.md and maps/heihe/README.md.
Synthetic elderly-care facilities (OSM has none in Harbin) are flagged `synthetic: true` and
named 模拟… so no one mistakes them for real ones.
"""
import argparse
import csv
import json
import os
import random
import shutil

SEED = "carecircle-demo-2024"


def load_json(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def dump_json(p, obj):
    tmp = p + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, p)


def age_counts(row, total):
    """60+ and 0-3 from a tudigong census row of age shares (fractions of POPU).

    "3岁以下" (0-3 in the plans) is three year-cohorts, ages 0, 1 and 2: age 0 + 2/4 of the
    ages 1-4 band (the four single years assumed evenly spread)."""
    s60 = sum(float(row[k]) for k in ["AGES_60-64", "AGES_65-69", "AGES_70-74", "AGES_75-79", "AGES_80-84", "AGES_85P"])
    s03 = float(row["AGES_0"]) + 0.5 * float(row["AGES_1-4"])
    return round(total * s60), round(total * s03), s60, s03


def rings(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    return geom["coordinates"]


def point_in_ring(x, y, ring):
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_geom(x, y, geom):
    for poly in rings(geom):
        if point_in_ring(x, y, poly[0]) and not any(point_in_ring(x, y, h) for h in poly[1:]):
            return True
    return False


def bbox(geom):
    xs = [c[0] for poly in rings(geom) for c in poly[0]]
    ys = [c[1] for poly in rings(geom) for c in poly[0]]
    return min(xs), min(ys), max(xs), max(ys)


def build_harbin(shared, out):
    src = os.path.join(shared, "harbin")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(os.path.join(src, "harbin_2024_barefoot.osm.pbf"), os.path.join(out, "harbin.osm.pbf"))
    shutil.copyfile(os.path.join(src, "harbin_county_census2020_ghsl_tudigong.csv"), os.path.join(out, "census2020_districts.csv"))
    census = {r["CODE"]: r for r in csv.DictReader(open(os.path.join(src, "harbin_county_census2020_ghsl_tudigong.csv"), encoding="utf-8"))}
    districts = load_json(os.path.join(src, "harbin_counties_cnmaps_wgs84.geojson"))["features"]
    jiedao = load_json(os.path.join(src, "harbin_2024_jiedao_admin8_from_osm.geojson"))["features"]

    def district_of(feat):
        code = feat["properties"].get("division_code")
        if code:
            return code[:6]
        # No code: the district containing the polygon's first vertex.
        x, y = rings(feat["geometry"])[0][0][0]
        for d in districts:
            if point_in_geom(x, y, d["geometry"]):
                return d["properties"]["adcode"]
        return None

    used = set()
    units = []
    for f in jiedao:
        p = dict(f["properties"])
        dcode = district_of(f)
        used.add(dcode)
        p["code"] = p.get("division_code") or ""
        p["level"] = "sub_district"
        p["parent"] = dcode
        pop = p.get("population")
        if pop not in (None, ""):
            total = int(pop)
            p["population"] = total
            p["population_source"] = "OSM tag, unverified (no year or source stated)"
            if dcode in census:
                p60, p03, s60, s03 = age_counts(census[dcode], total)
                p["pop_60plus"] = p60
                p["pop_0_3"] = p03
                p["age_source"] = f"2020 census shares of district {dcode} ({census[dcode]['NAME']}): 60+ {s60:.4f}, 0-3 {s03:.4f}"
        else:
            p.pop("population", None)
        units.append({"type": "Feature", "properties": p, "geometry": f["geometry"]})
    dump_json(os.path.join(out, "subdistricts.geojson"), {"type": "FeatureCollection", "features": units})

    dists = []
    for d in districts:
        p = dict(d["properties"])
        if p["adcode"] not in used:
            continue
        p["code"] = p["adcode"]
        row = census.get(p["adcode"])
        if row:
            total = round(float(row["POPU"]))
            p60, p03, _, _ = age_counts(row, total)
            p["population"] = total
            p["pop_60plus"] = p60
            p["pop_0_3"] = p03
            p["population_source"] = "2020 census (tudigong)"
        dists.append({"type": "Feature", "properties": p, "geometry": d["geometry"]})
    dump_json(os.path.join(out, "districts.geojson"), {"type": "FeatureCollection", "features": dists})

    # Real facilities: nurseries/kindergartens and the one social facility, all OSM tags kept.
    pois = load_json(os.path.join(src, "harbin_2024_care_pois.geojson"))["features"]
    real = []
    for f in pois:
        a = f["properties"].get("amenity")
        if a in ("kindergarten", "childcare"):
            kind = "nursery"
        elif a == "social_facility":
            kind = "care_home"
        else:
            continue
        p = dict(f["properties"])
        p["id"] = f"osm-{p['osm_type']}-{p['osm_id']}"
        p["kind"] = kind
        p.setdefault("name", p.get("name:zh") or p.get("name:en") or "")
        real.append({"type": "Feature", "properties": p, "geometry": f["geometry"]})
    dump_json(os.path.join(out, "facilities_osm.geojson"), {"type": "FeatureCollection", "features": real})

    # Synthetic elderly facilities on street vertices inside each sub-district.
    ways = load_json(os.path.join(src, "harbin_2024_walk_ways.geojson"))["features"]
    verts = sorted({(round(c[0], 7), round(c[1], 7)) for w in ways for c in w["geometry"]["coordinates"]})
    synth = []
    for u in units:
        p = u["properties"]
        key = p["code"] or p["name"]
        rng = random.Random(f"{SEED}:{key}")
        x0, y0, x1, y1 = bbox(u["geometry"])
        cands = [v for v in verts if x0 <= v[0] <= x1 and y0 <= v[1] <= y1 and point_in_geom(v[0], v[1], u["geometry"])]
        if not cands:
            continue
        if rng.random() < 0.75:
            x, y = rng.choice(cands)
            synth.append(synthetic_feature(f"syn-st-{key}", f"模拟居家养老服务站（{p['name']}）", "street_station", rng.choice([30, 40, 50]), x, y))
        pop = p.get("population")
        n = round(pop / 7000 * rng.uniform(0.3, 1.0)) if isinstance(pop, int) else rng.randint(0, 2)
        for i in range(n):
            x, y = rng.choice(cands)
            synth.append(synthetic_feature(f"syn-dc-{key}-{i + 1}", f"模拟日间照料室（{p['name']}{i + 1}）", "day_care", rng.choice([10, 15, 20]), x, y))
    dump_json(os.path.join(out, "elderly_synthetic.geojson"), {"type": "FeatureCollection", "features": synth})
    print(f"harbin: {len(units)} sub-districts, {len(dists)} districts, {len(real)} real facilities, {len(synth)} synthetic")


def synthetic_feature(fid, name, kind, cap, x, y):
    return {
        "type": "Feature",
        "properties": {"id": fid, "name": name, "kind": kind, "capacity": cap, "public_benefit": True,
                       "status": "existing", "synthetic": True, "generator": f"tools/build_maps.py seed {SEED}"},
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }


def build_heihe(shared, out):
    src = os.path.join(shared, "heihe")
    os.makedirs(out, exist_ok=True)
    for name in ["heihe_census2020_county_leiii.csv", "heihe_county_census2020_ghsl_tudigong.csv"]:
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name.replace("heihe_", "")))
    census = {r["CODE"]: r for r in csv.DictReader(open(os.path.join(src, "heihe_county_census2020_ghsl_tudigong.csv"), encoding="utf-8"))}
    counties = load_json(os.path.join(src, "heihe_counties_cnmaps_gcj02.geojson"))
    for f in counties["features"]:
        p = f["properties"]
        p["code"] = p["adcode"]
        row = census[p["adcode"]]
        total = round(float(row["POPU"]))
        p60, p03, _, _ = age_counts(row, total)
        p.update(population=total, pop_60plus=p60, pop_0_3=p03, population_source="2020 census (tudigong / leiii)")
    dump_json(os.path.join(out, "counties_gcj02.geojson"), counties)

    with open(os.path.join(out, "townships.csv"), "w", encoding="utf-8", newline="") as fo:
        w = csv.writer(fo)
        w.writerow(["code", "name", "level", "parent"])
        for r in csv.DictReader(open(os.path.join(src, "heihe_streets_townships_2023.csv"), encoding="utf-8")):
            # Only 乡/镇 are townships in the plans' sense; state and forest farms, mines,
            # prisons and bureaux are their own level and township clauses skip them.
            if r["name"].endswith(("街道", "街道地区", "街道办事处")):
                level = "sub_district"
            elif r["name"].endswith(("镇", "乡")):
                level = "township"
            else:
                level = "special_area"
            w.writerow([r["code"], r["name"], level, r["areaCode"]])
    with open(os.path.join(out, "villages.csv"), "w", encoding="utf-8", newline="") as fo:
        w = csv.writer(fo)
        w.writerow(["code", "name", "level", "parent"])
        for r in csv.DictReader(open(os.path.join(src, "heihe_villages_communities_2023.csv"), encoding="utf-8")):
            level = "community" if "社区" in r["name"] else "village"
            w.writerow([r["code"], r["name"], level, r["streetCode"]])

    rows = list(csv.DictReader(open(os.path.join(src, "heihe_projects_2022_2025.csv"), encoding="utf-8")))
    with open(os.path.join(out, "planned_projects.csv"), "w", encoding="utf-8", newline="") as fo:
        fields = ["id", "name", "kind", "status", "year", "county", "town", "village", "beds", "nursery_places",
                  "public_benefit", "demonstration", "public", "renovation",
                  "source_kind", "section", "build_type", "floor_area_m2", "investment_wan", "central_budget_wan", "implementer", "scale_text"]
        w = csv.DictWriter(fo, fieldnames=fields)
        w.writeheader()
        for r in rows:
            k = r["kind"]
            if k == "institution":
                if r["town"]:
                    kind = "township_institution"
                elif "敬老院" in r["name"]:
                    kind = "county_hardship"
                else:
                    kind = "care_home"
            else:
                kind = {"nursery": "nursery", "day_care": "day_care", "community_center": "street_station"}[k]
            text = r["name"] + r["scale_text"]
            # Qualifiers the document states; blank (unknown) where it is silent.
            public_benefit = "是" if "普惠" in r["name"] else ""
            demonstration = "是" if "示范" in text else ""
            # 中心敬老院 and 社会福利院 are the public hardship-support homes (公办).
            public = "是" if ("敬老院" in r["name"] or "社会福利院" in r["name"]) else ""
            # Renovating an existing home (改造提升, 适老化改造, 维修, a second 改建 of the same
            # home) adds no new facility: its beds are in the existing stock.
            # Nursery 改建/改造 projects convert kindergarten space into new places, so
            # they do add capacity; only elderly homes are renovated in this sense.
            renovation = "是" if kind != "nursery" and any(w in r["name"] for w in ["改造", "维修", "改建项目"]) else "否"
            w.writerow({
                "public_benefit": public_benefit, "demonstration": demonstration, "public": public,
                "renovation": renovation,
                "id": f"HH-{int(r['seq']):02d}", "name": r["name"], "kind": kind, "status": "planned",
                # "2023-2024": the project completes in its last year.
                "year": r["year"].split("-")[-1],
                "county": r["county"], "town": r["town"], "village": r["village"], "beds": r["beds"],
                "nursery_places": r["nursery_places"], "source_kind": k, "section": r["section"],
                "build_type": r["build_type"], "floor_area_m2": r["floor_area_m2"], "investment_wan": r["investment_wan"],
                "central_budget_wan": r["central_budget_wan"], "implementer": r["implementer"], "scale_text": r["scale_text"],
            })
    print(f"heihe: {len(counties['features'])} counties, {len(rows)} projects")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(here, "..", "maps"))
    a = ap.parse_args()
    build_harbin(a.shared, os.path.join(a.out, "harbin"))
    build_heihe(a.shared, os.path.join(a.out, "heihe"))


if __name__ == "__main__":
    main()
