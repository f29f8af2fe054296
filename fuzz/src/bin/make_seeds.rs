//! Writes the seed corpora (`corpus/<target>/`) from the repository's demo data, presets
//! and small generated files, so every target starts from valid input.
use std::path::{Path, PathBuf};

use geo::line_string;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let d = corpus.join(target);
        std::fs::create_dir_all(&d).unwrap();
        // Seeds stay small: libFuzzer mutates better from short inputs.
        let bytes = &bytes[..bytes.len().min(64 * 1024)];
        std::fs::write(d.join(name), bytes).unwrap();
    };
    let files = |dir: &str, ext: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| p.to_string_lossy().ends_with(ext));
        v.sort();
        v
    };
    for dir in ["maps/harbin", "maps/heihe", "tests/fixtures"] {
        for p in files(dir, ".geojson") {
            put("geojson", &name(&p), &std::fs::read(&p).unwrap());
        }
        for p in files(dir, ".csv") {
            put("csv", &name(&p), &std::fs::read(&p).unwrap());
        }
        for p in files(dir, "dataset.toml") {
            put(
                "manifest",
                &format!("{}-{}", dir.replace('/', "_"), name(&p)),
                &std::fs::read(&p).unwrap(),
            );
        }
    }
    put(
        "csv",
        "semicolon.csv",
        "name;lon;lat\nA;126.6;45.7\n".as_bytes(),
    );
    for p in files("assets/rules", ".toml") {
        put("preset", &name(&p), &std::fs::read(&p).unwrap());
    }
    // A small shapefile and its table.
    let tmp = std::env::temp_dir().join(format!("cc-seed-{}.shp", std::process::id()));
    {
        let mut w = shapefile::ShapeWriter::from_path(&tmp).unwrap();
        let ring = vec![
            shapefile::Point::new(126.6, 45.7),
            shapefile::Point::new(126.6, 45.75),
            shapefile::Point::new(126.65, 45.75),
            shapefile::Point::new(126.6, 45.7),
        ];
        w.write_shape(&shapefile::Polygon::new(shapefile::PolygonRing::Outer(
            ring,
        )))
        .unwrap();
        w.write_shape(&shapefile::Point::new(126.6, 45.7)).ok();
    }
    put("shp", "polygon.shp", &std::fs::read(&tmp).unwrap());
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(tmp.with_extension("shx"));
    let dbf = carecircle::io::dbf::write(
        &[("代码", b'C', 12), ("名称", b'C', 30), ("人口", b'N', 10)],
        &[vec!["230102001".into(), "兆麟街道".into(), "45000".into()]],
        encoding_rs::GBK,
    );
    put("dbf", "gbk.dbf", &dbf);
    // A graph cache of two streets.
    let a = line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 50.0)];
    let b = line_string![(x: 100.0, y: 0.0), (x: 200.0, y: 0.0)];
    let g = carecircle::network::Graph::build(&[
        carecircle::network::LineInput::plain(&a),
        carecircle::network::LineInput::plain(&b),
    ]);
    put(
        "graph_cache",
        "two-streets.bin",
        &carecircle::io::graph::cache_bytes(&g),
    );
    put("graph_cache", "two-streets-raw.bin", &g.to_bytes());
    // The osmpbf crate's own test extracts.
    if let Ok(home) = std::env::var("CARGO_HOME")
        .or_else(|_| std::env::var("HOME").map(|h| format!("{h}/.cargo")))
    {
        let reg = Path::new(&home).join("registry/src");
        for idx in std::fs::read_dir(&reg).into_iter().flatten().flatten() {
            for c in std::fs::read_dir(idx.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if c.file_name().to_string_lossy().starts_with("osmpbf-") {
                    for p in std::fs::read_dir(c.path().join("tests"))
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        if p.path().to_string_lossy().ends_with(".osm.pbf") {
                            put("pbf", &name(&p.path()), &std::fs::read(p.path()).unwrap());
                        }
                    }
                }
            }
        }
    }
    println!("seeds written to {}", corpus.display());
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}
