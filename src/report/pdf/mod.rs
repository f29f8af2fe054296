//! The PDF report a bureau hands to the city government (体检报告): cover, the summary
//! table a meeting reads first, one page per evaluated rule with its map, the 15-minute
//! circle by district, the proposals, and data notes.
//!
//! Every page is an SVG drawn here (text, tables, charts) plus, on rule pages, the map that
//! `report::map` draws for `carecircle map`, placed into the page. krilla turns each into
//! PDF with real, searchable text and the bundled CJK font embedded (subset), so the words
//! and numbers can be copied out and `pdftotext` reads them back.

mod pages;

use std::sync::Arc;

use krilla::geom::{Size, Transform};
use krilla::page::PageSettings;
use krilla::Document;
use krilla_svg::{SurfaceExt, SvgSettings};

use crate::coverage::Report;
use crate::model::Dataset;
use crate::report::map::{CJK_FONT, FONT_FAMILY};
use crate::siting::propose::Proposals;
use crate::{Error, Result};

pub use pages::{gap_words, Page, Paper};

/// What the report says and how.
#[derive(Clone, Debug)]
pub struct PdfOptions {
    pub english: bool,
    pub paper: Paper,
    /// The date on the cover ("2026-11-27").
    pub date: String,
    /// Walking-network mode: the elderly circle's walking bands for its map
    /// (`report::map::band_marks`); empty on straight lines.
    pub bands: Vec<crate::report::map::BandMark>,
}

/// The report as PDF bytes. `proposals` (from `propose --json` on the same data) add their
/// page; proposals naming units the data does not have are refused.
pub fn report_pdf(
    ds: &Dataset,
    report: &Report,
    proposals: Option<&Proposals>,
    opts: &PdfOptions,
) -> Result<Vec<u8>> {
    if ds.units.is_empty() {
        return Err(Error::input(
            format!("{}: no units in the data: nothing to report on", ds.name),
            format!("{}：数据中没有行政单元，无法生成报告", ds.name),
        ));
    }
    if report
        .rules
        .iter()
        .all(|r| r.status == crate::coverage::analysis::Status::NotEvaluable)
    {
        return Err(Error::input(
            format!(
                "{}: no rule of {} can be evaluated on this data: nothing to report",
                ds.name, report.preset
            ),
            format!(
                "{}：{} 的规则在此数据上都无法评估，无法生成报告",
                ds.name, report.preset
            ),
        ));
    }
    if let Some(p) = proposals {
        pages::check_proposals(ds, p)?;
    }
    let pages = pages::build(ds, report, proposals, opts);
    render(&pages)
}

/// Each page's SVG and maps through krilla into one PDF.
pub fn render(pages: &[Page]) -> Result<Vec<u8>> {
    let options = svg_options();
    let parse = |svg: &str| {
        usvg047::Tree::from_str(svg, &options)
            .map_err(|e| Error::Analysis(format!("report page SVG: {e}")))
    };
    let mut doc = Document::new();
    for page in pages {
        let (w, h) = page.size;
        let tree = parse(&page.svg)?;
        let size = Size::from_wh(w as f32, h as f32).expect("positive paper");
        let mut p = doc.start_page_with(PageSettings::new(size));
        let mut surface = p.surface();
        surface.draw_svg(&tree, size, SvgSettings::default());
        for (svg, [x, y, mw, mh]) in &page.maps {
            let map = parse(svg)?;
            let ms = Size::from_wh(*mw as f32, *mh as f32).expect("positive map box");
            surface.push_transform(&Transform::from_translate(*x as f32, *y as f32));
            surface.draw_svg(&map, ms, SvgSettings::default());
            surface.pop();
        }
        surface.finish();
        p.finish();
    }
    doc.finish()
        .map_err(|e| Error::Analysis(format!("writing the PDF: {e:?}")))
}

/// usvg with only the bundled font (no system fonts: the same output everywhere).
fn svg_options() -> usvg047::Options<'static> {
    let mut fontdb = usvg047::fontdb::Database::new();
    fontdb.load_font_data(CJK_FONT.to_vec());
    usvg047::Options {
        font_family: FONT_FAMILY.to_owned(),
        fontdb: Arc::new(fontdb),
        ..Default::default()
    }
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let (y, m, d) = crate::model::edits::civil_date(days);
    format!("{y:04}-{m:02}-{d:02}")
}
