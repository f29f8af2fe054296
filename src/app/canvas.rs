//! The map canvas: input (pan, zoom, click), view changes and painting of units,
//! bands, streets, facilities, proposals and uncovered demand; legend and scale bar.

use super::*;

impl CareCircleApp {
    /// The uncovered demand of the map's rule (local metres), cached per rule.
    pub(super) fn uncovered_points(&self) -> &[[f64; 2]] {
        match &self.data.uncovered {
            Some((rule, pts, _)) if *rule == self.map_rule => pts,
            _ => &[],
        }
    }

    /// Starts computing the map rule's uncovered demand and its raster pyramid off the UI
    /// thread when the rule or the report changed; until it lands the map shows none.
    pub(super) fn refresh_uncovered(&mut self, ctx: &egui::Context) {
        let rule = &self.map_rule;
        if self
            .data
            .uncovered
            .as_ref()
            .is_some_and(|(r, _, _)| r == rule)
            || self
                .data
                .uncovered_query
                .as_ref()
                .is_some_and(|(r, _)| r == rule)
        {
            return;
        }
        self.data.uncovered = None;
        let (Some(report), Some(name)) = (self.data.report.clone(), rule.clone()) else {
            self.data.uncovered_query = None;
            return;
        };
        let rule = rule.clone();
        let for_rule = rule.clone();
        self.data.uncovered_query = self
            .on_thread(ctx, "carecircle-uncovered", move || {
                let pts = crate::report::map::uncovered_points(&report, &name);
                let pyramid = map::DotPyramid::new(&pts);
                JobResult::Uncovered(for_rule, pts, Box::new(pyramid))
            })
            .map(|rx| (rule, rx));
    }

    pub(super) fn zoom_to_box(&mut self, lo: [f64; 2], hi: [f64; 2]) {
        if let Some(v) = self.view.as_mut() {
            v.center = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
            let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(200.0);
            v.scale = self.last_map_size / span * 0.9;
        }
    }

    pub(super) fn zoom_to_selection(&mut self) {
        let Some(u) = self.data.selected else { return };
        let b = self.data.dataset.as_ref().and_then(|ds| {
            ds.unit(u)
                .geometry
                .as_ref()
                .and_then(geo::BoundingRect::bounding_rect)
        });
        if let Some(b) = b {
            self.zoom_to_box([b.min().x, b.min().y], [b.max().x, b.max().y]);
        }
    }

