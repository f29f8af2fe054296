#!/usr/bin/env python3
"""Builds the field-work fixtures in tests/fixtures/field/ (deterministic; run from the repo root):

    ~/.cache/carecircle-peers/bin/python tools/build_fixtures.py

(the peers venv of scripts/peers.sh has openpyxl, geopandas and pyogrio with GDAL inside).

- facilities_gcj02.xlsx: a bureau's facility list as Excel makes it: a merged title row, a
  blank row, Chinese headers (序号 名称 类型 经度 纬度 床位 托位 地址 普惠 备注), GCJ-02
  coordinates (as copied from an online map), one longitude as degrees-minutes text, one
  capacity stored as text, one capacity as a formula without a saved value (openpyxl writes
  none), an empty row, an error cell, and a row without coordinates joined by its 街道 name.
- qgis_export.gpkg: what QGIS/GDAL writes: two feature tables, `facilities` (points,
  EPSG:4490 CGCS2000) and `subdistrict_gaps` (polygons, EPSG:4326).
- polygons_as_facilities.gpkg: one polygon table, for the "facilities must be points" error.
- unknown_srs.gpkg: a point table whose SRS is neither EPSG nor defined.
- corrupt.gpkg: a GeoPackage cut in half.

Points are the representative points of real Harbin sub-districts (maps/harbin), so the
tests know which sub-district each facility must land in.
"""
import json
import math
import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import openpyxl
from openpyxl.styles import Font
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "field"
OUT.mkdir(parents=True, exist_ok=True)

A = 6378245.0
EE = 0.00669342162296594323


def _lat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _lon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon, lat):
    dlat = _lat(lon - 105.0, lat - 35.0)
    dlon = _lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(radlat) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (A / sq * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


subs = json.loads((ROOT / "maps/harbin/subdistricts.geojson").read_text())["features"]
subs = sorted((f for f in subs if f["properties"].get("code")), key=lambda f: f["properties"]["code"])[:8]
pts = []
for f in subs:
    p = shape(f["geometry"]).representative_point()
    pts.append((f["properties"]["code"], f["properties"]["name"], p.x, p.y))
# The expected sub-district of each facility, for the tests.
(OUT / "expected.json").write_text(
    json.dumps({"subdistricts": [[c, n, x, y] for c, n, x, y in pts]}, ensure_ascii=False, indent=1) + "\n"
)

# --- Excel -------------------------------------------------------------------------------
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "设施名单"
ws["A1"] = "哈尔滨市养老托育设施名单（2025年核查）"
ws["A1"].font = Font(bold=True, size=14)
ws.merge_cells("A1:J1")
headers = ["序号", "名称", "类型", "经度", "纬度", "床位", "托位", "地址", "普惠", "备注"]
ws.append([])
ws.append(headers)
rows = []
for i, (code, name, x, y) in enumerate(pts[:5]):
    gx, gy = wgs84_to_gcj02(x, y)
    kind = ["日间照料室", "托育机构", "日间照料室", "养老院", "托育机构"][i]
    beds = [12, None, 20, 150, None][i]
    places = [None, 60, None, None, 90][i]
    rows.append([f"F{i + 1:03d}", f"{name}{kind}", kind, round(gx, 7), round(gy, 7), beds, places,
                 f"{name}某路{i + 1}号", "是" if places else None, f"备注{i + 1}"])
# Degrees-minutes-seconds text for one longitude (to the 0.001″ an online map gives).
d = rows[1][3]
deg = int(d)
mins = int((d - deg) * 60)
secs = round(((d - deg) * 60 - mins) * 60, 3)
rows[1][3] = f"{deg}°{mins}′{secs}″E"
rows[2][5] = "20"  # a number stored as text
for r in rows[:3]:
    ws.append(r)
ws.append([])  # an empty row in the middle of the list
for r in rows[3:]:
    ws.append(r)
row_formula = ws.max_row
ws.cell(row=row_formula, column=6, value="=60+30")  # formula, no saved value
ws.cell(row=row_formula, column=7, value=None)
# A row without coordinates: joined to its sub-district by name (街道 column is 地址-like).
ws.append(["F006", f"{pts[5][1]}托育点", "托育机构", None, None, None, 40, pts[5][1], "否", "无坐标"])
ws.cell(row=3, column=11, value="街道")
ws.cell(row=ws.max_row, column=11, value=pts[5][1])
wb.save(OUT / "facilities_gcj02.xlsx")

# --- GeoPackage --------------------------------------------------------------------------
fac = gpd.GeoDataFrame(
    {
        "编号": [f"G{i + 1:02d}" for i in range(4)],
        "名称": [f"{n}日间照料室" for _, n, _, _ in pts[4:8]],
        "类型": ["日间照料室"] * 4,
        "床位": [10, 15, 8, 30],
        "标准化": ["是", "否", "是", "是"],
        "调查员": ["张", "王", "李", "赵"],
    },
    geometry=[Point(x, y) for _, _, x, y in pts[4:8]],
    crs="EPSG:4490",
)
gaps = gpd.GeoDataFrame(
    {"code": [c for c, _, _, _ in pts[:2]], "deficit": [1, 2]},
    geometry=[shape(f["geometry"]) for f in subs[:2]],
    crs="EPSG:4326",
)
for name in ["qgis_export.gpkg", "polygons_as_facilities.gpkg", "unknown_srs.gpkg"]:
    (OUT / name).unlink(missing_ok=True)
fac.to_file(OUT / "qgis_export.gpkg", layer="facilities", driver="GPKG", engine="pyogrio")
gaps.to_file(OUT / "qgis_export.gpkg", layer="subdistrict_gaps", driver="GPKG", engine="pyogrio")
gaps.to_file(OUT / "polygons_as_facilities.gpkg", layer="care_homes", driver="GPKG", engine="pyogrio")
fac.to_file(OUT / "unknown_srs.gpkg", layer="facilities", driver="GPKG", engine="pyogrio")
con = sqlite3.connect(OUT / "unknown_srs.gpkg")
con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('local grid', 99001, 'LOCAL', 1, 'undefined', '')")
con.execute("UPDATE gpkg_geometry_columns SET srs_id = 99001")
con.execute("UPDATE gpkg_contents SET srs_id = 99001")
con.commit()
con.close()
data = (OUT / "qgis_export.gpkg").read_bytes()
(OUT / "corrupt.gpkg").write_bytes(data[: len(data) // 2] + b"\0" * 1000)
print("wrote", sorted(p.name for p in OUT.iterdir()))
