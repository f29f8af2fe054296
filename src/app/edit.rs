//! Edit mode (编辑): a surveyor adds a facility at a click, drags one to move it, edits its
//! attributes, marks it closed, deletes it, stamps it verified; Ctrl+Z / Ctrl+Shift+Z undo
//! and redo every edit.
//!
//! Each edit is appended to the dataset's edit log and synced before it shows (the library's
//! `io::edits`), then a worker applies the history to the data as loaded and re-runs the
//! analysis with the demand model kept (edits move facilities, not people). The source
//! files are never written; "Export edited layer" writes a new file.

use super::*;
use crate::io::edits::{EditLog, LogPlace};
use crate::model::edits::{
    add_layer, apply_edits, key_of, Edit, EditHistory, EditKind, FacilityKey, FacilityRecord,
    HistoryStep, Verification,
};
use crate::model::{FacilityStatus, Qualifier};

/// The edit log of the open data, and a restore the user has not answered yet.
pub(super) struct EditSession {
    pub(super) log: Option<EditLog>,
    pub(super) place: LogPlace,
    pub(super) history: EditHistory,
    /// Edits found in the log at load, waiting for "restore" or "set aside".
    pub(super) restore: Option<EditHistory>,
    /// The log could not be opened: edits stay in memory only, and the UI says so.
    pub(super) problem: Option<String>,
    /// What opening the log noticed (a torn last line dropped), said once at load.
    pub(super) notes: Vec<crate::model::Said>,
}

/// What the worker brings back after an edit: the edited data and its analysis.
pub(super) struct Edited {
    pub(super) dataset: Arc<Dataset>,
    pub(super) report: Report,
    pub(super) notes: Vec<crate::model::Said>,
    pub(super) graph: Option<Arc<Graph>>,
    pub(super) bands: Vec<Band>,
    pub(super) demand: (String, crate::coverage::DemandModel),
}

/// Edit mode's own state (not tied to the data): on/off, the kind a click adds, the
/// facility selected and its form, a drag in progress, the surveyor's name.
#[derive(Default)]
pub(crate) struct EditState {
    pub(crate) on: bool,
    pub(crate) add_kind: Option<FacilityKind>,
    pub(crate) selected: Option<FacilityKey>,
    pub(crate) form: Option<Form>,
    /// The facility being dragged and where it is now (local metres).
    pub(super) drag: Option<(FacilityKey, [f64; 2])>,
    /// Where a moved facility shows until the edited data lands.
    pub(super) preview: Option<(FacilityKey, [f64; 2])>,
    pub(crate) surveyor: String,
    pub(crate) note: String,
    /// An edit arrived while a job ran: re-apply when it finishes.
    pub(super) stale: bool,
}

/// The attribute form of the selected facility, as text the user types.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Form {
    pub(crate) name: String,
    pub(crate) kind: FacilityKind,
    pub(crate) capacity: String,
    pub(crate) status: FacilityStatus,
    pub(crate) year: String,
    pub(crate) qualifiers: [Option<bool>; 5],
}

impl Form {
    fn of(r: &FacilityRecord) -> Form {
        Form {
            name: r.name.clone(),
            kind: r.kind,
            capacity: r.capacity.map(|c| format!("{c}")).unwrap_or_default(),
            status: r.status,
            year: r.year.map(|y| y.to_string()).unwrap_or_default(),
            qualifiers: Qualifier::ALL.map(|q| r.qualifiers.get(q)),
        }
    }

    /// The record with the form's values; an error naming the field that does not parse.
    fn apply(&self, r: &mut FacilityRecord) -> Result<(), (&'static str, &'static str)> {
        r.name = self.name.trim().to_owned();
        r.kind = self.kind;
        r.capacity = match self.capacity.trim() {
            "" => None,
            t => Some(
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or(("容量须为非负数字", "capacity must be a number ≥ 0"))?,
            ),
        };
        r.status = self.status;
        r.year = match self.year.trim() {
            "" => None,
            t => Some(
                t.parse::<i32>()
                    .ok()
                    .filter(|y| (1900..=2100).contains(y))
                    .ok_or(("年份须在 1900–2100 之间", "year must be 1900–2100"))?,
            ),
        };
        for (q, v) in Qualifier::ALL.iter().zip(self.qualifiers) {
            r.qualifiers.set(*q, v);
        }
        Ok(())
    }
}