    pub(super) fn legend_ui(&self, ui: &mut egui::Ui) {
        let Some(ds) = &self.data.dataset else {
            ui.label(self.t("未加载数据", "No data loaded"));
            return;
        };
        ui.heading(&ds.name);
        ui.label(format!(
            "{}: {}",
            self.t("投影", "Projection"),
            ds.projection.describe()
        ));
        ui.separator();
        for level in crate::model::UnitLevel::ALL {
            let n = ds.count_units(level);
            if n > 0 {
                let name = match self.lang {
                    Lang::Zh => level.zh().to_owned(),
                    Lang::En => level.key().replace('_', "-"),
                };
                ui.label(format!("{name}: {n}"));
            }
        }
        ui.separator();
        for kind in FacilityKind::ALL {
            let fs: Vec<_> = ds.facilities.iter().filter(|f| f.kind == kind).collect();
            if fs.is_empty() {
                continue;
            }
            let synthetic = fs.iter().filter(|f| f.synthetic).count();
            ui.horizontal(|ui| {
                let (r, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
                ui.painter()
                    .circle_filled(r.center(), 5.0, kind_color(kind));
                let name = match self.lang {
                    Lang::Zh => kind.zh(),
                    Lang::En => kind.en(),
                };
                ui.label(format!("{name}: {}", fs.len()));
                if synthetic > 0 {
                    ui.colored_label(
                        Color32::from_rgb(180, 90, 0),
                        format!("({} {synthetic})", self.t("模拟数据", "synthetic")),
                    );
                }
            });
        }
        if ds.facilities.iter().any(|f| f.synthetic) {
            ui.colored_label(
                Color32::from_rgb(180, 90, 0),
                self.t(
                    "空心圆 = 模拟设施（非真实数据）",
                    "Hollow ring = synthetic facility (not real)",
                ),
            );
        }
        if !ds.network.is_empty() {
            ui.label(format!(
                "{}: {}",
                self.t("步行路网线段", "Walk network lines"),
                ds.network.len()
            ));
        }
    }

    pub(super) fn map_ui(&mut self, ui: &mut egui::Ui) {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_rgb(246, 245, 240));
        let Some(ds_arc) = self.data.dataset.clone() else {
            return;
        };
        let ds: &Dataset = &ds_arc;
        self.last_map_size = rect.width().min(rect.height()) as f64;
        self.last_map_rect = Some(rect);
        let view = self.map_input(ui, rect, &response, ds);
        let tx = |x: f64, y: f64| view.to_screen(rect, x, y);
        let visible = self
            .data
            .map
            .as_ref()
            .map(|m| m.visible(view, rect))
            .unwrap_or_default();
        self.paint_layers(&painter, rect, view, &visible);
        if let Some(u) = self.data.selected {
            if let Some(g) = &ds.unit(u).geometry {
                for poly in &g.0 {
                    let pts: Vec<Pos2> = poly.exterior().0.iter().map(|c| tx(c.x, c.y)).collect();
                    painter.add(egui::Shape::closed_line(
                        pts,
                        Stroke::new(3.0, Color32::from_rgb(255, 170, 0)),
                    ));
                }
            }
        }
        if let Some([x, y]) = self.data.spot {
            let p = tx(x, y);
            painter.circle_stroke(p, 6.0, Stroke::new(2.0, Color32::BLACK));
            painter.line_segment(
                [p - Vec2::new(9.0, 0.0), p + Vec2::new(9.0, 0.0)],
                Stroke::new(1.0, Color32::BLACK),
            );
            painter.line_segment(
                [p - Vec2::new(0.0, 9.0), p + Vec2::new(0.0, 9.0)],
                Stroke::new(1.0, Color32::BLACK),
            );
        }
        if let Some(report) = self.shown_report() {
            let (title, items) = crate::report::map::choropleth_legend(
                report,
                self.map_rule.as_deref(),
                self.lang == Lang::En,
            );
            let items: Vec<(Color32, String)> =
                items.into_iter().map(|(c, l)| (rgba(c), l)).collect();
            let mut items = items;
            for b in &self.data.bands {
                items.push((
                    Color32::from_rgba_unmultiplied(70, 110, 220, 110),
                    format!(
                        "{} {:.0} {}",
                        self.t("步行", "Walk"),
                        b.minutes,
                        self.t("分钟可达范围", "min reach")
                    ),
                ));
            }
            let mut y = rect.top() + 10.0;
            painter.text(
                Pos2::new(rect.left() + 10.0, y),
                egui::Align2::LEFT_TOP,
                title,
                egui::FontId::proportional(13.0),
                Color32::BLACK,
            );
            y += 20.0;
            for (c, label) in items {
                painter.rect_filled(
                    Rect::from_min_size(Pos2::new(rect.left() + 10.0, y), Vec2::new(14.0, 14.0)),
                    2.0,
                    c,
                );
                painter.text(
                    Pos2::new(rect.left() + 30.0, y + 7.0),
                    egui::Align2::LEFT_CENTER,
                    label,
                    egui::FontId::proportional(13.0),
                    Color32::BLACK,
                );
                y += 18.0;
            }
        }
        scale_bar(&painter, rect, view.scale);
        // Side by side: which scenario this half shows, at the top centre.
        let side = match (self.map_side, &self.data.comparison) {
            (scenarios::MapSide::A, Some(c)) => Some(format!("A: {}", c.cmp.a)),
            (scenarios::MapSide::B, Some(c)) => Some(format!("B: {}", c.cmp.b)),
            _ => None,
        };
        if let Some(text) = side {
            // A label (not paint) so that it reads out and tests can find it; at the bottom,
            // clear of the legend.
            let at = Pos2::new(rect.center().x, rect.bottom() - 40.0);
            let r = Rect::from_center_size(at, Vec2::new(260.0, 28.0));
            painter.rect_filled(r, 3.0, Color32::from_white_alpha(220));
            ui.put(
                r,
                egui::Label::new(egui::RichText::new(text).size(18.0).color(Color32::BLACK)),
            );
        }
        self.zoom_buttons(ui, rect);
    }
}

pub(super) fn rgba(c: crate::report::map::Rgba) -> Color32 {
    Color32::from_rgba_unmultiplied(c[0], c[1], c[2], c[3])
}

