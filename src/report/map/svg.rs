//! Drawing a presentation map as SVG (then PNG through resvg with the bundled font):
//! layout, title and subtitle, units, streets, bands, facilities, proposals, legend, scale
//! bar, north arrow and sources.

use super::*;

pub(super) const HEADER: f64 = 64.0;

pub(super) const SOURCE_LINE: f64 = 13.0;

/// Splits `text` into lines of at most `width` pixels (estimated), at " · " separators
/// where possible.
pub(crate) fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines = vec![String::new()];
    for part in text.split(" · ") {
        let cur = lines.last_mut().expect("non-empty");
        let joined = if cur.is_empty() {
            part.to_owned()
        } else {
            format!("{cur} · {part}")
        };
        if text_width(&joined, size) <= width || cur.is_empty() {
            *cur = joined;
        } else {
            lines.push(part.to_owned());
        }
    }
    // A single part wider than the line: cut it by characters.
    let mut out = Vec::new();
    for l in lines {
        let mut cur = String::new();
        for c in l.chars() {
            cur.push(c);
            if text_width(&cur, size) > width {
                let last = cur.pop().expect("pushed");
                out.push(std::mem::take(&mut cur));
                cur.push(last);
            }
        }
        out.push(cur);
    }
    out
}

/// Rough text width for layout (the font is not measured here): CJK glyphs are square,
/// Latin ones about half as wide.
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.56 } else { 1.0 })
        .sum::<f64>()
        * size
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn rgb(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

pub(super) fn fill_attr(c: Rgba) -> String {
    format!(
        "fill=\"{}\" fill-opacity=\"{:.3}\"",
        rgb([c[0], c[1], c[2]]),
        c[3] as f64 / 255.0
    )
}

/// The longest round length (1, 2 or 5 × 10ⁿ m) not above `target_m`, and its label
/// ("500 m", "2 km"): the scale bar of the app and of exported maps.
pub fn scale_bar_length(target_m: f64) -> (f64, String) {
    let pow = 10f64.powf(target_m.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .rfind(|m| *m <= target_m)
        .unwrap_or(pow);
    let label = if nice >= 1000.0 {
        format!("{} km", nice / 1000.0)
    } else {
        format!("{nice} m")
    };
    (nice, label)
}

/// Source lines under the map, wrapped to the width.
pub(super) fn source_lines(ds: &Dataset, spec: &MapSpec) -> Vec<String> {
    let english = spec.english;
    let mut sources: Vec<String> = ds.attribution.clone();
    sources.push(format!(
        "{} {}",
        if english { "Projection" } else { "投影" },
        ds.projection.describe()
    ));
    wrap(
        &format!(
            "{}: {}",
            if english { "Data" } else { "数据来源" },
            sources.join(" · ")
        ),
        10.5,
        spec.width.max(200) as f64 - 32.0,
    )
}

/// The layout of the map `spec` describes: the frame between title and sources, and the
/// view (the spec's, or the finest units fitted into the frame).
pub fn layout(ds: &Dataset, spec: &MapSpec) -> Frame {
    let (w, h) = (spec.width.max(200) as f64, spec.height.max(200) as f64);
    let footer = 10.0 + source_lines(ds, spec).len() as f64 * SOURCE_LINE;
    let panel = if spec.legend_panel {
        LEGEND_PANEL.min(w * 0.4)
    } else {
        0.0
    };
    let (x0, y0, x1, y1) = (0.0, HEADER, w - panel, h - footer);
    let (center, scale) = match (spec.center, spec.scale) {
        (Some(c), Some(s)) if s > 0.0 && s.is_finite() => (c, s),
        _ => match ds.focus_bounds() {
            Some(b) => (
                [b.center().x, b.center().y],
                ((x1 - x0) / b.width().max(1.0)).min((y1 - y0) / b.height().max(1.0)) * 0.92,
            ),
            None => ([0.0, 0.0], 1e-3),
        },
    };
    Frame {
        center,
        scale,
        cx: (x0 + x1) / 2.0,
        cy: (y0 + y1) / 2.0,
        x0,
        y0,
        x1,
        y1,
    }
}

/// Appends a ring as path data, dropping vertices closer than ~0.7 px to the last one
/// kept (the scale's own simplification). Returns false when the ring is off the frame.
pub(super) fn ring_path(out: &mut String, f: &Frame, ring: &geo::LineString<f64>) -> bool {
    let pts: Vec<(f64, f64)> = ring.0.iter().map(|c| f.px(c.x, c.y)).collect();
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &pts {
        minx = minx.min(p.0);
        miny = miny.min(p.1);
        maxx = maxx.max(p.0);
        maxy = maxy.max(p.1);
    }
    if pts.len() < 3 || maxx < f.x0 || minx > f.x1 || maxy < f.y0 || miny > f.y1 {
        return false;
    }
    let mut last = pts[0];
    let _ = write!(out, "M{:.1} {:.1}", last.0, last.1);
    for p in &pts[1..] {
        if (p.0 - last.0).abs() + (p.1 - last.1).abs() >= 0.7 {
            let _ = write!(out, "L{:.1} {:.1}", p.0, p.1);
            last = *p;
        }
    }
    out.push('Z');
    true
}

pub(super) fn kind_name(kind: FacilityKind, english: bool) -> &'static str {
    if english {
        kind.en()
    } else {
        kind.zh()
    }
}

/// The map as an SVG document: title and subtitle on top, the map frame (units coloured by
/// `spec.rule`, outlines, streets, walking bands, uncovered demand, facilities, proposals),
/// legend, scale bar and north arrow inside it, and the data sources underneath.
pub fn map_svg(ds: &Dataset, report: Option<&Report>, spec: &MapSpec) -> String {
    let (w, h) = (spec.width.max(200) as f64, spec.height.max(200) as f64);
    let sources = source_lines(ds, spec);
    let f = layout(ds, spec);
    let (x0, y0, x1, y1) = (f.x0, f.y0, f.x1, f.y1);
    let mut s = String::with_capacity(1 << 20);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_FAMILY}\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\
         <clipPath id=\"frame\"><rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\"/></clipPath>\
         <rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"#f6f5f0\"/>\
         <g clip-path=\"url(#frame)\">",
        x1 - x0,
        y1 - y0,
        x1 - x0,
        y1 - y0
    );
    let rule = spec.rule.as_deref();
    let on = &spec.layers;
    if let (true, Some(report)) = (on.units, report) {
        layers::units(&mut s, &f, ds, report, rule);
    }
    if on.bands {
        layers::bands(&mut s, &f, spec);
    }
    if on.streets && !ds.network.is_empty() {
        layers::streets(&mut s, &f, ds);
    }
    if on.outlines {
        layers::outlines(&mut s, &f, ds);
    }
    let uncovered_rule = rule.filter(|_| report.is_some_and(|r| is_share_rule(r, rule)));
    let n_uncovered = match (on.uncovered, report, uncovered_rule) {
        (true, Some(report), Some(id)) => layers::uncovered(&mut s, &f, report, id),
        _ => 0,
    };
    let facilities = if on.facilities {
        layers::facilities(&mut s, &f, ds)
    } else {
        layers::FacilitiesDrawn::default()
    };
    let proposals_drawn = on.proposals && layers::proposals(&mut s, &f, spec);
    s.push_str("</g>");
    let drawn = Drawn {
        kinds: &facilities.kinds,
        uncovered: n_uncovered,
        planned: facilities.planned,
        synthetic: facilities.synthetic,
        proposals: proposals_drawn,
    };
    legend(&mut s, &f, spec, report, drawn);
    furniture(&mut s, &f, spec, &sources);
    s.push_str("</svg>");
    s
}

