//! Read-only views of the app state and command entry, for the binary and the headless UI
//! tests.

use super::*;

impl CareCircleApp {
    pub fn dataset(&self) -> Option<&Dataset> {
        self.data.dataset.as_deref()
    }

    /// Edits in force and undone (for redo) on the open data.
    pub fn edit_counts(&self) -> Option<(usize, usize)> {
        let h = &self.data.edits.as_ref()?.history;
        Some((h.done.len(), h.undone.len()))
    }

    /// Whether edits from the last session wait for "restore".
    pub fn restore_offered(&self) -> bool {
        self.data
            .edits
            .as_ref()
            .is_some_and(|e| e.restore.is_some())
    }

    /// Where the open data's edit log is kept.
    pub fn edit_log(&self) -> Option<&std::path::Path> {
        Some(&self.data.edits.as_ref()?.place.path)
    }

    /// The facility selected in edit mode, by layer and source id.
    pub fn selected_facility(&self) -> Option<&crate::model::edits::FacilityKey> {
        self.edit.selected.as_ref()
    }

    pub fn report(&self) -> Option<&Report> {
        self.data.report.as_deref()
    }

    pub fn selected(&self) -> Option<UnitId> {
        self.data.selected
    }

    /// The presentation's slide number (0-based) and count, when presenting.
    pub fn presenting(&self) -> Option<(usize, usize)> {
        Some((self.present.as_ref()?.slide, self.slides().len()))
    }

    /// The rule the map is coloured by (`None`: every rule's overall status).
    pub fn map_rule(&self) -> Option<&str> {
        self.map_rule.as_deref()
    }

    /// The named scenarios kept so far.
    pub fn scenario_names(&self) -> Vec<String> {
        self.scenarios.list.iter().map(|s| s.name.clone()).collect()
    }

    /// The last comparison of two scenarios, if one ran on this data.
    pub fn comparison(&self) -> Option<&crate::report::scenarios::Comparison> {
        self.data.comparison.as_ref().map(|c| &c.cmp)
    }

    /// Queue a command, as the UI's widgets do (for tests and scripted use).
    pub fn push(&mut self, c: Command) {
        self.commands.push(c);
    }

    /// Where local metres `(x, y)` were on screen in the last frame, if the map was drawn.
    pub fn screen_pos(&self, x: f64, y: f64) -> Option<Pos2> {
        Some(self.view?.to_screen(self.last_map_rect?, x, y))
    }

    /// Decisions on the last proposal run (accepted / rejected / undecided), in rank order.
    pub fn proposal_decisions(&self) -> &[Option<bool>] {
        &self.siting.decisions
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Map scale in pixels per metre, once the map has been drawn.
    pub fn map_scale(&self) -> Option<f64> {
        self.view.map(|v| v.scale)
    }

    /// Layer visibility and style, bottom to top.
    pub fn layers_mut(&mut self) -> &mut Vec<layers::LayerStyle> {
        &mut self.layers
    }

    /// Whether the file dialog is open.
    pub fn dialog_open(&self) -> bool {
        self.dialog.is_some()
    }

    /// Errors shown to the user.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The job the user cancelled last, as the top bar says it.
    pub fn cancelled(&self) -> Option<&str> {
        self.cancelled.as_deref()
    }

    /// Confirmations shown to the user (saved, exported).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// The import dialog's settings, when it is open (tests set a layer's CRS here).
    pub fn import_manifest_mut(&mut self) -> Option<&mut crate::io::manifest::Manifest> {
        self.import.as_mut().map(|i| &mut i.manifest)
    }

    /// Why the import dialog opened, when it did by itself.
    pub fn import_problem(&self) -> Option<&str> {
        self.import.as_ref().and_then(|i| i.problem.as_deref())
    }

    /// A job, a spot query or the map rule's uncovered demand is being computed off the
    /// UI thread.
    pub fn is_busy(&self) -> bool {
        self.job.is_some() || self.data.spot_query.is_some() || self.data.uncovered_query.is_some()
    }

    /// Colours the map by `rule` (`None`: every rule's overall status), as the map-rule
    /// box of the targets panel does.
    pub fn set_map_rule(&mut self, rule: Option<String>) {
        self.map_rule = rule;
    }

    /// The uncovered demand the map has for its rule, once computed: the rule and how many
    /// points.
    pub fn uncovered_on_map(&self) -> Option<(Option<&str>, usize)> {
        self.data
            .uncovered
            .as_ref()
            .map(|(rule, pts, _)| (rule.as_deref(), pts.len()))
    }
}
