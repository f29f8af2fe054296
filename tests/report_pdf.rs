//! The PDF report on both demos: real, searchable Chinese text (read back with poppler's
//! pdftotext), every evaluated rule on a page of its own with its verdict and value as the
//! analysis has them and its map drawn, the proposals' proof in words; bad input refused.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

use carecircle::coverage::analysis::Status;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carecircle"))
}

fn demo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("maps")
        .join(name)
}

fn has_poppler() -> bool {
    Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Page `k` (1-based) of `pdf` as text, whitespace removed (table cells wrap).
fn page_text(pdf: &Path, k: usize) -> String {
    let o = Command::new("pdftotext")
        .args(["-f", &k.to_string(), "-l", &k.to_string()])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn pages(pdf: &Path) -> usize {
    let o = Command::new("pdfinfo").arg(pdf).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .unwrap()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn report_pages_carry_each_rules_verdict_value_and_map() {
    if !has_poppler() {
        eprintln!(
            "SKIPPED: pdftotext/pdfinfo missing (apt install poppler-utils; scripts/deps.sh does)"
        );
        return;
    }
    for name in ["harbin", "heihe"] {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("r.pdf");
        let o = bin()
            .arg("report")
            .arg(demo(name))
            .args(["--date", "2026-11-27", "--out"])
            .arg(&pdf)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(&std::fs::read(&pdf).unwrap()[..5], b"%PDF-");
        // The analysis the report must agree with.
        let ds = carecircle::io::load_path(&demo(name)).unwrap();
        let sc = carecircle::coverage::Scenario::new("heilongjiang-2021").unwrap();
        let report = carecircle::coverage::analyze(
            &ds,
            sc.rules(),
            &sc.options(),
            &carecircle::coverage::Euclidean,
            &carecircle::progress::NoProgress,
        )
        .unwrap();
        // `analyze --json` gives the same figures as the library run the pages are read
        // against (so the PDF's numbers are the JSON's).
        let o = bin()
            .arg("analyze")
            .arg(demo(name))
            .args(["--json", "-"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for (r, j) in report.rules.iter().zip(json["rules"].as_array().unwrap()) {
            assert_eq!(j["id"].as_str(), Some(r.id.as_str()));
            // Equal to the last few bits: parallel sums may add in another order.
            match (j["value"].as_f64(), r.value) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                    "{name} {}: {a} vs {b}",
                    r.id
                ),
                (a, b) => assert_eq!(a, b, "{name} {}", r.id),
            }
            assert_eq!(
                j["status"].as_str(),
                Some(r.status.key()),
                "{name} {}",
                r.id
            );
        }
        let n = pages(&pdf);
        let texts: Vec<String> = (1..=n).map(|k| page_text(&pdf, k)).collect();
        assert!(texts[0].contains("一老一小设施体检报告"), "{}", texts[0]);
        assert!(texts[0].contains(&squeeze(&report.preset_citation)));
        assert!(texts[0].contains("2026-11-27"));
        for r in report
            .rules
            .iter()
            .filter(|r| r.status != Status::NotEvaluable)
        {
            let title = squeeze(&r.title);
            let page = texts
                .iter()
                .find(|t| t.starts_with(&title))
                .unwrap_or_else(|| panic!("{name}: no page for {}", r.id));
            let verdict = squeeze(&format!(
                "结论：{} · 实际 {}",
                r.status.zh(),
                r.value_with_range(false)
            ));
            assert!(
                page.contains(&verdict),
                "{name} {}: {verdict} not in {page}",
                r.id
            );
            // Its map: the map's sources line and projection note (only maps carry them).
            assert!(page.contains("投影"), "{name} {}: no map", r.id);
            assert!(page.contains("数据来源"), "{name} {}: no map sources", r.id);
        }
        // Every rule, evaluable or not, is in the summary table (a title may wrap in its
        // cell, and pdftotext reads the row's other cells between its lines: its first 8
        // characters are one line).
        let summary = &texts[1..].iter().take(2).cloned().collect::<String>();
        for r in &report.rules {
            let head: String = squeeze(&r.title).chars().take(8).collect();
            assert!(
                summary.contains(&head),
                "{name}: {} not in the summary",
                r.id
            );
        }
        assert!(
            texts.last().unwrap().contains("数据说明")
                || texts.iter().any(|t| t.starts_with("数据说明"))
        );
    }
}

#[test]
fn proposals_are_stated_with_their_proof_and_checked_against_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let pj = dir.path().join("p.json");
    let o = bin()
        .arg("propose")
        .arg(demo("harbin"))
        .args(["--kind", "day_care", "--p", "10", "--exact", "--json"])
        .arg(&pj)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pdf = dir.path().join("r.pdf");
    let t0 = std::time::Instant::now();
    let o = bin()
        .arg("report")
        .arg(demo("harbin"))
        .arg("--proposals")
        .arg(&pj)
        .arg("--out")
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("report with proposals: {:?} (debug build)", t0.elapsed());
    if has_poppler() {
        let all: String = (1..=pages(&pdf)).map(|k| page_text(&pdf, k)).collect();
        assert!(all.contains("选址方案"));
        assert!(all.contains("最优解，已证明"), "the proven gap in words");
    }
    // Proposals of another dataset are refused, and no PDF is left behind.
    let bad = dir.path().join("bad.pdf");
    let o = bin()
        .arg("report")
        .arg(demo("heihe"))
        .arg("--proposals")
        .arg(&pj)
        .arg("--out")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("the proposals are of another dataset"), "{e}");
    assert!(!bad.exists());
    // The output must be a .pdf, and never an input.
    let o = bin()
        .arg("report")
        .arg(demo("harbin"))
        .arg("--out")
        .arg(dir.path().join("r.png"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let o = bin()
        .arg("report")
        .arg(demo("harbin"))
        .args(["--paper", "B5", "--out"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--paper 'B5': A4 or A3"));
}

/// The Excel workbook: named sheets in Chinese, the header row frozen, figures stored as
/// numbers. Read with Python's standard zipfile (an .xlsx is zipped XML).
#[test]
fn analyze_xlsx_has_frozen_headers_and_numbers() {
    let has_python = Command::new("python3")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_python {
        eprintln!("SKIPPED: python3 missing (needed to unzip the workbook)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("a.xlsx");
    let o = bin()
        .arg("analyze")
        .arg(demo("harbin"))
        .arg("--xlsx")
        .arg(&x)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = r#"
import sys, zipfile, re
z = zipfile.ZipFile(sys.argv[1])
wb = z.read('xl/workbook.xml').decode()
print('SHEETS', ','.join(re.findall(r'<sheet name="([^"]+)"', wb)))
units = z.read('xl/worksheets/sheet2.xml').decode()
print('FROZEN', 'state="frozen"' in units and 'ySplit="1"' in units)
# Row 2, column E: the first unit's population, a number (no t="s" string type).
cell = re.search(r'<c r="E2"([^>]*)><v>([^<]+)</v>', units)
print('E2', cell.group(1).strip(), cell.group(2))
"#;
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(&x)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("SHEETS 规则,单元,缺口,公平性"), "{out}");
    assert!(out.contains("FROZEN True"), "{out}");
    let ds = carecircle::io::load_path(&demo("harbin")).unwrap();
    let pop = ds.units[0].population.total.unwrap();
    assert!(
        out.contains(&format!("E2  {pop}")),
        "a number cell with {pop}: {out}"
    );
}

/// `report --propose KIND:MODEL:P` computes the proposals and states the proof; `map` writes
/// a vector PDF with its words as text.
#[test]
fn report_proposes_inline_and_map_writes_vector_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    let o = bin()
        .arg("report")
        .arg(demo("harbin"))
        .args(["--propose", "day_care:mclp:5", "--out"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .arg("report")
        .arg(demo("harbin"))
        .args(["--propose", "day_care:fastest:5", "--out"])
        .arg(dir.path().join("x.pdf"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected KIND:MODEL:P"));
    let map = dir.path().join("m.pdf");
    let o = bin()
        .arg("map")
        .arg(demo("harbin"))
        .arg("--out")
        .arg(&map)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(&std::fs::read(&map).unwrap()[..5], b"%PDF-");
    if has_poppler() {
        let all: String = (1..=pages(&pdf)).map(|k| page_text(&pdf, k)).collect();
        assert!(all.contains("选址方案") && all.contains("最优解，已证明"));
        assert!(page_text(&map, 1).contains("15分钟养老服务圈"));
    }
}

/// On the walking network the circle's page shows the walking bands on its map and the
/// straight-line over-claim beside the people out of reach.
#[test]
fn network_report_draws_walking_bands_and_the_overclaim() {
    if !has_poppler() {
        eprintln!("SKIPPED: pdftotext missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("n.pdf");
    let o = bin()
        .arg("report")
        .arg(demo("harbin"))
        .args(["--mode", "network", "--out"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let texts: Vec<String> = (1..=pages(&pdf)).map(|k| page_text(&pdf, k)).collect();
    let circle_map = texts
        .iter()
        .find(|t| t.starts_with("15分钟养老服务圈") && t.contains("投影"))
        .expect("the circle's rule page");
    assert!(circle_map.contains("步行15分钟可达范围"), "{circle_map}");
    assert!(texts.iter().any(|t| t.contains("全域直线高估人数")));
}