/// What the map drew, for the legend to list only what is there.
#[derive(Clone, Copy)]
struct Drawn<'a> {
    kinds: &'a [FacilityKind],
    uncovered: usize,
    planned: bool,
    synthetic: bool,
    proposals: bool,
}

/// The legend, inside the frame's top-left corner on a white card: the choropleth's
/// classes, bands, uncovered demand, each facility kind drawn, planned, synthetic,
/// proposals.
fn legend(s: &mut String, f: &Frame, spec: &MapSpec, report: Option<&Report>, drawn: Drawn) {
    let english = spec.english;
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let rule = spec.rule.as_deref();
    // Print layout: in the column right of the data, under the north arrow.
    let (x0, y0) = if spec.legend_panel {
        (f.x1, f.y0 + 50.0)
    } else {
        (f.x0, f.y0)
    };
    let orange = rgb(PROPOSAL_RGB);
    let Drawn {
        kinds: kinds_drawn,
        uncovered: n_uncovered,
        planned: planned_drawn,
        synthetic: synthetic_drawn,
        proposals: proposals_drawn,
    } = drawn;
    // Legend, inside the frame's top-left corner on a white card.
    let mut rows: Vec<(String, String)> = Vec::new(); // (symbol svg at 0,0, label)
    let mut legend_title = None;
    if let (true, Some(report)) = (spec.layers.units, report) {
        let (title, items) = choropleth_legend(report, rule, english);
        legend_title = Some(title);
        for (c, label) in items {
            rows.push((
                format!(
                    "<rect x=\"0\" y=\"-11\" width=\"16\" height=\"12\" {} stroke=\"#666666\" stroke-width=\"0.5\"/>",
                    fill_attr(c)
                ),
                label,
            ));
        }
    }
    if spec.layers.bands {
        for b in &spec.bands {
            rows.push((
                format!(
                    "<rect x=\"0\" y=\"-11\" width=\"16\" height=\"12\" {}/>",
                    fill_attr([70, 110, 220, 110])
                ),
                format!(
                    "{} {:.0} {}",
                    t("步行", "Walk"),
                    b.minutes,
                    t("分钟可达范围", "min reach")
                ),
            ));
        }
    }
    if n_uncovered > 0 {
        rows.push((
            format!(
                "<rect x=\"6\" y=\"-7\" width=\"4\" height=\"4\" {}/>",
                fill_attr(UNCOVERED_RGBA)
            ),
            t("未覆盖的需求点", "Uncovered demand").to_owned(),
        ));
    }
    for k in FacilityKind::ALL {
        if kinds_drawn.contains(&k) {
            rows.push((
                format!(
                    "<circle cx=\"8\" cy=\"-5\" r=\"4.5\" fill=\"{}\"/>",
                    rgb(kind_rgb(k))
                ),
                kind_name(k, english).to_owned(),
            ));
        }
    }
    if planned_drawn {
        rows.push((
            "<rect x=\"4\" y=\"-9\" width=\"8\" height=\"8\" fill=\"#777777\"/>".into(),
            t("方块 = 规划设施", "Square = planned facility").to_owned(),
        ));
    }
    if synthetic_drawn {
        rows.push((
            "<circle cx=\"8\" cy=\"-5\" r=\"3.5\" fill=\"none\" stroke=\"#b45a00\" stroke-width=\"1.5\"/>".into(),
            t("空心圆 = 模拟设施（非真实数据）", "Hollow ring = synthetic facility (not real)").to_owned(),
        ));
    }
    if proposals_drawn {
        rows.push((
            format!("<polygon points=\"8,-12 15,-5 8,2 1,-5\" fill=\"{orange}\" stroke=\"#000000\" stroke-width=\"1\"/>"),
            t("建议新增选址（空心 = 待定）", "Proposed site (hollow = undecided)").to_owned(),
        ));
    }
    // Print layout: the column is narrow and the map's title already names the rule.
    if spec.legend_panel {
        legend_title = None;
    }
    legend_card(s, x0, y0, legend_title.as_deref(), &rows);
}

