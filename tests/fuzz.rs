//! The fuzz targets in brief, inside `cargo test`: every parser CareCircle owns gets
//! mutated valid input (byte flips, cuts, splices, inserted bytes) and random bytes, and
//! must answer with a value or an error — never a panic. The long runs are `cargo fuzz`
//! (see `fuzz/` and the README); these keep the same entry points honest on every commit.

use std::path::Path;

use carecircle::progress::NoProgress;
use geo::line_string;
use proptest::prelude::*;

const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"甲","code":"230102001","population":1000},"geometry":{"type":"Polygon","coordinates":[[[126.6,45.7],[126.7,45.7],[126.7,45.8],[126.6,45.7]]]}},{"type":"Feature","properties":{"kind":"day_care"},"geometry":{"type":"Point","coordinates":[126.65,45.75]}}]}"#;
const CSV: &str = "name,lon,lat,床位\n甲,126.6,45.7,30\n乙,126.7,45.8,\n";
const MANIFEST: &str = "name = \"x\"\n[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\ncrs = \"GCJ-02\"\n[layers.fields]\nname = \"名称\"\n[[known_totals]]\nlabel = \"t\"\nkinds = [\"day_care\"]\nfacilities = 3\n";

fn preset() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/rules/heilongjiang-2021.toml"),
    )
    .unwrap()
}

fn dbf() -> Vec<u8> {
    carecircle::io::dbf::write(
        &[("代码", b'C', 12), ("名称", b'C', 30), ("人口", b'N', 10)],
        &[vec!["230102001".into(), "兆麟街道".into(), "45000".into()]],
        encoding_rs::GBK,
    )
}

fn graph_cache() -> Vec<u8> {
    let a = line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 50.0)];
    let b = line_string![(x: 100.0, y: 0.0), (x: 200.0, y: 0.0)];
    let g = carecircle::network::Graph::build(&[
        carecircle::network::LineInput::plain(&a),
        carecircle::network::LineInput::plain(&b),
    ]);
    carecircle::io::graph::cache_bytes(&g)
}

/// One mutation of `seed`: flip, cut, insert or splice, as libFuzzer would.
fn mutate(seed: &[u8], op: u8, at: usize, byte: u8, len: usize) -> Vec<u8> {
    let mut v = seed.to_vec();
    if v.is_empty() {
        return vec![byte];
    }
    let at = at % v.len();
    match op % 5 {
        0 => v[at] ^= byte.max(1),
        1 => v.truncate(at),
        2 => v.insert(at, byte),
        3 => {
            let end = (at + len).min(v.len());
            let piece = v[at..end].to_vec();
            let to = (at * 7 + len) % v.len();
            v.splice(to..to, piece);
        }
        _ => {
            let end = (at + len).min(v.len());
            v.drain(at..end);
        }
    }
    v
}

fn all_parsers(data: &[u8]) {
    let _ = carecircle::io::geojson::read_bytes(data, Path::new("f.geojson"), &NoProgress);
    let mapping = carecircle::io::fields::FieldMapping::default();
    let _ = carecircle::io::csv::read_bytes(data, Path::new("f.csv"), &mapping, &NoProgress);
    let _ = carecircle::io::dbf::parse(data, None);
    let _ = carecircle::io::dbf::parse(data, Some(encoding_rs::GBK));
    let _ = carecircle::io::shp::shapes_from_bytes(data, Path::new("f.shp"));
    let _ = carecircle::io::graph::from_cache_bytes(data);
    let _ = carecircle::network::Graph::from_bytes(data);
    let _ = carecircle::io::osm::read_from(
        std::io::Cursor::new(data),
        Path::new("f.osm.pbf"),
        &NoProgress,
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = carecircle::io::manifest::Manifest::from_str(text, Path::new("dataset.toml"));
        let _ = carecircle::coverage::rules::RuleSet::parse(text, "fuzz.toml");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_valid_input_never_panics(
        which in 0usize..6,
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>(), 0usize..64), 1..6),
    ) {
        let seed: Vec<u8> = match which {
            0 => GEOJSON.as_bytes().to_vec(),
            1 => CSV.as_bytes().to_vec(),
            2 => MANIFEST.as_bytes().to_vec(),
            3 => preset().into_bytes(),
            4 => dbf(),
            _ => graph_cache(),
        };
        let mut data = seed;
        for (op, at, byte, len) in ops {
            data = mutate(&data, op, at, byte, len);
        }
        all_parsers(&data);
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&data);
    }
}

