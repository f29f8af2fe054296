//! Inspect: a unit's figures and each rule's verdict, its facilities and their
//! qualifiers, and the nearest facility of each kind to the clicked spot.

use super::*;

impl CareCircleApp {
    pub(super) fn inspect_ui(&mut self, ctx: &egui::Context) {
        let (Some(ds), Some(u)) = (self.data.dataset.clone(), self.data.selected) else {
            return;
        };
        let unit = ds.unit(u);
        let mut open = true;
        let mut edit_clicked = None;
        let en = self.lang == Lang::En;
        egui::Window::new(format!("{}: {}", self.t("查看", "Inspect"), unit.name))
            .id(egui::Id::unique("inspect"))
            // Over the map's right edge, clear of the Rules panel and the dashboard.
            .anchor(egui::Align2::RIGHT_TOP, [-360.0, 40.0])
            .open(&mut open)
            .default_width(380.0)
            .show(ctx, |ui| {
                ui.label(format!(
                    "{} {} · {}",
                    if en {
                        unit.level.key()
                    } else {
                        unit.level.zh()
                    },
                    unit.name,
                    unit.code
                ));
                if let Some(r) = &self.data.report {
                    let ur = &r.units[u.index()];
                    let num = |x: Option<f64>| x.map(|v| format!("{v:.0}")).unwrap_or("-".into());
                    ui.label(format!(
                        "{} {} · 60+ {} · 0-3 {}",
                        self.t("人口", "Population"),
                        num(ur.population),
                        num(ur.pop_60plus),
                        num(ur.pop_0_3)
                    ));
                    ui.label(format!(
                        "{} {:.0} · {} {}",
                        self.t("托位", "Nursery places"),
                        ur.nursery_places,
                        self.t("每千人", "per 1000"),
                        ur.nursery_places_per_1000
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or("-".into())
                    ));
                    for (k, n) in &ur.facilities {
                        let kind = FacilityKind::parse(k).expect("own keys");
                        ui.label(format!("{}: {n}", if en { kind.en() } else { kind.zh() }));
                    }
                    // In the unit: its point inside the unit's shape (bounding box first,
                    // so this stays cheap per frame), or joined to it by code or name.
                    let shape = unit.geometry.as_ref();
                    let bbox = shape.and_then(geo::BoundingRect::bounding_rect);
                    let inside = |p: geo::Point<f64>| {
                        bbox.is_some_and(|b| {
                            p.x() >= b.min().x
                                && p.x() <= b.max().x
                                && p.y() >= b.min().y
                                && p.y() <= b.max().y
                        }) && shape.is_some_and(|g| geo::Intersects::intersects(g, &p))
                    };
                    let here: Vec<&crate::model::Facility> = ds
                        .facilities
                        .iter()
                        .filter(|f| match f.location {
                            Some(p) => inside(p),
                            None => f.unit.is_some_and(|fu| ds.ancestors(fu).any(|a| a == u)),
                        })
                        .take(200)
                        .collect();
                    if !here.is_empty() {
                        ui.collapsing(
                            format!(
                                "{} ({})",
                                self.t("设施及其属性", "Facilities and attributes"),
                                here.len()
                            ),
                            |ui| {
                                for f in &here {
                                    ui.horizontal_wrapped(|ui| {
                                        // Field corrections start here: the facility opens
                                        // in the Edit panel's form.
                                        if ui
                                            .small_button(self.t("编辑", "Edit"))
                                            .on_hover_text(self.t(
                                                "在“编辑设施”中修改此设施",
                                                "Edit this facility in Edit facilities",
                                            ))
                                            .clicked()
                                        {
                                            edit_clicked =
                                                Some(crate::model::edits::key_of(&ds, f));
                                        }
                                        ui.label(facility_line(f, en));
                                    });
                                }
                            },
                        );
                    }
                    ui.separator();
                    for rule in &r.rules {
                        let Some(st) = ur.rules.get(&rule.id) else {
                            continue;
                        };
                        use crate::coverage::analysis::Status;
                        let (c, verdict) = match st.status {
                            Status::Pass => {
                                (Color32::from_rgb(30, 130, 60), self.t("达标", "PASS"))
                            }
                            Status::Fail => {
                                (Color32::from_rgb(200, 50, 40), self.t("未达标", "FAIL"))
                            }
                            Status::Unknown => {
                                (Color32::from_rgb(160, 120, 0), self.t("未知", "unknown"))
                            }
                            Status::NotEvaluable => (Color32::GRAY, self.t("无法评估", "n/a")),
                        };
                        ui.horizontal_wrapped(|ui| {
                            ui.colored_label(c, verdict);
                            ui.label(rule.title_in(en));
                            if let (Some(false), Some(d)) = (st.pass, st.deficit) {
                                ui.label(format!("({} {d:.0})", self.t("缺口", "short")));
                            }
                        })
                        .response
                        .on_hover_text(format!(
                            "{}\n{}{}",
                            rule.citation.cite(),
                            rule.citation.quote,
                            st.reason
                                .as_ref()
                                .map(|r| format!("\n{r}"))
                                .unwrap_or_default()
                        ));
                    }
                }
                if self.data.spot.is_some() {
                    self.spot_lines(ui, &ds);
                }
            });
        if !open {
            self.data.selected = None;
        }
        if let Some(k) = edit_clicked {
            self.commands.push(Command::SetEditing(true));
            self.commands.push(Command::SelectFacility(Some(k)));
        }
    }