/// Facilities in view above which each kind is drawn as a density raster, not symbols.
const MAX_FACILITY_SYMBOLS: usize = 3_000;

pub(super) fn kind_color(kind: FacilityKind) -> Color32 {
    let [r, g, b] = crate::report::map::kind_rgb(kind);
    Color32::from_rgb(r, g, b)
}

pub(super) fn fit_view(ds: &Dataset, rect: Rect) -> View {
    match ds.focus_bounds() {
        Some(b) => {
            let sx = rect.width() as f64 / b.width().max(1.0);
            let sy = rect.height() as f64 / b.height().max(1.0);
            View {
                center: [b.center().x, b.center().y],
                scale: sx.min(sy) * 0.95,
            }
        }
        None => View {
            center: [500_000.0, 5_000_000.0],
            scale: 0.001,
        },
    }
}

/// A scale bar with a round length of about a fifth of the map width.
pub(super) fn scale_bar(painter: &egui::Painter, rect: Rect, scale: f64) {
    let (nice, label) = crate::report::map::scale_bar_length(rect.width() as f64 / 5.0 / scale);
    let len = (nice * scale) as f32;
    let y = rect.bottom() - 20.0;
    let x0 = rect.left() + 20.0;
    let stroke = Stroke::new(2.0, Color32::BLACK);
    painter.line_segment([Pos2::new(x0, y), Pos2::new(x0 + len, y)], stroke);
    painter.line_segment([Pos2::new(x0, y - 5.0), Pos2::new(x0, y + 1.0)], stroke);
    painter.line_segment(
        [Pos2::new(x0 + len, y - 5.0), Pos2::new(x0 + len, y + 1.0)],
        stroke,
    );
    painter.text(
        Pos2::new(x0 + len / 2.0, y - 8.0),
        egui::Align2::CENTER_BOTTOM,
        label,
        egui::FontId::proportional(12.0),
        Color32::BLACK,
    );
    // North arrow.
    let nx = rect.right() - 30.0;
    let ny = rect.top() + 20.0;
    painter.add(egui::Shape::convex_polygon(
        vec![
            Pos2::new(nx, ny),
            Pos2::new(nx - 7.0, ny + 20.0),
            Pos2::new(nx + 7.0, ny + 20.0),
        ],
        Color32::BLACK,
        Stroke::NONE,
    ));
    painter.text(
        Pos2::new(nx, ny + 22.0),
        egui::Align2::CENTER_TOP,
        "N",
        egui::FontId::proportional(12.0),
        Color32::BLACK,
    );
}

impl CareCircleApp {
    /// The +, −, fit and zoom-to-selection buttons in the map's bottom-right corner
    /// (windows such as Inspect open at the top).
    fn zoom_buttons(&mut self, ui: &mut egui::Ui, rect: Rect) {
        let b = |k: f32| {
            Rect::from_min_size(
                Pos2::new(rect.right() - 48.0, rect.bottom() - 132.0 + k * 30.0),
                Vec2::new(38.0, 26.0),
            )
        };
        if ui
            .put(b(0.0), egui::Button::new("+"))
            .on_hover_text(self.t("放大", "Zoom in"))
            .clicked()
        {
            self.commands.push(Command::ZoomBy(1.5));
        }
        if ui
            .put(b(1.0), egui::Button::new("−"))
            .on_hover_text(self.t("缩小", "Zoom out"))
            .clicked()
        {
            self.commands.push(Command::ZoomBy(1.0 / 1.5));
        }
        if ui
            .put(b(2.0), egui::Button::new(self.t("全", "Fit")))
            .on_hover_text(self.t("全图", "Fit all"))
            .clicked()
        {
            self.commands.push(Command::FitView);
        }
        if ui
            .put(b(3.0), egui::Button::new(self.t("选", "Sel")))
            .on_hover_text(self.t("缩放至所选单元", "Zoom to selection"))
            .clicked()
        {
            self.commands.push(Command::ZoomToSelection);
        }
    }