/// Found by `cargo fuzz run dbf` (an out-of-memory: malloc of 12.9 GB): a header whose
/// record count promises more than the file holds is refused before anything is allocated.
#[test]
fn a_dbf_record_count_beyond_the_file_is_refused_before_allocating() {
    let mut b = dbf();
    b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let Err(e) = carecircle::io::dbf::parse(&b, None) else {
        panic!("a record count of u32::MAX was accepted");
    };
    assert!(e.contains("promises 4294967295 records"), "{e}");
    // One record more than there is room for is refused the same way.
    let mut b = dbf();
    b[4..8].copy_from_slice(&2u32.to_le_bytes());
    assert!(carecircle::io::dbf::parse(&b, None).is_err());
}

/// Found by `cargo fuzz run graph_cache` (a panic in the R-tree): raw graph bytes with a
/// non-finite coordinate are not a graph.
#[test]
fn graph_bytes_with_non_finite_coordinates_are_refused() {
    let a = line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0)];
    let g = carecircle::network::Graph::build(&[carecircle::network::LineInput::plain(&a)]);
    let good = g.to_bytes();
    assert!(carecircle::network::Graph::from_bytes(&good).is_some());
    // Every 8-byte aligned f64 slot after the header set to NaN or ∞: never a panic, and
    // never a graph with a non-finite node.
    for at in (40..good.len().saturating_sub(8)).step_by(4) {
        for bad in [f64::NAN, f64::INFINITY] {
            let mut b = good.clone();
            b[at..at + 8].copy_from_slice(&bad.to_le_bytes());
            if let Some(h) = carecircle::network::Graph::from_bytes(&b) {
                assert!(h.nodes.iter().all(|n| n[0].is_finite() && n[1].is_finite()));
            }
        }
    }
}

/// Found by `cargo fuzz run shp` (out of memory): a corrupt record the reader cannot get
/// past used to be reported without end; the rest of the file is now given up, said once.
#[test]
fn a_shp_whose_records_cannot_be_read_stops_with_one_warning() {
    let bytes: Vec<u8> = vec![
        0x00, 0x00, 0x27, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6e, 0xe8, 0x03,
        0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x66, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x4e, 0x40, 0x01,
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x66, 0x66, 0x66,
        0x66, 0xa6, 0x5f, 0x40, 0x9a, 0x99, 0x99, 0x99, 0x99, 0xd9, 0x46, 0x40, 0x66, 0x66, 0x66,
        0x66, 0x66, 0xa6, 0x5f, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x46, 0x40, 0x9a, 0x99,
        0x99, 0x99, 0x99, 0xa9, 0x5f, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x46, 0x40, 0x66,
        0x66, 0x66, 0x66, 0x66, 0xa6, 0x5f, 0x40, 0x9a, 0x99, 0x99, 0x99, 0x99, 0xd9, 0x46, 0x40,
    ];
    let t = std::time::Instant::now();
    if let Ok(layer) = carecircle::io::shp::shapes_from_bytes(&bytes, Path::new("f.shp")) {
        assert!(
            layer.warnings.len() <= 12,
            "{} warnings",
            layer.warnings.len()
        );
    }
    assert!(t.elapsed().as_secs() < 5);
}

