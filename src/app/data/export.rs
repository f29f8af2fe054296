//! Exports: map PNG/SVG, gaps and proposals as GeoJSON/CSV.

use super::*;
use crate::app::state::JobError;

impl CareCircleApp {
    /// Runs an export on the worker: the map (rasterising takes a moment) and the tables.
    pub(in crate::app) fn export(&mut self, ctx: &egui::Context, kind: ExportKind, path: PathBuf) {
        let Some(ds) = self.data.dataset.clone() else {
            return;
        };
        let en = self.lang == Lang::En;
        let path = if path.extension().is_none() {
            path.with_extension(kind.extension())
        } else {
            path
        };
        // Never over a file this dataset was read from (its layers, manifest, graph cache).
        if let Err(error) = crate::io::write::Inputs::of_dataset(&ds).check(&path) {
            self.apply(
                ctx,
                JobResult::Failed(JobError::Export {
                    path,
                    error: Box::new(error),
                }),
            );
            return;
        }
        let kept = |r: &Proposals, d: &[Option<bool>]| {
            let mut r = r.clone();
            let mut k = 0;
            r.proposals.retain(|_| {
                let keep = d.get(k).copied().flatten() != Some(false);
                k += 1;
                keep
            });
            r
        };
        // Every export writes on the worker: a big table or a map must not stall a frame.
        match kind {
            ExportKind::ReportPdf => {
                let Some(report) = self.data.report.clone() else {
                    return;
                };
                let proposals = self
                    .siting
                    .result
                    .as_ref()
                    .map(|r| kept(r, &self.siting.decisions));
                let bands = self.data.bands.clone();
                self.spawn(ctx, "export", move |_| {
                    let opts = crate::report::pdf::PdfOptions {
                        english: en,
                        paper: crate::report::pdf::Paper::A4,
                        date: crate::report::pdf::today(),
                        bands,
                    };
                    let written =
                        crate::report::pdf::report_pdf(&ds, &report, proposals.as_ref(), &opts)
                            .and_then(|pdf| crate::io::write::write_atomic(&path, &pdf));
                    match written {
                        Ok(()) => JobResult::Exported(path),
                        Err(error) => JobResult::Failed(JobError::Export {
                            path,
                            error: Box::new(error),
                        }),
                    }
                });
            }
            ExportKind::Map => {
                let Some(report) = self.data.report.clone() else {
                    return;
                };
                let spec = self.map_spec();
                self.spawn(ctx, "export", move |_| match crate::report::map::write_map(
                    &ds,
                    Some(&report),
                    &spec,
                    &path,
                ) {
                    Ok(()) => JobResult::Exported(path),
                    Err(error) => JobResult::Failed(JobError::Export {
                        path,
                        error: Box::new(error),
                    }),
                });
            }
            ExportKind::EditedFacilities => {
                let Some(base) = self.data.base.clone() else {
                    return;
                };
                self.spawn(
                    ctx,
                    "export",
                    move |_| match crate::io::edits::write_facilities(&path, &ds, &base) {
                        Ok(()) => JobResult::Exported(path),
                        Err(error) => JobResult::Failed(JobError::Export {
                            path,
                            error: Box::new(error),
                        }),
                    },
                );
            }
            ExportKind::GapsGeoJson | ExportKind::GapsGpkg => {
                let Some(r) = self.data.report.clone() else {
                    return;
                };
                self.spawn(ctx, "export", move |_| {
                    // A city's uncovered points are a layer worth having; a province's
                    // million are not: past 100,000 the cells and unit figures stand in.
                    let how = if r.uncovered.len() <= 100_000 {
                        crate::report::UncoveredExport::all_points()
                    } else {
                        crate::report::UncoveredExport::default()
                    };
                    match crate::report::write_geojson(&r, &ds, &path, &how) {
                        Ok(()) => JobResult::Exported(path),
                        Err(error) => JobResult::Failed(JobError::Export {
                            path,
                            error: Box::new(error),
                        }),
                    }
                });
            }
            ExportKind::GapsCsv => {
                let Some(r) = self.data.report.clone() else {
                    return;
                };
                self.spawn(ctx, "export", move |_| {
                    let text = crate::report::gaps_csv(&r, en);
                    match crate::io::write::write_atomic(&path, text.as_bytes()) {
                        Ok(()) => JobResult::Exported(path),
                        Err(error) => JobResult::Failed(JobError::Export {
                            path,
                            error: Box::new(error),
                        }),
                    }
                });
            }
            ExportKind::ProposalsGeoJson | ExportKind::ProposalsCsv => {
                let Some(r) = &self.siting.result else { return };
                let decisions = self.siting.decisions.clone();
                let r = kept(r, &decisions);
                self.spawn(ctx, "export", move |_| {
                    let written = if kind == ExportKind::ProposalsCsv {
                        crate::io::write::write_atomic(&path, r.to_csv().as_bytes())
                    } else {
                        let v = proposals_value(&r, &decisions);
                        crate::io::geojson::write_collection_value(&path, &v, true)
                    };
                    match written {
                        Ok(()) => JobResult::Exported(path),
                        Err(error) => JobResult::Failed(JobError::Export {
                            path,
                            error: Box::new(error),
                        }),
                    }
                });
            }
        }
    }