/// The legend's white card at the frame's corner: its title and one row per symbol.
fn legend_card(
    s: &mut String,
    x0: f64,
    y0: f64,
    legend_title: Option<&str>,
    rows: &[(String, String)],
) {
    if rows.is_empty() {
        return;
    }
    let title_w = legend_title.map_or(0.0, |t| text_width(t, 14.0));
    let lw = rows
        .iter()
        .map(|(_, l)| 24.0 + text_width(l, 12.0))
        .fold(title_w, f64::max)
        + 20.0;
    let lh = 14.0 + rows.len() as f64 * 18.0 + if legend_title.is_some() { 22.0 } else { 0.0 };
    let (lx, ly) = (x0 + 10.0, y0 + 10.0);
    let _ = write!(
        s,
        "<rect x=\"{lx}\" y=\"{ly}\" width=\"{lw:.0}\" height=\"{lh:.0}\" rx=\"4\" fill=\"#ffffff\" \
         fill-opacity=\"0.9\" stroke=\"#999999\" stroke-width=\"0.6\"/>"
    );
    let mut y = ly + 8.0;
    if let Some(title) = legend_title {
        y += 16.0;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"14\" font-weight=\"bold\" fill=\"#000000\">{}</text>",
            lx + 10.0,
            esc(title)
        );
        y += 6.0;
    }
    for (sym, label) in rows {
        y += 18.0;
        let _ = write!(
            s,
            "<g transform=\"translate({:.1} {y:.1})\">{sym}</g>\
             <text x=\"{:.1}\" y=\"{y:.1}\" font-size=\"12\" fill=\"#000000\">{}</text>",
            lx + 10.0,
            lx + 34.0,
            esc(label)
        );
    }
}

