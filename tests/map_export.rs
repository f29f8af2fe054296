//! Presentation maps: the PNG really shows the analysis (pixels sampled where the data
//! says a colour must be), the SVG carries title, legend, scale and sources, and bad output
//! paths are errors naming the file.

use carecircle::coverage::{analyze, Euclidean, Options, RuleSet};
use carecircle::progress::NoProgress;
use carecircle::report::map::{layout, map_svg, share_rgba, write_map, MapSpec, ProposalMark};
use geo::InteriorPoint;

fn harbin() -> (carecircle::Dataset, carecircle::coverage::Report) {
    let ds = carecircle::io::load_path(std::path::Path::new("maps/harbin")).expect("demo loads");
    let rules = RuleSet::preset("heilongjiang-2021").expect("preset");
    let report =
        analyze(&ds, &rules, &Options::default(), &Euclidean, &NoProgress).expect("analysis");
    (ds, report)
}

fn pixel(png: &[u8], x: f64, y: f64) -> [u8; 4] {
    let pm = resvg::tiny_skia::Pixmap::decode_png(png).expect("a PNG");
    let c = pm.pixel(x as u32, y as u32).expect("inside").demultiply();
    [c.red(), c.green(), c.blue(), c.alpha()]
}

/// `fill` (with its alpha) over the map background, as the renderer composes it.
fn over_background(fill: [u8; 4]) -> [f64; 3] {
    let bg = [246.0, 245.0, 240.0];
    let a = fill[3] as f64 / 255.0;
    [0, 1, 2].map(|i| fill[i] as f64 * a + bg[i] * (1.0 - a))
}

#[test]
fn png_colours_units_by_their_coverage_share() {
    let (ds, report) = harbin();
    let rule = "elderly_15min_circle";
    let mut spec = MapSpec::new(1200, 900, "哈尔滨 15分钟养老服务圈");
    spec.rule = Some(rule.into());
    // Only the choropleth, so nothing else can sit on the sampled pixel.
    spec.layers.outlines = false;
    spec.layers.streets = false;
    spec.layers.facilities = false;
    spec.layers.uncovered = false;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.png");
    write_map(&ds, Some(&report), &spec, &path).expect("map written");
    let png = std::fs::read(&path).unwrap();
    let frame = layout(&ds, &spec);
    // The worst and a fully covered sub-district: their interior points must show the
    // ramp's colour for their share.
    let mut checked = 0;
    let mut shares: Vec<(f64, carecircle::model::UnitId)> = report
        .units
        .iter()
        .filter_map(|u| Some((u.rules.get(rule)?.value?, u.id)))
        .collect();
    shares.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (share, id) in [shares[0], *shares.last().unwrap()] {
        let g = ds.unit(id).geometry.as_ref().unwrap();
        // The largest part's interior point, away from the legend card.
        let part =
            g.0.iter()
                .max_by(|a, b| {
                    use geo::Area;
                    a.unsigned_area().total_cmp(&b.unsigned_area())
                })
                .unwrap();
        let p = part.interior_point().unwrap();
        let (x, y) = frame.px(p.x(), p.y());
        assert!(
            x > 400.0 && y > frame.y0 && y < frame.y1,
            "sample off the frame"
        );
        let want = over_background(share_rgba(share));
        let got = pixel(&png, x, y);
        for i in 0..3 {
            assert!(
                (got[i] as f64 - want[i]).abs() <= 3.0,
                "unit {} share {share:.3}: pixel {got:?}, expected {want:?}",
                ds.unit(id).name
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 2);
    // The header is white and the title is drawn in it (dark pixels in the title row).
    assert_eq!(pixel(&png, 1100.0, 10.0)[..3], [255, 255, 255]);
    let dark = (16..300)
        .filter(|x| pixel(&png, *x as f64, 24.0)[0] < 100)
        .count();
    assert!(dark > 10, "no title text rendered ({dark} dark pixels)");
}

#[test]
fn svg_has_title_legend_proposals_scale_and_sources() {
    let (ds, report) = harbin();
    let mut spec = MapSpec::new(1600, 1100, "Harbin <core> & day-care");
    spec.english = true;
    spec.rule = Some("elderly_15min_circle".into());
    let c = ds.focus_bounds().unwrap().center();
    spec.proposals = vec![
        ProposalMark {
            x: c.x,
            y: c.y,
            rank: 1,
            accepted: true,
        },
        ProposalMark {
            x: c.x + 500.0,
            y: c.y,
            rank: 2,
            accepted: false,
        },
    ];
    let svg = map_svg(&ds, Some(&report), &spec);
    // Escaped title, the rule's English name as legend title, each class, the proposals
    // (both decided states), a km scale bar, north arrow and every attribution line.
    assert!(svg.contains("Harbin &lt;core&gt; &amp; day-care"));
    for s in [
        "95–99.9%",
        "Not evaluated",
        "Proposed site",
        "Uncovered demand",
        "km</text>",
        ">N</text>",
    ] {
        assert!(svg.contains(s), "missing {s}");
    }
    assert_eq!(svg.matches("<polygon points=").count(), 2 + 1 + 1); // 2 sites, legend, arrow
    let flat = svg.replace("</text><text x=\"16\"", " ");
    for a in &ds.attribution {
        let head: String = a.chars().take(25).collect();
        assert!(flat.contains(&head), "attribution missing: {a}");
    }
    // It parses as SVG and rasterises at the asked size.
    let png = carecircle::report::map::svg_to_png(&svg).expect("rasterises");
    let pm = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
    assert_eq!((pm.width(), pm.height()), (1600, 1100));
}

#[test]
fn unwritable_output_names_the_file() {
    let (ds, report) = harbin();
    let spec = MapSpec::new(400, 300, "x");
    let bad = std::path::Path::new("/nonexistent-dir/sub/map.png");
    let err = write_map(&ds, Some(&report), &spec, bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent-dir/sub/map.png"), "{err}");
}

/// Print layout: A4 at 300 dpi is 2481 × 3509 pixels (the 96-to-the-inch layout × 3.125,
/// every symbol in proportion); the legend card, the north arrow and the scale bar sit in
/// the column right of the data frame, never over it; the title fits the page.
#[test]
fn print_layout_keeps_the_legend_off_the_data_and_prints_at_300_dpi() {
    let dir = tempfile::tempdir().unwrap();
    let harbin = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    let png = dir.path().join("a4.png");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_carecircle"))
        .arg("map")
        .arg(&harbin)
        .args(["--paper", "A4", "--dpi", "300", "--out"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&png).unwrap();
    let (w, h) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (2481, 3509));
    // The SVG of the same layout: the legend card's x is right of the data frame.
    let ds = carecircle::io::load_path(&harbin).unwrap();
    let mut spec = carecircle::report::map::MapSpec::new(794, 1123, "t");
    spec.legend_panel = true;
    let frame = carecircle::report::map::layout(&ds, &spec);
    let svg = carecircle::report::map::map_svg(&ds, None, &spec);
    let card = svg
        .split("<rect ")
        .find(|r| r.contains("rx=\"4\""))
        .expect("a legend card");
    let x: f64 = card
        .split("x=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        x >= frame.x1,
        "legend at {x}, data frame ends at {}",
        frame.x1
    );
    assert!(frame.x1 <= 794.0 - carecircle::report::map::LEGEND_PANEL + 1e-9);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_carecircle"))
        .arg("map")
        .arg(&harbin)
        .args(["--landscape", "--out"])
        .arg(dir.path().join("x.png"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--landscape needs --paper"));
}
