//! The map's layers, each drawn into the SVG inside the frame's clip, in drawing order.

use super::*;

/// Units coloured by `rule` on the finest shaped tier: one path per unit, holes by the
/// even-odd rule.
pub(super) fn units(s: &mut String, f: &Frame, ds: &Dataset, report: &Report, rule: Option<&str>) {
    let finest = ds.finest_shaped_tier();
    for u in &ds.units {
        let (Some(g), true) = (&u.geometry, Some(u.level.tier()) == finest) else {
            continue;
        };
        let Some(c) = unit_fill(report, u.id, rule) else {
            continue;
        };
        let mut d = String::new();
        let mut any = false;
        for p in &g.0 {
            any |= ring_path(&mut d, f, p.exterior());
            for r in p.interiors() {
                ring_path(&mut d, f, r);
            }
        }
        if any {
            let _ = write!(
                s,
                "<path d=\"{d}\" {} fill-rule=\"evenodd\"/>",
                fill_attr(c)
            );
        }
    }
}

/// Walking bands, nearest first, as translucent triangles.
pub(super) fn bands(s: &mut String, f: &Frame, spec: &MapSpec) {
    let colours = [45u8, 60, 80];
    for (k, b) in spec.bands.iter().enumerate() {
        let mut d = String::new();
        for t in b.triangles.chunks_exact(3) {
            let p: Vec<_> = t.iter().map(|v| f.px(v[0], v[1])).collect();
            if p.iter().all(|q| !f.inside(*q, 50.0)) {
                continue;
            }
            let _ = write!(
                d,
                "M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z",
                p[0].0, p[0].1, p[1].0, p[1].1, p[2].0, p[2].1
            );
        }
        if !d.is_empty() {
            let _ = write!(
                s,
                "<path d=\"{d}\" {}/>",
                fill_attr([70, 110, 220, colours[k.min(2)]])
            );
        }
    }
}

/// The street network, one thin grey path.
pub(super) fn streets(s: &mut String, f: &Frame, ds: &Dataset) {
    let mut d = String::new();
    for l in &ds.network {
        let pts: Vec<_> = l.geometry.0.iter().map(|c| f.px(c.x, c.y)).collect();
        if !pts.iter().any(|p| f.inside(*p, 0.0)) {
            continue;
        }
        let _ = write!(d, "M{:.1} {:.1}", pts[0].0, pts[0].1);
        for p in &pts[1..] {
            let _ = write!(d, "L{:.1} {:.1}", p.0, p.1);
        }
    }
    let _ = write!(
        s,
        "<path d=\"{d}\" fill=\"none\" stroke=\"#bebebe\" stroke-width=\"0.6\"/>"
    );
}

/// Unit outlines by tier, the coarser the heavier.
pub(super) fn outlines(s: &mut String, f: &Frame, ds: &Dataset) {
    for tier in 1..=4u8 {
        let mut d = String::new();
        for u in ds.units.iter().filter(|u| u.level.tier() == tier) {
            if let Some(g) = &u.geometry {
                for p in &g.0 {
                    ring_path(&mut d, f, p.exterior());
                }
            }
        }
        if d.is_empty() {
            continue;
        }
        let (width, colour) = match tier {
            1 => (2.0, "#3c3c6e"),
            2 => (1.0, "#5a6ea0"),
            _ => (0.6, "#8c96b4"),
        };
        let _ = write!(
            s,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" \
             stroke-linejoin=\"round\"/>"
        );
    }
}

/// Demand outside the share rule `rule`'s reach, one dot per pixel (thousands of grid
/// points in one pixel add nothing visible). Returns the dots drawn.
pub(super) fn uncovered(s: &mut String, f: &Frame, report: &Report, rule: &str) -> usize {
    let mut n = 0;
    let mut seen = HashSet::new();
    let mut d = String::new();
    for [x, y] in uncovered_points(report, rule) {
        let p = f.px(x, y);
        if f.inside(p, 0.0) && seen.insert((p.0 as i64, p.1 as i64)) {
            let _ = write!(d, "M{:.1} {:.1}h1.6v1.6h-1.6Z", p.0 - 0.8, p.1 - 0.8);
            n += 1;
        }
    }
    if !d.is_empty() {
        let _ = write!(s, "<path d=\"{d}\" {}/>", fill_attr(UNCOVERED_RGBA));
    }
    n
}

/// What the facility layer drew, for the legend.
#[derive(Default)]
pub(super) struct FacilitiesDrawn {
    pub(super) kinds: Vec<FacilityKind>,
    pub(super) synthetic: bool,
    pub(super) planned: bool,
}

/// Facilities by kind colour: existing filled, planned square, synthetic hollow.
pub(super) fn facilities(s: &mut String, f: &Frame, ds: &Dataset) -> FacilitiesDrawn {
    let mut drawn = FacilitiesDrawn::default();
    for fac in &ds.facilities {
        let Some(p) = fac.location else { continue };
        let q = f.px(p.x(), p.y());
        if !f.inside(q, 5.0) {
            continue;
        }
        let c = rgb(kind_rgb(fac.kind));
        if !drawn.kinds.contains(&fac.kind) {
            drawn.kinds.push(fac.kind);
        }
        if fac.synthetic {
            drawn.synthetic = true;
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"none\" stroke=\"{c}\" \
                 stroke-width=\"1.5\"/>",
                q.0, q.1
            );
        } else if fac.status == FacilityStatus::Existing {
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{c}\" stroke=\"#ffffff\" \
                 stroke-width=\"0.8\"/>",
                q.0, q.1
            );
        } else {
            drawn.planned = true;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" fill=\"{c}\"/>",
                q.0 - 3.5,
                q.1 - 3.5
            );
        }
    }
    drawn
}

/// Proposed sites as diamonds with their rank: accepted filled, others hollow. Returns
/// whether any was in view.
pub(super) fn proposals(s: &mut String, f: &Frame, spec: &MapSpec) -> bool {
    let orange = rgb(PROPOSAL_RGB);
    let mut any = false;
    for p in &spec.proposals {
        let q = f.px(p.x, p.y);
        if !f.inside(q, 8.0) {
            continue;
        }
        any = true;
        let pts = format!(
            "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
            q.0,
            q.1 - 7.0,
            q.0 + 7.0,
            q.1,
            q.0,
            q.1 + 7.0,
            q.0 - 7.0,
            q.1
        );
        if p.accepted {
            let _ = write!(
                s,
                "<polygon points=\"{pts}\" fill=\"{orange}\" stroke=\"#000000\" stroke-width=\"1\"/>"
            );
        } else {
            let _ = write!(
                s,
                "<polygon points=\"{pts}\" fill=\"#ffffff\" fill-opacity=\"0.6\" stroke=\"{orange}\" stroke-width=\"2\"/>"
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#000000\">{}</text>",
            q.0 + 8.0,
            q.1 - 6.0,
            p.rank
        );
    }
    any
}
