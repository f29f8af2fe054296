#!/usr/bin/env python3
"""Checks that every rule's quote in assets/rules/*.toml appears in the plan text it cites.

Run from the repository root with the seeds beside it (../shared/seeds). Whitespace and the
full-/half-width forms of , ( ) : ; are ignored; a quote built from two table cells may join
them with one space. Prints each quote that is not found, and exits non-zero if any.
"""
import pathlib, re, sys, tomllib

SEEDS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "seeds"
# Which seed holds each document (by title): a developer's map, never shown to users.
DOCS = {
    "黑河市“一老一小”整体解决方案": "003",
    "黑龙江省“十四五”促进养老托育服务健康发展实施方案": "000",
    "黑龙江省人民政府办公厅关于推进养老服务发展的实施意见": "002",
    "甘肃省“十四五”促进养老托育服务健康发展实施方案": "001",
    "辽宁省“十四五”促进养老托育服务健康发展实施方案": "001",
}

def norm(s):
    s = re.sub(r"\s+", "", s)
    for a, b in [("，", ","), ("（", "("), ("）", ")"), ("：", ":"), ("；", ";"), ("|", "")]:
        s = s.replace(a, b)
    return s

def main():
    texts = {p.name[:3]: norm(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    bad = 0
    for f in sorted(pathlib.Path("assets/rules").glob("*.toml")):
        d = tomllib.loads(f.read_text(encoding="utf-8"))
        for r in d.get("rules", []) + d.get("not_modelled", []):
            c = r["citation"]
            doc = c.get("document", d["document"])
            seed = DOCS.get(doc)
            if seed is None:
                print(f"{f.name} {r['id']}: {doc} is not a seed document (convention?)")
                continue
            if norm(c["quote"]) not in texts[seed]:
                bad += 1
                print(f"{f.name} {r['id']}: NOT FOUND: {c['quote']}")
    sys.exit(1 if bad else 0)

main()
