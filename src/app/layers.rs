//! The Layers panel: what the map shows, in which order, how strongly, and zoom-to-layer.
//! The list is data (saved in projects); the map draws it bottom to top.

use egui::Color32;
use serde::{Deserialize, Serialize};

use super::{CareCircleApp, Command, Lang};
use crate::model::FacilityKind;

/// The map's layers.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum LayerId {
    /// Units coloured by the chosen rule (the choropleth).
    Units,
    /// Walking catchment bands (network mode).
    Bands,
    Streets,
    /// Unit boundaries.
    Outlines,
    /// Demand points out of reach of the chosen rule.
    Uncovered,
    Facilities,
    Proposals,
}

impl LayerId {
    pub fn name(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            LayerId::Units => ("单元达标着色", "Units by rule status"),
            LayerId::Bands => ("步行可达范围", "Walking bands"),
            LayerId::Streets => ("街道路网", "Streets"),
            LayerId::Outlines => ("行政边界", "Boundaries"),
            LayerId::Uncovered => ("未覆盖需求点", "Uncovered demand"),
            LayerId::Facilities => ("设施", "Facilities"),
            LayerId::Proposals => ("建议选址", "Proposed sites"),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// One layer's visibility and style.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerStyle {
    pub id: LayerId,
    pub visible: bool,
    /// Fill opacity factor (units, bands) in 0–1.
    pub opacity: f32,
    /// Symbol size factor (facilities, dots, proposals).
    pub size: f32,
}

/// Bottom to top, as a GIS draws them.
pub fn default_layers() -> Vec<LayerStyle> {
    [
        LayerId::Units,
        LayerId::Bands,
        LayerId::Streets,
        LayerId::Outlines,
        LayerId::Uncovered,
        LayerId::Facilities,
        LayerId::Proposals,
    ]
    .into_iter()
    .map(|id| LayerStyle {
        id,
        visible: true,
        opacity: 1.0,
        size: 1.0,
    })
    .collect()
}

/// A saved list with every layer exactly once (older projects may lack new layers).
pub fn normalise(mut layers: Vec<LayerStyle>) -> Vec<LayerStyle> {
    let mut seen = Vec::new();
    layers.retain(|l| {
        let new = !seen.contains(&l.id);
        seen.push(l.id);
        new
    });
    for d in default_layers() {
        if !layers.iter().any(|l| l.id == d.id) {
            layers.push(d);
        }
    }
    for l in &mut layers {
        l.opacity = l.opacity.clamp(0.0, 1.0);
        l.size = l.size.clamp(0.3, 4.0);
    }
    layers
}

/// Multiplies a colour's alpha.
pub fn fade(c: Color32, opacity: f32) -> Color32 {
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    Color32::from_rgba_unmultiplied(r, g, b, (a as f32 * opacity).round() as u8)
}

impl CareCircleApp {
    /// The layer's style (always present: the list is normalised).
    pub(super) fn layer(&self, id: LayerId) -> LayerStyle {
        self.layers
            .iter()
            .find(|l| l.id == id)
            .cloned()
            .unwrap_or(LayerStyle {
                id,
                visible: true,
                opacity: 1.0,
                size: 1.0,
            })
    }