/// What every map carries around the data: the scale bar, the north arrow, the title and
/// subtitle, and the sources under the frame.
fn furniture(s: &mut String, f: &Frame, spec: &MapSpec, sources: &[String]) {
    let (x0, y0, x1, y1, scale) = (f.x0, f.y0, f.x1, f.y1, f.scale);
    // Scale bar: a round length of about a fifth of the frame (print layout: in the
    // legend column, no longer than it).
    let target = if spec.legend_panel {
        ((x1 - x0) / 5.0).min(LEGEND_PANEL - 50.0)
    } else {
        (x1 - x0) / 5.0
    };
    let (nice, label) = scale_bar_length(target / scale);
    let len = nice * scale;
    let (sx, sy) = if spec.legend_panel {
        (x1 + 20.0, y1 - 18.0)
    } else {
        (x0 + 20.0, y1 - 18.0)
    };
    let _ = write!(
        s,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"30\" fill=\"#ffffff\" fill-opacity=\"0.8\"/>\
         <path d=\"M{sx:.1} {:.1}V{sy:.1}H{:.1}V{:.1}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"2\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#000000\">{label}</text>",
        sx - 8.0,
        sy - 24.0,
        len + 16.0,
        sy - 6.0,
        sx + len,
        sy - 6.0,
        sx + len / 2.0,
        sy - 9.0
    );
    // North arrow (the local projection's grid north; within a degree of true north).
    let (nx, ny) = if spec.legend_panel {
        (x1 + 30.0, y0 + 10.0)
    } else {
        (x1 - 30.0, y0 + 16.0)
    };
    let _ = write!(
        s,
        "<polygon points=\"{nx:.1},{ny:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"#000000\"/>\
         <text x=\"{nx:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#000000\">N</text>",
        nx - 7.0,
        ny + 20.0,
        nx + 7.0,
        ny + 20.0,
        ny + 34.0
    );
    // Header and footer. Title and subtitle shrink to the page's width rather than run off
    // it (a portrait page is narrow for a long rule title).
    let room = spec.width.max(200) as f64 - 32.0;
    let fit = |text: &str, size: f64| size.min(room / text_width(text, 1.0).max(1.0)).max(7.0);
    let _ = write!(
        s,
        "<text x=\"16\" y=\"30\" font-size=\"{:.1}\" font-weight=\"bold\" fill=\"#000000\">{}</text>\
         <text x=\"16\" y=\"52\" font-size=\"{:.1}\" fill=\"#444444\">{}</text>",
        fit(&spec.title, 22.0),
        esc(&spec.title),
        fit(&spec.subtitle, 13.0),
        esc(&spec.subtitle)
    );
    for (k, line) in sources.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"16\" y=\"{:.1}\" font-size=\"10.5\" fill=\"#555555\">{}</text>",
            y1 + 16.0 + k as f64 * SOURCE_LINE,
            esc(line)
        );
    }
}

/// Rasterises an SVG made by [`map_svg`] with the bundled font.
pub fn svg_to_png(svg: &str) -> std::result::Result<Vec<u8>, String> {
    svg_to_png_at(svg, 1.0)
}

/// Rasterises at `zoom` × the SVG's pixel size (300 dpi from a 96-to-the-inch layout:
/// 3.125), every symbol and word scaled with it.
pub fn svg_to_png_at(svg: &str, zoom: f32) -> std::result::Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut fontdb = usvg::fontdb::Database::new();
    fontdb.load_font_data(CJK_FONT.to_vec());
    let opt = usvg::Options {
        font_family: FONT_FAMILY.to_owned(),
        fontdb: Arc::new(fontdb),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| format!("SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let (pw, ph) = (
        (size.width() as f32 * zoom).round() as u32,
        (size.height() as f32 * zoom).round() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(pw, ph)
        .ok_or_else(|| format!("cannot allocate a {pw}×{ph} image"))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(zoom, zoom),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| format!("PNG: {e}"))
}

/// Writes the map to `path` atomically: `.svg` as SVG, anything else as PNG.
pub fn write_map(ds: &Dataset, report: Option<&Report>, spec: &MapSpec, path: &Path) -> Result<()> {
    use crate::io::write::OutputFormat;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    // PNG bytes never go under a .jpg name.
    let format = match ext.as_str() {
        "svg" => OutputFormat::Svg,
        "pdf" => OutputFormat::Pdf,
        _ => OutputFormat::Png,
    };
    format.check(path)?;
    let svg = map_svg(ds, report, spec);
    let bytes = match format {
        OutputFormat::Svg => svg.into_bytes(),
        // Vector PDF: a page the map's size at 96 px to the inch (0.75 pt a pixel), the
        // text real and the font embedded.
        OutputFormat::Pdf => crate::report::pdf::render(&[crate::report::pdf::Page {
            svg,
            maps: Vec::new(),
            size: (
                spec.width.max(200) as f64 * 0.75,
                spec.height.max(200) as f64 * 0.75,
            ),
        }])?,
        _ => svg_to_png_at(&svg, (spec.dpi / 96.0) as f32).map_err(|e| Error::format(path, e))?,
    };
    crate::io::write::write_atomic(path, &bytes)
}