impl CareCircleApp {
    /// The facility of the open data with `key`.
    pub(super) fn facility_by_key(&self, key: &FacilityKey) -> Option<crate::model::FacilityId> {
        let ds = self.data.dataset.as_ref()?;
        ds.facilities
            .iter()
            .find(|f| key.matches(ds, f))
            .map(|f| f.id)
    }

    /// Selects a facility (or none) and fills the form from it.
    pub(super) fn select_facility(&mut self, key: Option<FacilityKey>) {
        self.edit.form = key.as_ref().and_then(|k| {
            let id = self.facility_by_key(k)?;
            let ds = self.data.dataset.as_ref()?;
            Some(Form::of(&FacilityRecord::of(ds.facility(id), ds)))
        });
        self.edit.selected = key;
    }

    /// Records one step of the history (edit, undo, redo): appended to the log and synced
    /// first, then applied to the data on the worker.
    pub(super) fn record_step(&mut self, ctx: &egui::Context, step: HistoryStep) {
        let Some(es) = self.data.edits.as_mut() else {
            return;
        };
        if es.restore.is_some() {
            self.errors.push(
                self.t(
                    "请先决定是否恢复上次的编辑",
                    "First answer whether to restore the last session's edits",
                )
                .into(),
            );
            return;
        }
        if !es.history.can(&step) {
            return; // nothing to undo or redo
        }
        if let Some(log) = es.log.as_mut() {
            if let Err(e) = log.record(&step) {
                // Not saved, not shown: an edit the user sees must survive a crash.
                let text = match self.lang {
                    Lang::Zh => format!("编辑未能保存，未应用：{}", e.zh()),
                    Lang::En => format!("the edit could not be saved and is not applied: {e}"),
                };
                self.errors.push(text);
                return;
            }
        }
        es.history.step(step);
        self.refresh_edited(ctx);
    }

    /// Applies the history to the data as loaded and re-analyses, on the worker; when a
    /// job is running, once it ends.
    pub(super) fn refresh_edited(&mut self, ctx: &egui::Context) {
        if self.job.is_some() {
            self.edit.stale = true;
            return;
        }
        self.edit.stale = false;
        let (Some(base), Some(es)) = (self.data.base.clone(), self.data.edits.as_ref()) else {
            return;
        };
        let edits = es.history.done.clone();
        let sc = self.scenario.clone();
        let cached_graph = self.data.graph.clone();
        let (key, demand) = self.cached_demand(&sc);
        self.spawn(ctx, "analyze", move |p| {
            let (ds, notes) = apply_edits(&base, &edits);
            let ds = Arc::new(ds);
            let graph = match walking_graph(sc.mode, &ds, cached_graph) {
                Ok(g) => g,
                Err(e) => return JobResult::Failed(e),
            };
            let result = analyze_with(&sc, &ds, graph.as_deref(), demand, p);
            match result {
                Ok((report, demand)) => {
                    let bands = match &graph {
                        Some(g) => crate::report::map::band_marks(&sc, g, &ds.facilities),
                        None => Vec::new(),
                    };
                    JobResult::Edited(Box::new(Edited {
                        dataset: ds,
                        report,
                        notes,
                        graph,
                        bands,
                        demand: (key, demand),
                    }))
                }
                Err(error) => JobResult::Failed(JobError::In {
                    what: ("分析", "analysis"),
                    error: Box::new(error),
                }),
            }
        });
    }