    /// The extent of a layer in local metres, for zoom-to-layer.
    fn layer_bounds(&self, id: LayerId) -> Option<([f64; 2], [f64; 2])> {
        let ds = self.data.dataset.as_ref()?;
        let mut pts: Vec<[f64; 2]> = Vec::new();
        match id {
            LayerId::Units | LayerId::Outlines => {
                let b = ds.focus_bounds()?;
                return Some(([b.min().x, b.min().y], [b.max().x, b.max().y]));
            }
            LayerId::Streets => {
                for l in &ds.network {
                    pts.extend(l.geometry.0.iter().map(|c| [c.x, c.y]));
                }
            }
            LayerId::Bands => {
                for b in &self.data.bands {
                    pts.extend(b.triangles.iter().copied());
                }
            }
            LayerId::Uncovered => pts = self.uncovered_points().to_vec(),
            LayerId::Facilities => {
                pts.extend(
                    ds.facilities
                        .iter()
                        .filter(|f| !self.hidden_kinds.contains(&f.kind))
                        .filter_map(|f| f.location.map(|p| [p.x(), p.y()])),
                );
            }
            LayerId::Proposals => {
                if let Some(r) = &self.siting.result {
                    pts.extend(r.proposals.iter().map(|p| [p.x, p.y]));
                }
            }
        }
        let mut it = pts.into_iter();
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        }))
    }

    pub(super) fn layers_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("图层", "Layers"));
        let n = self.layers.len();
        // Top layer first, as in every GIS.
        for pos in (0..n).rev() {
            let id = self.layers[pos].id;
            let name = id.name(self.lang);
            ui.horizontal(|ui| {
                let mut visible = self.layers[pos].visible;
                if ui.checkbox(&mut visible, name).changed() {
                    self.layers[pos].visible = visible;
                }
                let up = self.t("上移", "Up");
                let down = self.t("下移", "Down");
                if ui
                    .add_enabled(pos + 1 < n, egui::Button::new("↑").small())
                    .on_hover_text(up)
                    .clicked()
                {
                    self.commands.push(Command::MoveLayer(pos, 1));
                }
                if ui
                    .add_enabled(pos > 0, egui::Button::new("↓").small())
                    .on_hover_text(down)
                    .clicked()
                {
                    self.commands.push(Command::MoveLayer(pos, -1));
                }
                let zoom = self.t("缩放至图层", "Zoom to layer");
                if ui
                    .add(egui::Button::new(self.t("缩放", "Zoom")).small())
                    .on_hover_text(zoom)
                    .clicked()
                {
                    match self.layer_bounds(id) {
                        Some((lo, hi)) => self.commands.push(Command::ZoomToBounds(lo, hi)),
                        None => self.notices.push(format!(
                            "{}: {}",
                            name,
                            self.t("图层为空", "the layer is empty")
                        )),
                    }
                }
            });
            let l = &mut self.layers[pos];
            if l.visible {
                match id {
                    LayerId::Units | LayerId::Bands => {
                        ui.add(egui::Slider::new(&mut l.opacity, 0.0..=1.0).text(
                            match self.lang {
                                Lang::Zh => "不透明度",
                                Lang::En => "opacity",
                            },
                        ));
                    }
                    LayerId::Facilities | LayerId::Uncovered | LayerId::Proposals => {
                        ui.add(
                            egui::Slider::new(&mut l.size, 0.5..=3.0).text(match self.lang {
                                Lang::Zh => "符号大小",
                                Lang::En => "symbol size",
                            }),
                        );
                    }
                    _ => {}
                }
            }
            if id == LayerId::Facilities && self.layers[pos].visible {
                let kinds: Vec<FacilityKind> = FacilityKind::ALL
                    .into_iter()
                    .filter(|k| {
                        self.data
                            .dataset
                            .as_ref()
                            .is_some_and(|d| d.facilities.iter().any(|f| f.kind == *k))
                    })
                    .collect();
                ui.indent("kinds", |ui| {
                    for k in kinds {
                        let mut shown = !self.hidden_kinds.contains(&k);
                        let label = match self.lang {
                            Lang::Zh => k.zh(),
                            Lang::En => k.en(),
                        };
                        ui.horizontal(|ui| {
                            let (r, _) = ui
                                .allocate_exact_size(egui::Vec2::splat(12.0), egui::Sense::hover());
                            ui.painter()
                                .circle_filled(r.center(), 5.0, super::kind_color(k));
                            if ui.checkbox(&mut shown, label).changed() {
                                if shown {
                                    self.hidden_kinds.retain(|h| *h != k);
                                } else {
                                    self.hidden_kinds.push(k);
                                }
                            }
                        });
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_dedups_adds_missing_and_clamps() {
        let mut l = default_layers();
        l.remove(2);
        l.push(l[0].clone());
        l[0].opacity = 7.0;
        let n = normalise(l);
        assert_eq!(n.len(), default_layers().len());
        assert_eq!(n[0].opacity, 1.0);
        assert!(n.iter().any(|x| x.id == LayerId::Streets));
    }
}