    /// The map's input: drag pans, scroll zooms about the cursor, a click selects the unit
    /// under it and asks what covers the spot. Returns the view to paint with.
    fn map_input(
        &mut self,
        ui: &egui::Ui,
        rect: Rect,
        response: &egui::Response,
        ds: &Dataset,
    ) -> View {
        let view = *self.view.get_or_insert_with(|| fit_view(ds, rect));
        let mut view = view;
        // Edit mode: a drag that starts on a facility moves it instead of the map.
        if self.edit.on && response.drag_started() {
            // Where the button went down, not where the drag was recognised.
            let origin = ui.input(|i| i.pointer.press_origin());
            if let Some(p) = origin.or(response.interact_pointer_pos()) {
                if let Some(key) = self.facility_at(rect, view, p) {
                    self.edit.drag = Some((key, view.to_world(rect, p)));
                }
            }
        }
        if self.edit.drag.is_some() {
            if let Some(p) = response.interact_pointer_pos() {
                let at = view.to_world(rect, p);
                if let Some(d) = self.edit.drag.as_mut() {
                    d.1 = at;
                }
            }
            if response.drag_stopped() || !response.dragged() {
                self.finish_drag();
            }
        } else if response.dragged() {
            let d = response.drag_delta();
            view.center[0] -= d.x as f64 / view.scale;
            view.center[1] += d.y as f64 / view.scale;
        }
        if response.hovered() {
            let zoom = ui.input(|i| i.zoom_delta() * (i.smooth_scroll_delta.y / 300.0).exp());
            if (zoom - 1.0).abs() > 1e-4 {
                if let Some(p) = response.hover_pos() {
                    // Keep the point under the cursor fixed.
                    let mx = view.center[0] + (p.x - rect.center().x) as f64 / view.scale;
                    let my = view.center[1] - (p.y - rect.center().y) as f64 / view.scale;
                    view.scale *= zoom as f64;
                    view.center[0] = mx - (p.x - rect.center().x) as f64 / view.scale;
                    view.center[1] = my + (p.y - rect.center().y) as f64 / view.scale;
                }
            }
        }
        self.view = Some(view);
        if response.clicked() && self.edit.on {
            // Edit mode: a click on a facility selects it for its form, elsewhere adds one.
            if let Some(p) = response.interact_pointer_pos() {
                match self.facility_at(rect, view, p) {
                    Some(key) => self.commands.push(Command::SelectFacility(Some(key))),
                    None => self
                        .commands
                        .push(Command::AddFacility(view.to_world(rect, p))),
                }
            }
        } else if response.clicked() {
            if let Some(p) = response.interact_pointer_pos() {
                let x = view.center[0] + (p.x - rect.center().x) as f64 / view.scale;
                let y = view.center[1] - (p.y - rect.center().y) as f64 / view.scale;
                self.data.spot = Some([x, y]);
                if let Some(u) = self
                    .data
                    .index
                    .as_ref()
                    .and_then(|i| i.locate_finest(ds, geo::Point::new(x, y)))
                {
                    self.commands.push(Command::Inspect(u));
                    // Presenting: a click on a unit brings it into view for the room.
                    if self.present.is_some() {
                        self.commands.push(Command::ZoomTo(u));
                    }
                }
                self.commands.push(Command::SpotQuery([x, y]));
            }
        }
        view
    }

