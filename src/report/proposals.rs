//! Proposals as people and other tools read them: GeoJSON (WGS84 points with rank and
//! gains), CSV, and the text the CLI prints.

use crate::model::FacilityKind;
use crate::siting::propose::{Proposals, RuleDelta};

impl Proposals {
    /// The model in words, with the share for threshold covering.
    pub fn model_text(&self, english: bool) -> String {
        match self.share {
            Some(x) if english => format!(
                "{}, ≥ {:.1} % within reach",
                self.model.name(true),
                x * 100.0
            ),
            Some(x) => format!("{}，≥ {:.1}% 可达", self.model.name(false), x * 100.0),
            None => self.model.name(english).to_string(),
        }
    }

    /// GeoJSON of the proposals (WGS84), one point per site with its rank and gains.
    pub fn to_geojson(&self) -> serde_json::Value {
        let features: Vec<serde_json::Value> = self
            .proposals
            .iter()
            .map(|p| {
                serde_json::json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                    "properties": {
                        "rank": p.rank,
                        "candidate_id": p.candidate_id,
                        "name": p.name,
                        "kind": self.kind,
                        "status": "proposed",
                        "origin": p.origin,
                        "unit_code": p.unit_code,
                        "unit_name": p.unit_name,
                        "marginal_people": p.marginal_people,
                        "places": p.places,
                        "fixes": p.fixes.join(";"),
                    }
                })
            })
            .collect();
        serde_json::json!({
            "type": "FeatureCollection",
            "properties": {
                "dataset": self.dataset, "preset": self.preset, "model": self.model,
                "mode": self.mode, "radius_m": self.radius_m, "objective": self.objective,
                "bound": self.bound, "gap": self.gap, "status": self.status,
            },
            "features": features,
        })
    }

    /// CSV (UTF-8 with BOM so Excel shows Chinese), one row per proposal.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "rank",
            "candidate_id",
            "name",
            "kind",
            "origin",
            "lon",
            "lat",
            "unit_code",
            "unit_name",
            "marginal_people",
            "places",
            "fixes",
        ]);
        for p in &self.proposals {
            let _ = w.write_record([
                p.rank.to_string(),
                p.candidate_id.clone(),
                p.name.clone(),
                self.kind.to_string(),
                p.origin.to_string(),
                format!("{:.6}", p.lon),
                format!("{:.6}", p.lat),
                p.unit_code.clone(),
                p.unit_name.clone(),
                format!("{:.1}", p.marginal_people),
                p.places.map(|x| format!("{x:.0}")).unwrap_or_default(),
                p.fixes.join(";"),
            ]);
        }
        let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
        format!("\u{feff}{body}")
    }

    /// A readable summary, Chinese or English.
    pub fn to_text(&self, english: bool) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        // Read back from a project file the key may be anything: show it as it is.
        let kind = FacilityKind::parse(&self.kind);
        let kind_name = |en: bool| match kind {
            Some(k) if en => k.en().to_owned(),
            Some(k) => k.zh().to_owned(),
            None => self.kind.to_string(),
        };
        let pct = |a: f64| {
            if self.people_total > 0.0 {
                a / self.people_total * 100.0
            } else {
                0.0
            }
        };
        if english {
            let _ = writeln!(
                s,
                "Proposals: {} × {} ({}, {} mode, {:.0} m), {} candidate sites",
                self.proposals.len(),
                kind_name(true),
                self.model_text(true),
                self.mode,
                self.radius_m,
                self.candidates
            );
            let _ = writeln!(
                s,
                "Covered {}: {:.0} → {:.0} of {:.0} ({:.1}% → {:.1}%)",
                self.group.en(),
                self.people_covered_before,
                self.people_covered_after,
                self.people_total,
                pct(self.people_covered_before),
                pct(self.people_covered_after)
            );
        } else {
            let _ = writeln!(
                s,
                "选址方案：新增 {} 处{}（{}，{}，{:.0} 米），候选点 {} 个",
                self.proposals.len(),
                kind_name(false),
                self.model_text(false),
                if self.mode == "network" {
                    "步行路网"
                } else {
                    "直线距离"
                },
                self.radius_m,
                self.candidates
            );
            let _ = writeln!(
                s,
                "覆盖{}：{:.0} → {:.0} / {:.0}（{:.1}% → {:.1}%）",
                self.group.zh(),
                self.people_covered_before,
                self.people_covered_after,
                self.people_total,
                pct(self.people_covered_before),
                pct(self.people_covered_after)
            );
        }
        match (self.bound, self.gap) {
            (Some(b), Some(g)) => {
                let _ = writeln!(
                    s,
                    "{} {:.1}, {} {:.1}, {} {:.3}% ({}), {:.2} s",
                    if english { "objective" } else { "目标值" },
                    self.objective,
                    if english { "bound" } else { "上界/下界" },
                    b,
                    if english { "gap" } else { "最优性差距" },
                    g * 100.0,
                    self.status,
                    self.seconds
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "{} {:.1} ({}; {} {:.1}), {:.2} s",
                    if english { "objective" } else { "目标值" },
                    self.objective,
                    if english {
                        "heuristic, no bound: add --exact for a proven gap"
                    } else {
                        "启发式，无界；加 --exact 求证最优性差距"
                    },
                    if english { "greedy" } else { "贪心" },
                    self.greedy_objective,
                    self.seconds
                );
            }
        }
        self.site_table(&mut s, english);
        self.before_after(&mut s, english);
        for n in &self.notes {
            let _ = writeln!(s, "  ! {n}");
        }
        s
    }

    /// Every rule about the kind, before → after.
    fn before_after(&self, s: &mut String, english: bool) {
        use std::fmt::Write;
        let _ = writeln!(
            s,
            "{}",
            if english {
                "Before → after:"
            } else {
                "方案前 → 方案后："
            }
        );
        for r in &self.rules {
            if !r.evaluable() {
                let _ = writeln!(
                    s,
                    "  {:<34} {}",
                    r.title_in(english),
                    RuleDelta::not_evaluable_text(english)
                );
                continue;
            }
            let f = |v: Option<f64>| match v {
                Some(v) if r.test == "places_per_1000" => format!("{v:.2}"),
                Some(v) => format!("{:.1}%", v * 100.0),
                None => "–".into(),
            };
            let _ = writeln!(
                s,
                "  {:<34} {} → {}   {} {}/{} → {}/{}",
                r.title_in(english),
                f(r.before),
                f(r.after),
                if english {
                    "units meeting"
                } else {
                    "达标单元"
                },
                r.units_meeting_before,
                r.units_total,
                r.units_meeting_after,
                r.units_total
            );
            if let (Some(gb), Some(ga)) = (r.gini_before, r.gini_after) {
                let _ = writeln!(
                    s,
                    "  {:<34} Gini {gb:.3} → {ga:.3}",
                    if english { "  equity" } else { "  公平性" },
                );
            }
        }
    }

    /// Places added, then one row per ranked site: candidate, unit, people gained,
    /// places, the unit rules it brings to target.
    fn site_table(&self, s: &mut String, english: bool) {
        use std::fmt::Write;
        if self.places_added > 0.0 {
            let _ = writeln!(
                s,
                "{} {:.0}",
                if english {
                    "nursery places added"
                } else {
                    "新增托位"
                },
                self.places_added
            );
        }
        let _ = writeln!(
            s,
            "{:>4}  {:<16} {:<20} {:>10} {:>7}  {}",
            "#",
            if english { "site" } else { "候选点" },
            if english { "unit" } else { "所在单元" },
            if english { "+people" } else { "新增覆盖" },
            if english { "places" } else { "托位" },
            if english { "fixes" } else { "补齐指标" }
        );
        for p in &self.proposals {
            let _ = writeln!(
                s,
                "{:>4}  {:<16} {:<20} {:>10.0} {:>7}  {}",
                p.rank,
                p.candidate_id,
                format!("{} {}", p.unit_name, p.unit_code),
                p.marginal_people,
                p.places.map(|x| format!("{x:.0}")).unwrap_or_default(),
                p.fixes.join(", ")
            );
        }
    }
}