    /// The map as the user sees it, for export: same centre, the rule, visible layers,
    /// proposals with their decisions; twice the screen's pixels for print.
    pub(in crate::app) fn map_spec(&self) -> crate::report::map::MapSpec {
        use super::super::layers::LayerId;
        use crate::report::map::{MapSpec, ProposalMark};
        let rect = self.last_map_rect.unwrap_or(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1000.0, 700.0),
        ));
        let k = 2.0;
        let (w, h) = ((rect.width() * k) as u32, (rect.height() * k) as u32 + 100);
        let en = self.lang == Lang::En;
        let name = self
            .data
            .dataset
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let (rule_title, subtitle) = match &self.data.report {
            Some(r) => crate::report::map::analysis_titles(r, self.map_rule.as_deref(), en),
            None => (String::new(), String::new()),
        };
        let mut spec = MapSpec::new(w.max(400), h.max(400), format!("{name} — {rule_title}"));
        spec.english = en;
        spec.rule = self.map_rule.clone();
        spec.subtitle = subtitle;
        if let Some(v) = self.view {
            spec.center = Some(v.center);
            spec.scale = Some(v.scale * k as f64);
        }
        let vis = |id| self.layer(id).visible;
        spec.layers.units = vis(LayerId::Units);
        spec.layers.bands = vis(LayerId::Bands);
        spec.layers.streets = vis(LayerId::Streets);
        spec.layers.outlines = vis(LayerId::Outlines);
        spec.layers.uncovered = vis(LayerId::Uncovered);
        spec.layers.facilities = vis(LayerId::Facilities);
        spec.layers.proposals = vis(LayerId::Proposals);
        if let Some(r) = &self.siting.result {
            spec.proposals = r
                .proposals
                .iter()
                .enumerate()
                .filter(|(i, _)| self.siting.decisions.get(*i).copied().flatten() != Some(false))
                .map(|(i, p)| ProposalMark {
                    x: p.x,
                    y: p.y,
                    rank: p.rank,
                    accepted: self.siting.decisions.get(i).copied().flatten() == Some(true),
                })
                .collect();
        }
        spec.bands = self.data.bands.clone();
        spec
    }
}

/// The kept proposals as GeoJSON where each site says whether the planner accepted it or
/// left it open.
fn proposals_value(r: &Proposals, decisions: &[Option<bool>]) -> serde_json::Value {
    let mut v = r.to_geojson();
    let mut accepted = decisions.iter().filter(|d| **d != Some(false));
    if let Some(fs) = v["features"].as_array_mut() {
        for f in fs {
            let d = accepted.next().copied().flatten();
            f["properties"]["decision"] = (if d == Some(true) {
                "accepted"
            } else {
                "undecided"
            })
            .into();
        }
    }
    v
}
