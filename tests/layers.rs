//! Module imports point one way. Read from the `crate::` paths in every source file under
//! `src/` (test modules included): the ground floor (model, geom, error, files, texts, crs,
//! progress) imports nothing above it; `network` is a pure graph module (ground only);
//! `io` imports no analysis; nothing but the binary imports `app`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const GROUND: &[&str] = &[
    "model", "geom", "error", "files", "texts", "crs", "progress", "testkit",
];

/// What each top-level module may import besides itself and the ground floor.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "model" | "geom" | "error" | "files" | "texts" | "crs" | "progress" | "testkit" => &[],
        "network" | "spatial" => &[],
        "io" => &["network"],
        "coverage" => &["spatial", "network"],
        "siting" => &["spatial", "network", "coverage"],
        "report" => &["spatial", "network", "coverage", "siting", "io"],
        "app" => &["spatial", "network", "coverage", "siting", "io", "report"],
        // The binary's front ends and the crate root may use anything.
        "main" | "cli" | "lib" => return None,
        _ => panic!("unknown top-level module '{module}': give it a layer in tests/layers.rs"),
    })
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a source text names through `crate::…`, including grouped
/// `use crate::{a::b, c}` imports.
fn imported(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn imports_point_one_way() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut bad: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(may) = allowed(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for m in imported(&text) {
            // `crate::Error`, `crate::Result`, `crate::Dataset`: the root's re-exports of
            // ground types.
            let ok = m == module
                || GROUND.contains(&m.as_str())
                || may.contains(&m.as_str())
                || matches!(m.as_str(), "Error" | "Result" | "Dataset");
            if !ok {
                bad.entry(rel.display().to_string()).or_default().push(m);
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layering (file: modules it must not import): {bad:#?}"
    );
}

#[test]
fn the_checker_sees_grouped_and_plain_imports() {
    let t = "use crate::{model::Unit, io::load};\nfn f() { crate::network::x(); }\n// crate::app in a comment\n";
    let got: Vec<String> = imported(t).into_iter().collect();
    assert_eq!(got, ["io", "model", "network"]);
}
