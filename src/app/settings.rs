//! What the app remembers between sessions (eframe storage) and its fonts.

use super::*;

/// Installs the CJK font as a fallback for every family, so Chinese renders on machines
/// with no CJK fonts installed (and in headless tests).
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "wqy".to_owned(),
        std::sync::Arc::new(egui::FontData::from_static(CJK_FONT)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("wqy".to_owned());
    }
    ctx.set_fonts(fonts);
}

/// What the app remembers between sessions.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Saved {
    dataset: Option<PathBuf>,
    preset: String,
    minutes: f64,
    speed: f64,
    network: bool,
    english: bool,
    with_planned: bool,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    layers: Vec<layers::LayerStyle>,
    #[serde(default)]
    map_rule: Option<String>,
}

pub(super) const SAVED_KEY: &str = "carecircle-settings";

/// The demo to open with no arguments: `maps/harbin` next to the executable's project, or
/// in the working directory.
pub(super) fn default_dataset() -> Option<PathBuf> {
    demo_candidates()
        .into_iter()
        .find(|p| p.join("dataset.toml").exists())
}

/// Where the bundled Harbin demo may be, in order: beside the program (the Windows zip),
/// the installed package's share folder (`/usr/share/carecircle`), the working directory,
/// the source tree.
pub(super) fn demo_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        v.push(dir.join("maps").join("harbin"));
        v.push(
            dir.join("..")
                .join("share")
                .join("carecircle")
                .join("maps")
                .join("harbin"),
        );
    }
    v.push(PathBuf::from("maps").join("harbin"));
    v.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin"));
    v
}

/// Whether `p` is one of the bundled demos (any of them, wherever installed).
pub(super) fn is_demo(p: &std::path::Path) -> bool {
    let Ok(c) = std::fs::canonicalize(p) else {
        return false;
    };
    demo_candidates()
        .iter()
        .filter_map(|d| d.parent().and_then(|m| std::fs::canonicalize(m).ok()))
        .any(|maps| c.starts_with(maps))
}

impl CareCircleApp {
    pub(super) fn restore(&mut self, storage: Option<&dyn eframe::Storage>) -> Option<PathBuf> {
        let st: Saved = eframe::get_value(storage?, SAVED_KEY)?;
        self.set_scenario(
            &st.preset,
            st.minutes,
            st.speed,
            st.network,
            st.with_planned,
            st.year,
        );
        self.lang = if st.english { Lang::En } else { Lang::Zh };
        if !st.layers.is_empty() {
            self.layers = layers::normalise(st.layers);
        }
        if st.map_rule.is_some() {
            self.map_rule = st.map_rule;
        }
        st.dataset.filter(|p| p.exists())
    }
}

impl CareCircleApp {
    /// The settings to remember.
    pub(super) fn saved(&self) -> Saved {
        Saved {
            dataset: self.data.dataset.as_ref().map(|d| d.source.clone()),
            preset: self.scenario.preset.clone(),
            minutes: self.scenario.rules().settings.walk_minutes,
            speed: self.scenario.rules().settings.walk_speed_m_s,
            network: self.scenario.mode == DistanceMode::Network,
            english: self.lang == Lang::En,
            with_planned: self.scenario.include_planned,
            year: self.scenario.year,
            layers: self.layers.clone(),
            map_rule: self.map_rule.clone(),
        }
    }
}