    /// Answers the restore offer: apply the log's edits, or set the log aside (renamed,
    /// never deleted) and start a new one.
    pub(super) fn answer_restore(&mut self, ctx: &egui::Context, restore: bool) {
        let Some(es) = self.data.edits.as_mut() else {
            return;
        };
        let Some(found) = es.restore.take() else {
            return;
        };
        if restore {
            es.history = found;
            self.refresh_edited(ctx);
            return;
        }
        let (Some(log), Some(ds)) = (es.log.take(), self.data.base.clone()) else {
            return;
        };
        match log.set_aside(&ds) {
            Ok((aside, new)) => {
                es.log = Some(new);
                let text = format!(
                    "{} {}",
                    self.t("旧的编辑日志已另存为", "The old edit log was set aside as"),
                    aside.display()
                );
                self.notices.push(text);
            }
            Err(e) => {
                es.problem = Some(e.to_string());
                self.errors.push(e.to_string());
            }
        }
    }

    /// The facility under a screen point (within 8 px), nearest first.
    pub(super) fn facility_at(&self, rect: Rect, view: View, pos: Pos2) -> Option<FacilityKey> {
        let ds = self.data.dataset.as_ref()?;
        ds.facilities
            .iter()
            .filter(|f| !self.hidden_kinds.contains(&f.kind))
            .filter_map(|f| {
                let l = f.location?;
                let d = view.to_screen(rect, l.x(), l.y()).distance(pos);
                (d <= 8.0).then_some((f, d))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(f, _)| key_of(ds, f))
    }

    /// An edit of the selected facility through the form or a button.
    fn edit_selected(&mut self, kind: EditKind, change: impl FnOnce(&mut FacilityRecord)) {
        let Some(key) = self.edit.selected.clone() else {
            return;
        };
        let (Some(id), Some(ds)) = (self.facility_by_key(&key), self.data.dataset.clone()) else {
            return;
        };
        if let Some(e) = Edit::modify(&ds, id, kind, change) {
            self.commands.push(Command::ApplyEdit(Box::new(e)));
        }
    }

    /// A new facility of the chosen kind at `at` (local metres), selected for its form.
    pub(super) fn add_facility(&mut self, at: [f64; 2]) {
        let Some(ds) = self.data.dataset.clone() else {
            return;
        };
        let kind = self.edit.add_kind.unwrap_or(FacilityKind::DayCare);
        let (lon, lat) = ds.projection.inverse(at[0], at[1]);
        let record = FacilityRecord {
            name: format!("{}（{}）", kind.zh(), self.t("新增", "new")),
            kind,
            capacity: None,
            nursing_beds: None,
            status: FacilityStatus::Existing,
            year: None,
            qualifiers: Default::default(),
            renovation: false,
            location: Some(at),
            lonlat: Some([lon, lat]),
            attributes: Default::default(),
        };
        let e = Edit::add(&ds, &add_layer(&ds, kind), record);
        self.edit.selected = Some(e.key.clone());
        self.commands.push(Command::ApplyEdit(Box::new(e)));
    }

    /// A finished drag: the facility's move, as one edit.
    pub(super) fn finish_drag(&mut self) {
        let Some((key, to)) = self.edit.drag.take() else {
            return;
        };
        let (Some(id), Some(ds)) = (self.facility_by_key(&key), self.data.dataset.clone()) else {
            return;
        };
        let (lon, lat) = ds.projection.inverse(to[0], to[1]);
        if let Some(e) = Edit::modify(&ds, id, EditKind::Move, |r| {
            r.location = Some(to);
            r.lonlat = Some([lon, lat]);
        }) {
            self.edit.preview = Some((key, to));
            self.commands.push(Command::ApplyEdit(Box::new(e)));
        }
    }

    /// Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) while no text field has focus.
    pub(super) fn edit_keys(&mut self, ctx: &egui::Context) {
        if self.data.edits.is_none() || ctx.egui_wants_keyboard_input() {
            return;
        }
        let (undo, redo) = ctx.input_mut(|i| {
            let redo = i.consume_key(
                egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                egui::Key::Z,
            ) || i.consume_key(egui::Modifiers::COMMAND, egui::Key::Y);
            let undo = i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z);
            (undo, redo)
        });
        if redo {
            self.commands.push(Command::Redo);
        } else if undo {
            self.commands.push(Command::Undo);
        }
    }