    /// The layers bottom to top, as the Layers panel orders them: units by the chosen rule,
    /// walking bands, streets, uncovered demand, facilities, proposals.
    fn paint_layers(
        &self,
        painter: &egui::Painter,
        rect: Rect,
        view: View,
        visible: &[crate::model::UnitId],
    ) {
        let Some(ds) = &self.data.dataset else { return };
        let tx = |x: f64, y: f64| view.to_screen(rect, x, y);
        // Layers bottom to top, as the Layers panel orders them.
        for style in self.layers.clone() {
            if !style.visible {
                continue;
            }
            match style.id {
                layers::LayerId::Units => {
                    // Choropleth: the finest units with shapes, coloured by their rule status.
                    if let (Some(report), Some(cache)) = (self.shown_report(), &self.data.map) {
                        let finest = ds.finest_shaped_tier();
                        let mesh = cache.fill_mesh(view, rect, visible, |u| {
                            if Some(ds.unit(u).level.tier()) != finest {
                                return None;
                            }
                            crate::report::map::unit_fill(report, u, self.map_rule.as_deref())
                                .map(|c| layers::fade(rgba(c), style.opacity))
                        });
                        painter.add(egui::Shape::mesh(mesh));
                    }
                }
                layers::LayerId::Bands => {
                    // Walking bands (network mode), outermost first so inner bands draw on top.
                    for (k, band) in self.data.bands.iter().enumerate() {
                        let color = [
                            Color32::from_rgba_unmultiplied(70, 110, 220, 45),
                            Color32::from_rgba_unmultiplied(70, 110, 220, 60),
                            Color32::from_rgba_unmultiplied(70, 110, 220, 80),
                        ][k.min(2)];
                        let color = layers::fade(color, style.opacity);
                        let mut mesh = egui::Mesh::default();
                        for t in band.triangles.chunks_exact(3) {
                            let base = mesh.vertices.len() as u32;
                            for v in t {
                                mesh.colored_vertex(tx(v[0], v[1]), color);
                            }
                            mesh.add_triangle(base, base + 1, base + 2);
                        }
                        painter.add(egui::Shape::mesh(mesh));
                    }
                }
                layers::LayerId::Streets => {
                    // Street network under everything, culled by bounding box.
                    let street = Stroke::new(0.6, Color32::from_rgb(190, 190, 190));
                    for l in &ds.network {
                        let pts: Vec<Pos2> = l.geometry.0.iter().map(|c| tx(c.x, c.y)).collect();
                        if pts.iter().any(|p| rect.contains(*p)) {
                            painter.add(egui::Shape::line(pts, street));
                        }
                    }
                }
                layers::LayerId::Outlines => {
                    // Unit boundaries: county level thick, township level thin; culled by the R-tree,
                    // simplified to the scale.
                    if let Some(cache) = &self.data.map {
                        let mut shapes = Vec::new();
                        cache.outlines(
                            view,
                            rect,
                            visible,
                            |u| {
                                Some(match ds.unit(u).level.tier() {
                                    1 => Stroke::new(2.0, Color32::from_rgb(60, 60, 110)),
                                    2 => Stroke::new(1.0, Color32::from_rgb(90, 110, 160)),
                                    _ => Stroke::new(0.6, Color32::from_rgb(140, 150, 180)),
                                })
                            },
                            &mut shapes,
                        );
                        painter.extend(shapes);
                    }
                }
                layers::LayerId::Uncovered => {
                    // Uncovered demand of the map's rule: a density raster of dot-sized
                    // cells from the pyramid built with the points.
                    if let Some((rule, _, pyramid)) = &self.data.uncovered {
                        if *rule == self.map_rule {
                            let [r, g, b, a] = crate::report::map::UNCOVERED_RGBA;
                            painter.add(egui::Shape::mesh(pyramid.mesh(
                                view,
                                rect,
                                1.2 * style.size,
                                Color32::from_rgba_unmultiplied(r, g, b, a),
                            )));
                        }
                    }
                }
                layers::LayerId::Facilities => {
                    self.paint_facilities(painter, rect, view, style.size)
                }
                layers::LayerId::Proposals => self.paint_proposals(painter, rect, view, style.size),
            }
        }
    }