/// Found by `cargo fuzz run shp` (out of memory in the shapefile reader, which sizes its
/// buffers from a record's part count): counts that cannot fit in their record are refused
/// before the reader sees them.
#[test]
fn a_shp_record_counting_more_parts_than_it_holds_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.shp");
    {
        let mut w = shapefile::ShapeWriter::from_path(&path).unwrap();
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
    }
    let good = std::fs::read(&path).unwrap();
    assert!(carecircle::io::shp::shapes_from_bytes(&good, &path).is_ok());
    // Record header at 100, shape type at 108, box to 144, parts at 144, points at 148.
    for (at, count) in [
        (144usize, 0x4000_0001u32),
        (148, 0x4000_0000),
        (144, u32::MAX),
    ] {
        let mut bad = good.clone();
        bad[at..at + 4].copy_from_slice(&count.to_le_bytes());
        let e = carecircle::io::shp::shapes_from_bytes(&bad, &path).unwrap_err();
        assert!(e.to_string().contains("corrupt"), "{e}");
    }
    // A record longer than its shape needs: the reader does not skip the rest and reads
    // the next record from inside this one (a null shape with spare bytes, then 25 GB).
    let mut bad = good.clone();
    bad[108..112].copy_from_slice(&0u32.to_le_bytes());
    let e = carecircle::io::shp::shapes_from_bytes(&bad, &path).unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
    // Points without parts: no shape, and misread by the reader (4 GB from 219 bytes).
    let mut bad = good.clone();
    bad[144..148].copy_from_slice(&0u32.to_le_bytes());
    let e = carecircle::io::shp::shapes_from_bytes(&bad, &path).unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
    // Part indices that do not rise from 0 within the points (the reader sizes each part
    // from the next index: 23 GB from a 220-byte file).
    for first in [-1_449_551_616i32, 3, 99] {
        let mut bad = good.clone();
        bad[152..156].copy_from_slice(&first.to_le_bytes());
        let e = carecircle::io::shp::shapes_from_bytes(&bad, &path).unwrap_err();
        assert!(e.to_string().contains("part indices"), "{e}");
    }
    // A record longer than the file.
    let mut bad = good.clone();
    bad[104..108].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let e = carecircle::io::shp::shapes_from_bytes(&bad, &path).unwrap_err();
    assert!(e.to_string().contains("beyond the file's end"), "{e}");
}

/// The record check refuses only what the spec does not allow: Z and M shapes written by
/// the shapefile crate (M blocks included) read as before.
#[test]
fn z_and_m_shapes_pass_the_record_check() {
    use shapefile::{PointM, PointZ, PolygonM, PolygonRing, PolygonZ};
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.shp");
    {
        let mut w = shapefile::ShapeWriter::from_path(&m).unwrap();
        let ring: Vec<PointM> = [
            (126.6, 45.7),
            (126.6, 45.75),
            (126.65, 45.75),
            (126.6, 45.7),
        ]
        .iter()
        .map(|(x, y)| PointM::new(*x, *y, 1.0))
        .collect();
        w.write_shape(&PolygonM::new(PolygonRing::Outer(ring)))
            .unwrap();
    }
    let z = dir.path().join("z.shp");
    {
        let mut w = shapefile::ShapeWriter::from_path(&z).unwrap();
        let ring: Vec<PointZ> = [
            (126.6, 45.7),
            (126.6, 45.75),
            (126.65, 45.75),
            (126.6, 45.7),
        ]
        .iter()
        .map(|(x, y)| PointZ::new(*x, *y, 100.0, 0.0))
        .collect();
        w.write_shape(&PolygonZ::new(PolygonRing::Outer(ring)))
            .unwrap();
    }
    for p in [m, z] {
        let bytes = std::fs::read(&p).unwrap();
        let layer = carecircle::io::shp::shapes_from_bytes(&bytes, &p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(layer.features.len(), 1, "{}", p.display());
    }
}