    /// The restore offer, over everything else until answered.
    pub(super) fn restore_ui(&mut self, ui: &mut egui::Ui) {
        let Some(es) = &self.data.edits else { return };
        let Some(found) = &es.restore else { return };
        let n = found.done.len();
        let when = found.done.last().map(|e| e.at.clone()).unwrap_or_default();
        let path = es.place.path.display().to_string();
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                Color32::from_rgb(170, 90, 0),
                match self.lang {
                    Lang::Zh => format!(
                        "发现上次保存的 {n} 项设施编辑（最后一项 {when}，日志 {path}）"
                    ),
                    Lang::En => format!(
                        "{n} facility edits were kept from the last session (last at {when}; log {path})"
                    ),
                },
            );
            if ui.button(self.t("恢复编辑", "Restore edits")).clicked() {
                self.commands.push(Command::RestoreEdits(true));
            }
            if ui
                .button(self.t("不恢复（日志另存）", "Do not restore (log set aside)"))
                .clicked()
            {
                self.commands.push(Command::RestoreEdits(false));
            }
        });
    }

    /// The Edit panel: mode switch, the kind a click adds, undo/redo, the log, the
    /// selected facility's form, and the history.
    pub(super) fn edit_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(self.t("编辑设施", "Edit facilities"));
        let Some(es) = &self.data.edits else {
            ui.label(self.t("先打开数据", "Open data first"));
            return;
        };
        let waiting = es.restore.is_some();
        let (can_undo, can_redo) = (!es.history.done.is_empty(), !es.history.undone.is_empty());
        let n_done = es.history.done.len();
        let place = es.place.clone();
        let problem = es.problem.clone();
        let mut on = self.edit.on;
        ui.add_enabled_ui(!waiting, |ui| {
            ui.checkbox(&mut on, self.t("编辑模式", "Edit mode"));
        });
        if on != self.edit.on {
            self.commands.push(Command::SetEditing(on));
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(can_undo, egui::Button::new(self.t("撤销", "Undo")))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                self.commands.push(Command::Undo);
            }
            if ui
                .add_enabled(can_redo, egui::Button::new(self.t("重做", "Redo")))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
            {
                self.commands.push(Command::Redo);
            }
            ui.label(format!("{} {n_done}", self.t("已做编辑", "edits")));
        });
        match (&problem, &place.moved_from) {
            (Some(p), _) => {
                ui.colored_label(
                    Color32::from_rgb(200, 50, 40),
                    format!(
                        "{}: {p}",
                        self.t(
                            "编辑日志无法打开，编辑只在内存中",
                            "the edit log cannot be opened; edits live in memory only"
                        )
                    ),
                );
            }
            (None, Some(from)) => {
                ui.colored_label(
                    Color32::from_rgb(170, 90, 0),
                    match self.lang {
                        Lang::Zh => format!(
                            "数据文件夹 {} 不可写：编辑日志保存在 {}",
                            from.display(),
                            place.path.display()
                        ),
                        Lang::En => format!(
                            "the data folder {} is read-only: the edit log is kept in {}",
                            from.display(),
                            place.path.display()
                        ),
                    },
                );
            }
            (None, None) => {
                ui.label(
                    RichText::new(format!(
                        "{} {}",
                        self.t("编辑日志：", "Edit log:"),
                        place.path.display()
                    ))
                    .small(),
                );
            }
        }
        if self.edit.on {
            let en = self.lang == Lang::En;
            let mut kind = self.edit.add_kind.unwrap_or(FacilityKind::DayCare);
            egui::ComboBox::from_label(self.t("单击地图新增", "A click adds"))
                .selected_text(if en { kind.en() } else { kind.zh() })
                .show_ui(ui, |ui| {
                    for k in FacilityKind::ALL {
                        ui.selectable_value(&mut kind, k, if en { k.en() } else { k.zh() });
                    }
                });
            self.edit.add_kind = Some(kind);
            ui.label(
                RichText::new(self.t(
                    "单击空白处新增设施；单击设施选中并编辑；拖动设施移动位置",
                    "Click empty map to add; click a facility to edit it; drag a facility to move it",
                ))
                .small(),
            );
        }
        if ui
            .add_enabled(
                n_done > 0,
                egui::Button::new(self.t("导出编辑后的设施图层…", "Export edited layer…")),
            )
            .clicked()
        {
            self.commands
                .push(Command::OpenDialog(data::Purpose::Export(
                    ExportKind::EditedFacilities,
                )));
        }
        self.facility_form_ui(ui);
        if let Some(es) = &self.data.edits {
            if !es.history.done.is_empty() {
                let en = self.lang == Lang::En;
                ui.collapsing(self.t("编辑记录", "History"), |ui| {
                    for e in es.history.done.iter().rev().take(12) {
                        let name = e
                            .after
                            .as_ref()
                            .or(e.before.as_ref())
                            .map(|r| r.name.as_str())
                            .unwrap_or("");
                        ui.label(
                            RichText::new(format!(
                                "{} {} {name}",
                                e.at.get(11..16).unwrap_or(""),
                                if en { e.kind.en() } else { e.kind.zh() }
                            ))
                            .small(),
                        );
                    }
                });
            }
        }
    }

    /// The selected facility's attributes, its status buttons and the verification stamp.
    fn facility_form_ui(&mut self, ui: &mut egui::Ui) {
        let Some(key) = self.edit.selected.clone() else {
            return;
        };
        let Some(mut form) = self.edit.form.clone() else {
            return;
        };
        let en = self.lang == Lang::En;
        ui.separator();
        ui.label(
            RichText::new(format!(
                "{} {} ({} {})",
                self.t("选中设施", "Selected"),
                form.name,
                self.t("编号", "id"),
                key.source_id
            ))
            .strong(),
        )
        .on_hover_text(key.layer.clone());
        egui::Grid::new("facility_form")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label(self.t("名称", "Name"));
                ui.text_edit_singleline(&mut form.name).labelled_by(l.id);
                ui.end_row();
                let l = ui.label(self.t("类型", "Kind"));
                egui::ComboBox::from_id_salt("form_kind")
                    .selected_text(if en { form.kind.en() } else { form.kind.zh() })
                    .show_ui(ui, |ui| {
                        for k in FacilityKind::ALL {
                            ui.selectable_value(
                                &mut form.kind,
                                k,
                                if en { k.en() } else { k.zh() },
                            );
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label(if form.kind.is_childcare() {
                    self.t("托位", "Places")
                } else {
                    self.t("床位", "Beds")
                });
                ui.text_edit_singleline(&mut form.capacity)
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label(self.t("状态", "Status"));
                egui::ComboBox::from_id_salt("form_status")
                    .selected_text(status_text(form.status, en))
                    .show_ui(ui, |ui| {
                        for s in [
                            FacilityStatus::Existing,
                            FacilityStatus::Planned,
                            FacilityStatus::Closed,
                        ] {
                            ui.selectable_value(&mut form.status, s, status_text(s, en));
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let l = ui.label(self.t("年份", "Year"));
                ui.text_edit_singleline(&mut form.year).labelled_by(l.id);
                ui.end_row();
                for (i, q) in Qualifier::ALL.iter().enumerate() {
                    ui.label(if en { q.en() } else { q.zh() });
                    ui.horizontal(|ui| {
                        for (v, zh, enl) in [
                            (Some(true), "是", "yes"),
                            (Some(false), "否", "no"),
                            (None, "未知", "unknown"),
                        ] {
                            ui.radio_value(&mut form.qualifiers[i], v, if en { enl } else { zh });
                        }
                    });
                    ui.end_row();
                }
            });
        // Changed against the facility as it is, not the last frame's form.
        let current = self.facility_by_key(&key).and_then(|id| {
            let ds = self.data.dataset.as_ref()?;
            Some(Form::of(&FacilityRecord::of(ds.facility(id), ds)))
        });
        let changed = current.as_ref() != Some(&form);
        self.edit.form = Some(form.clone());
        ui.horizontal_wrapped(|ui| {
            if ui
                .add_enabled(
                    changed,
                    egui::Button::new(self.t("保存修改", "Save changes")),
                )
                .clicked()
            {
                // Checked first: a form that does not parse makes no edit.
                let mut probe = form.clone();
                let check = self.edit.selected.as_ref().and_then(|k| {
                    let id = self.facility_by_key(k)?;
                    let ds = self.data.dataset.as_ref()?;
                    Some(probe.apply(&mut FacilityRecord::of(ds.facility(id), ds)))
                });
                match check {
                    Some(Err((zh, enm))) => self.errors.push(if en { enm } else { zh }.into()),
                    Some(Ok(())) => self.edit_selected(EditKind::Change, |r| {
                        let _ = form.apply(r);
                    }),
                    None => {}
                }
                probe.name.clear();
            }
            if ui.button(self.t("标记关闭", "Mark closed")).clicked() {
                self.edit_selected(EditKind::Close, |r| r.status = FacilityStatus::Closed);
            }
            if ui.button(self.t("删除", "Delete")).clicked() {
                if let (Some(id), Some(ds)) =
                    (self.facility_by_key(&key), self.data.dataset.clone())
                {
                    if let Some(e) = Edit::delete(&ds, id) {
                        self.commands.push(Command::ApplyEdit(Box::new(e)));
                    }
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            let l = ui.label(self.t("核实人", "Surveyor"));
            ui.add(egui::TextEdit::singleline(&mut self.edit.surveyor).desired_width(80.0))
                .labelled_by(l.id);
            let l = ui.label(self.t("备注", "Note"));
            ui.add(egui::TextEdit::singleline(&mut self.edit.note).desired_width(120.0))
                .labelled_by(l.id);
            if ui
                .add_enabled(
                    !self.edit.surveyor.trim().is_empty(),
                    egui::Button::new(self.t("核实盖章", "Stamp verified")),
                )
                .clicked()
            {
                let v = Verification {
                    date: crate::report::pdf::today(),
                    by: self.edit.surveyor.trim().to_owned(),
                    note: self.edit.note.trim().to_owned(),
                };
                self.edit_selected(EditKind::Verify, |r| r.set_verification(&v));
            }
        });
        if let (Some(id), Some(ds)) = (self.facility_by_key(&key), self.data.dataset.as_ref()) {
            if let Some(v) = FacilityRecord::of(ds.facility(id), ds).verification() {
                ui.label(match self.lang {
                    Lang::Zh => format!("已核实：{} {} {}", v.date, v.by, v.note),
                    Lang::En => format!("verified on {} by {}, {}", v.date, v.by, v.note),
                });
            }
        }
    }
}

fn status_text(s: FacilityStatus, en: bool) -> &'static str {
    match (s, en) {
        (FacilityStatus::Existing, false) => "现有",
        (FacilityStatus::Planned, false) => "规划",
        (FacilityStatus::Proposed, false) => "建议",
        (FacilityStatus::Closed, false) => "已关闭",
        (s, true) => s.key(),
    }
}

/// Opens a dataset's edit log on the worker, at load: the log and any edits it holds. A
/// log beside the data that belongs to another dataset (same file name) is left alone and
/// this data's log goes to the user's data directory, said in the panel.
pub(super) fn open_log(ds: &Dataset) -> EditSession {
    let mut place = crate::io::edits::log_place(ds);
    let mut opened = EditLog::open(&place.path, ds);
    if let (Err(crate::Error::Input { .. }), None) = (&opened, &place.moved_from) {
        let folder = place
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let tag = crate::files::short_hash(folder.to_string_lossy().as_bytes());
        let file = place
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        place = LogPlace {
            path: crate::files::user_data_dir()
                .join("edits")
                .join(format!("{tag}-{file}")),
            moved_from: Some(folder),
        };
        opened = EditLog::open(&place.path, ds);
    }
    match opened {
        Ok(o) => EditSession {
            log: Some(o.log),
            place,
            restore: (!o.history.is_empty()).then_some(o.history),
            history: EditHistory::default(),
            problem: None,
            notes: o.notes,
        },
        Err(e) => EditSession {
            log: None,
            place,
            restore: None,
            history: EditHistory::default(),
            problem: Some(e.to_string()),
            notes: Vec::new(),
        },
    }
}

use std::path::Path;

use egui::RichText;