    /// Facilities: existing filled, planned square, synthetic hollow; kinds the Layers
    /// panel hides are left out.
    fn paint_facilities(&self, painter: &egui::Painter, rect: Rect, view: View, size: f32) {
        let Some(ds) = &self.data.dataset else { return };
        let tx = |x: f64, y: f64| view.to_screen(rect, x, y);
        // A facility being dragged (or just dropped, until the edited data lands) shows
        // where the user put it. Keys resolved to ids once, not per facility.
        let moved = self
            .edit
            .drag
            .as_ref()
            .or(self.edit.preview.as_ref())
            .and_then(|(k, at)| Some((self.facility_by_key(k)?, *at)));
        let selected = self
            .edit
            .selected
            .as_ref()
            .and_then(|k| self.facility_by_key(k));
        // A province zoomed out holds tens of thousands of facilities: past a few thousand
        // in view, each kind is drawn as a density raster in its colour (the symbols would
        // be a carpet, and slow to draw); the selected or dragged one keeps its symbol.
        let (a, b) = view.world_box(rect);
        let in_view: Vec<&crate::model::Facility> = ds
            .facilities
            .iter()
            .filter(|f| {
                !self.hidden_kinds.contains(&f.kind)
                    && f.location.is_some_and(|p| {
                        p.x() >= a[0] && p.x() <= b[0] && p.y() >= a[1] && p.y() <= b[1]
                    })
            })
            .collect();
        let aggregated = in_view.len() > MAX_FACILITY_SYMBOLS;
        if aggregated {
            let mut kinds: Vec<FacilityKind> = in_view.iter().map(|f| f.kind).collect();
            kinds.sort_unstable_by_key(|k| k.key());
            kinds.dedup();
            for kind in kinds {
                let pts: Vec<[f64; 2]> = in_view
                    .iter()
                    .filter(|f| f.kind == kind && f.status != FacilityStatus::Closed)
                    .filter_map(|f| f.location.map(|p| [p.x(), p.y()]))
                    .collect();
                painter.add(egui::Shape::mesh(map::dot_mesh(
                    view,
                    rect,
                    &pts,
                    1.5 * size,
                    kind_color(kind),
                )));
            }
        }
        for f in in_view {
            if aggregated && selected != Some(f.id) && moved.is_none_or(|(id, _)| id != f.id) {
                continue;
            }
            let Some(p) = f.location else { continue };
            let pos = match moved {
                Some((id, at)) if id == f.id => tx(at[0], at[1]),
                _ => tx(p.x(), p.y()),
            };
            if !rect.contains(pos) {
                continue;
            }
            let c = kind_color(f.kind);
            let z = size;
            if selected == Some(f.id) {
                painter.circle_stroke(
                    pos,
                    8.0 * z,
                    Stroke::new(2.5, Color32::from_rgb(255, 170, 0)),
                );
            }
            if f.status == FacilityStatus::Closed {
                // Closed: kept on the map for the record, crossed out, never counted.
                let g = Color32::from_gray(110);
                let d = 4.0 * z;
                painter.circle_stroke(pos, d, Stroke::new(1.5, g));
                painter.line_segment(
                    [pos + Vec2::new(-d, -d), pos + Vec2::new(d, d)],
                    Stroke::new(1.5, g),
                );
                painter.line_segment(
                    [pos + Vec2::new(-d, d), pos + Vec2::new(d, -d)],
                    Stroke::new(1.5, g),
                );
            } else if f.synthetic {
                painter.circle_stroke(pos, 3.5 * z, Stroke::new(1.5, c));
            } else if f.status == FacilityStatus::Existing {
                painter.circle_filled(pos, 4.0 * z, c);
            } else {
                painter.rect_filled(Rect::from_center_size(pos, Vec2::splat(7.0 * z)), 0.0, c);
            }
        }
    }

    /// Proposals: diamonds, filled once accepted, hidden once rejected.
    fn paint_proposals(&self, painter: &egui::Painter, rect: Rect, view: View, size: f32) {
        let tx = |x: f64, y: f64| view.to_screen(rect, x, y);
        let diamond = |pos: Pos2| {
            vec![
                pos + Vec2::new(0.0, -7.0 * size),
                pos + Vec2::new(7.0 * size, 0.0),
                pos + Vec2::new(0.0, 7.0 * size),
                pos + Vec2::new(-7.0 * size, 0.0),
            ]
        };
        // Side by side: each half shows the facilities its scenario adds, filled.
        let added = match (self.map_side, &self.data.comparison) {
            (scenarios::MapSide::A, Some(c)) => Some(&c.added_a),
            (scenarios::MapSide::B, Some(c)) => Some(&c.added_b),
            _ => None,
        };
        if let Some(added) = added {
            for [x, y] in added {
                let pos = tx(*x, *y);
                if rect.contains(pos) {
                    painter.add(egui::Shape::convex_polygon(
                        diamond(pos),
                        Color32::from_rgb(230, 120, 0),
                        Stroke::new(1.0, Color32::BLACK),
                    ));
                }
            }
            return;
        }
        // Proposals: diamonds, filled once accepted, hidden once rejected.
        if let Some(r) = &self.siting.result {
            for (k, p) in r.proposals.iter().enumerate() {
                let d = self.siting.decisions.get(k).copied().flatten();
                if d == Some(false) {
                    continue;
                }
                let pos = tx(p.x, p.y);
                if !rect.contains(pos) {
                    continue;
                }
                let pts = diamond(pos);
                let c = Color32::from_rgb(230, 120, 0);
                if d == Some(true) {
                    painter.add(egui::Shape::convex_polygon(
                        pts,
                        c,
                        Stroke::new(1.0, Color32::BLACK),
                    ));
                } else {
                    painter.add(egui::Shape::closed_line(pts, Stroke::new(2.0, c)));
                }
            }
        }
    }
}
