#!/usr/bin/env python3
"""Compares two JSON files (the Linux and the Windows build's outputs): same structure and
strings, numbers equal within a relative tolerance. Prints what differs and the largest
difference; exit 1 when they do not agree.

    python3 tools/compare_json.py A.json B.json [--rel 1e-9]

Paths inside strings are compared with \\ read as / (a Windows path names the same file).
Floating-point results may differ in the last bits between the two C libraries' sin, cos
and exp (glibc vs mingw's): the tolerance says how much is allowed.
"""
import json
import sys


def walk(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out["structure"].append(f"{path}/{k}: only in {'A' if k in a else 'B'}")
            else:
                walk(a[k], b[k], f"{path}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out["structure"].append(f"{path}: {len(a)} vs {len(b)} items")
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]", out)
    elif isinstance(a, bool) or isinstance(b, bool):
        if a != b:
            out["values"].append(f"{path}: {a} vs {b}")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        out["numbers"] += 1
        d = abs(a - b)
        rel = d / max(abs(a), abs(b), 1e-300) if d else 0.0
        if d:
            out["differing"] += 1
            if rel > out["max_rel"]:
                out["max_rel"], out["where"] = rel, path
            out["max_abs"] = max(out["max_abs"], d)
    elif isinstance(a, str) and isinstance(b, str):
        if a.replace("\\", "/") != b.replace("\\", "/"):
            out["values"].append(f"{path}: {a!r} vs {b!r}")
    elif a != b:
        out["values"].append(f"{path}: {a!r} vs {b!r}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rel = 1e-9
    if "--rel" in sys.argv:
        rel = float(sys.argv[sys.argv.index("--rel") + 1])
        args = [a for a in args if a != str(rel) and a != sys.argv[sys.argv.index("--rel") + 1]]
    a, b = (json.load(open(p, encoding="utf-8")) for p in args[:2])
    out = {"structure": [], "values": [], "numbers": 0, "differing": 0, "max_rel": 0.0, "max_abs": 0.0, "where": ""}
    walk(a, b, "", out)
    ok = not out["structure"] and not out["values"] and out["max_rel"] <= rel
    print(
        f"{args[0]} vs {args[1]}: {out['numbers']} numbers, {out['differing']} differ"
        f" (largest relative {out['max_rel']:.2e} at {out['where'] or '-'}, absolute {out['max_abs']:.2e});"
        f" {len(out['structure'])} structural and {len(out['values'])} value differences"
        f" -> {'identical' if out['differing'] == 0 and ok else ('agree within ' + str(rel)) if ok else 'DIFFER'}"
    )
    for line in (out["structure"] + out["values"])[:20]:
        print("  " + line)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