    /// The clicked spot: the nearest facility of each kind, straight-line and walking.
    fn spot_lines(&self, ui: &mut egui::Ui, ds: &Dataset) {
        let en = self.lang == Lang::En;
        ui.separator();
        ui.label(self.t(
            "点击位置最近的设施",
            "Nearest facilities to the clicked spot",
        ));
        let speed = self.scenario.rules().settings.walk_speed_m_s;
        for fact in self.data.spot_facts.iter().flatten() {
            let f = ds.facility(fact.facility);
            let mut line = format!(
                "{}: {} · {} {:.0} m",
                if en { f.kind.en() } else { f.kind.zh() },
                f.name,
                self.t("直线", "straight"),
                fact.straight_m
            );
            match fact.walk_m {
                Some(c) => line.push_str(&format!(
                    " · {} {:.0} m = {:.1} min",
                    self.t("步行", "walk"),
                    c,
                    c / speed / 60.0
                )),
                None if self.data.graph.is_some() => line
                    .push_str(self.t(" · 步行5公里内不可达", " · not reachable within 5 km walk")),
                None => {}
            }
            ui.label(line);
        }
    }
}

/// One facility as Inspect lists it: name, kind, status and year, capacity and each
/// qualifier as yes / no / unknown (unknown is never shown as no).
pub(super) fn facility_line(f: &crate::model::Facility, en: bool) -> String {
    use crate::model::Qualifier;
    let yn = |v: Option<bool>| match (v, en) {
        (Some(true), false) => "是",
        (Some(false), false) => "否",
        (None, false) => "未知",
        (Some(true), true) => "yes",
        (Some(false), true) => "no",
        (None, true) => "unknown",
    };
    let quals = Qualifier::ALL
        .iter()
        .map(|q| {
            format!(
                "{} {}",
                if en { q.en() } else { q.zh() },
                yn(f.qualifiers.get(*q))
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let status = match (f.status, en) {
        (crate::model::FacilityStatus::Existing, false) => "现有",
        (crate::model::FacilityStatus::Planned, false) => "规划",
        (crate::model::FacilityStatus::Proposed, false) => "建议",
        (crate::model::FacilityStatus::Closed, false) => "已关闭",
        (s, true) => s.key(),
    };
    format!(
        "{} — {} · {}{}{}{}{} · {}{}",
        f.name,
        if en { f.kind.en() } else { f.kind.zh() },
        status,
        f.year.map(|y| format!(" {y}")).unwrap_or_default(),
        if f.renovation {
            if en {
                " (renovation)"
            } else {
                "（改造）"
            }
        } else {
            ""
        },
        f.capacity
            .map(|c| format!(" · {} {c:.0}", if en { "capacity" } else { "容量" }))
            .unwrap_or_default(),
        f.nursing_beds
            .map(|c| format!(
                " · {} {c:.0}",
                if en {
                    "nursing beds"
                } else {
                    "护理型床位"
                }
            ))
            .unwrap_or_default(),
        quals,
        f.qualifiers
            .grade
            .map(|g| format!(" · {} {g}", if en { "grade" } else { "等级" }))
            .unwrap_or_default()
    )
}

/// The nearest facility of one kind to a clicked spot.
pub(super) struct SpotFact {
    facility: crate::model::FacilityId,
    straight_m: f64,
    /// Walking distance (one Dijkstra from the spot, up to 5 km); `None` without a graph or
    /// beyond reach.
    walk_m: Option<f64>,
}

/// For each facility kind, the straight-line nearest facility to `spot`, with its walking
/// distance when the network graph exists.
pub(super) fn spot_facts(
    ds: &Dataset,
    graph: Option<&Graph>,
    spot: [f64; 2],
    max_snap: f64,
) -> Vec<SpotFact> {
    let p = geo::Point::new(spot[0], spot[1]);
    let labels = graph.and_then(|g| {
        g.snap(p, max_snap)
            .map(|s| (g, g.distances_from(&[s], 5000.0)))
    });
    FacilityKind::ALL
        .iter()
        .filter_map(|kind| {
            let (f, d) = ds
                .facilities
                .iter()
                .filter(|f| f.kind == *kind)
                .filter_map(|f| {
                    f.location.map(|l| {
                        (
                            f,
                            ((l.x() - spot[0]).powi(2) + (l.y() - spot[1]).powi(2)).sqrt(),
                        )
                    })
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))?;
            let walk_m = labels.as_ref().and_then(|(g, l)| {
                g.snap(f.location?, max_snap)
                    .and_then(|fs| g.cost_to(l, &fs))
            });
            Some(SpotFact {
                facility: f.id,
                straight_m: d,
                walk_m,
            })
        })
        .collect()
}
