//! The desktop app: a first map window. Loads a dataset on a named worker thread (progress,
//! cancel), draws unit boundaries, the street network and facilities, and lists load warnings
//! and data attribution. The full planner workspace is its own issue.
//!
//! UI code never mutates state directly during drawing: it pushes [`Command`]s, drained once
//! per frame (the rerun pattern), so jobs and UI stay decoupled.

use std::path::PathBuf;
use std::sync::mpsc;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

use crate::model::{Dataset, FacilityKind, FacilityStatus};
use crate::progress::SharedProgress;

/// The CJK font shipped with the app (WenQuanYi Micro Hei, GB2312 subset; Apache-2.0).
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei-gb2312.ttf");

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

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// Everything the UI can ask for.
pub enum Command {
    Load(PathBuf),
    CancelJob,
    FitView,
    SetLang(Lang),
    ToggleWarnings,
    ToggleAbout,
}

enum JobResult {
    Loaded(Box<Dataset>),
    Failed(String),
}

struct Job {
    progress: SharedProgress,
    rx: mpsc::Receiver<JobResult>,
}

/// Map view: local metres ↔ screen points.
#[derive(Clone, Copy)]
struct View {
    center: [f64; 2],
    /// Screen points per metre.
    scale: f64,
}

impl View {
    fn to_screen(self, rect: Rect, x: f64, y: f64) -> Pos2 {
        let c = rect.center();
        Pos2::new(
            c.x + ((x - self.center[0]) * self.scale) as f32,
            c.y - ((y - self.center[1]) * self.scale) as f32,
        )
    }
}

pub struct CareCircleApp {
    dataset: Option<Dataset>,
    job: Option<Job>,
    errors: Vec<String>,
    commands: Vec<Command>,
    view: Option<View>,
    lang: Lang,
    show_warnings: bool,
    show_about: bool,
    path_input: String,
}

impl CareCircleApp {
    pub fn new(ctx: &egui::Context, dataset: Option<PathBuf>) -> Self {
        install_fonts(ctx);
        let mut app = CareCircleApp {
            dataset: None,
            job: None,
            errors: Vec::new(),
            commands: Vec::new(),
            view: None,
            lang: Lang::Zh,
            show_warnings: false,
            show_about: false,
            path_input: String::new(),
        };
        let path = dataset.or_else(default_dataset);
        if let Some(p) = path {
            app.path_input = p.display().to_string();
            app.commands.push(Command::Load(p));
        }
        app
    }

    pub fn dataset(&self) -> Option<&Dataset> {
        self.dataset.as_ref()
    }

    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    fn handle_commands(&mut self, ctx: &egui::Context) {
        for cmd in std::mem::take(&mut self.commands) {
            match cmd {
                Command::Load(path) => self.start_load(ctx, path),
                Command::CancelJob => {
                    if let Some(j) = &self.job {
                        j.progress.cancel();
                    }
                }
                Command::FitView => self.view = None,
                Command::SetLang(l) => self.lang = l,
                Command::ToggleWarnings => self.show_warnings = !self.show_warnings,
                Command::ToggleAbout => self.show_about = !self.show_about,
            }
        }
    }

    fn start_load(&mut self, ctx: &egui::Context, path: PathBuf) {
        let progress = SharedProgress::new();
        let (tx, rx) = mpsc::sync_channel(1);
        let p = progress.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("carecircle-load".into())
            .spawn(move || {
                let result = match crate::io::load_path_with(&path, &p) {
                    Ok(ds) => JobResult::Loaded(Box::new(ds)),
                    Err(e) => JobResult::Failed(format!("{}: {e}", path.display())),
                };
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.job = Some(Job { progress, rx }),
            Err(e) => self
                .errors
                .push(format!("cannot start the loader thread: {e}")),
        }
    }

    fn poll_job(&mut self) {
        let Some(job) = &self.job else { return };
        match job.rx.try_recv() {
            Ok(JobResult::Loaded(ds)) => {
                self.dataset = Some(*ds);
                self.view = None;
                self.job = None;
            }
            Ok(JobResult::Failed(e)) => {
                self.errors.push(e);
                self.job = None;
            }
            Err(mpsc::TryRecvError::Empty) => {}
            Err(mpsc::TryRecvError::Disconnected) => {
                self.errors
                    .push("the loader stopped without a result".into());
                self.job = None;
            }
        }
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading(self.t("CareCircle 一老一小设施选址", "CareCircle siting"));
            ui.separator();
            ui.label(self.t("数据集路径", "Dataset path"));
            ui.add(egui::TextEdit::singleline(&mut self.path_input).desired_width(220.0));
            if ui.button(self.t("打开", "Open")).clicked() && !self.path_input.trim().is_empty() {
                self.commands
                    .push(Command::Load(PathBuf::from(self.path_input.trim())));
            }
            if ui.button(self.t("全图", "Fit")).clicked() {
                self.commands.push(Command::FitView);
            }
            ui.separator();
            let (label, next) = match self.lang {
                Lang::Zh => ("English", Lang::En),
                Lang::En => ("中文", Lang::Zh),
            };
            if ui.button(label).clicked() {
                self.commands.push(Command::SetLang(next));
            }
            let n_warn = self.dataset.as_ref().map_or(0, |d| d.warnings.len());
            if ui
                .button(format!("{} ({n_warn})", self.t("加载警告", "Warnings")))
                .clicked()
            {
                self.commands.push(Command::ToggleWarnings);
            }
            if ui
                .button(self.t("关于与数据来源", "About & data sources"))
                .clicked()
            {
                self.commands.push(Command::ToggleAbout);
            }
        });
        if let Some(job) = &self.job {
            let (stage, frac) = job.progress.snapshot();
            ui.horizontal(|ui| {
                ui.label(format!("{} {stage}", self.t("正在加载", "Loading")));
                match frac {
                    Some(f) => ui.add(
                        egui::ProgressBar::new(f)
                            .desired_width(240.0)
                            .show_percentage(),
                    ),
                    None => ui.spinner(),
                };
                if ui.button(self.t("取消", "Cancel")).clicked() {
                    self.commands.push(Command::CancelJob);
                }
            });
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        for e in &self.errors {
            ui.colored_label(Color32::from_rgb(200, 40, 40), e);
        }
    }

    fn legend_ui(&self, ui: &mut egui::Ui) {
        let Some(ds) = &self.dataset else {
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

    fn map_ui(&mut self, ui: &mut egui::Ui) {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_rgb(246, 245, 240));
        let Some(ds) = &self.dataset else { return };
        let view = *self.view.get_or_insert_with(|| fit_view(ds, rect));
        let mut view = view;
        if response.dragged() {
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
        let tx = |x: f64, y: f64| view.to_screen(rect, x, y);
        // Street network under everything, culled by bounding box.
        let street = Stroke::new(0.6, Color32::from_rgb(190, 190, 190));
        for l in &ds.network {
            let pts: Vec<Pos2> = l.geometry.0.iter().map(|c| tx(c.x, c.y)).collect();
            if pts.iter().any(|p| rect.contains(*p)) {
                painter.add(egui::Shape::line(pts, street));
            }
        }
        // Unit boundaries: county level thick, township level thin.
        for u in &ds.units {
            let Some(g) = &u.geometry else { continue };
            let stroke = match u.level.tier() {
                1 => Stroke::new(2.0, Color32::from_rgb(60, 60, 110)),
                2 => Stroke::new(1.0, Color32::from_rgb(90, 110, 160)),
                _ => Stroke::new(0.6, Color32::from_rgb(140, 150, 180)),
            };
            for poly in &g.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    let pts: Vec<Pos2> = ring.0.iter().map(|c| tx(c.x, c.y)).collect();
                    painter.add(egui::Shape::closed_line(pts, stroke));
                }
            }
        }
        for f in &ds.facilities {
            let Some(p) = f.location else { continue };
            let pos = tx(p.x(), p.y());
            if !rect.contains(pos) {
                continue;
            }
            let c = kind_color(f.kind);
            if f.synthetic {
                painter.circle_stroke(pos, 3.5, Stroke::new(1.5, c));
            } else if f.status == FacilityStatus::Existing {
                painter.circle_filled(pos, 4.0, c);
            } else {
                painter.rect_filled(Rect::from_center_size(pos, Vec2::splat(7.0)), 0.0, c);
            }
        }
        scale_bar(&painter, rect, view.scale);
    }
}

fn kind_color(kind: FacilityKind) -> Color32 {
    match kind {
        FacilityKind::DayCare => Color32::from_rgb(214, 96, 77),
        FacilityKind::StreetStation => Color32::from_rgb(140, 45, 140),
        FacilityKind::DistrictCenter => Color32::from_rgb(90, 30, 90),
        FacilityKind::TownshipInstitution => Color32::from_rgb(160, 100, 40),
        FacilityKind::CountyHardship => Color32::from_rgb(120, 70, 20),
        FacilityKind::VillageMutualAid => Color32::from_rgb(80, 140, 60),
        FacilityKind::CareHome => Color32::from_rgb(200, 150, 30),
        FacilityKind::Nursery => Color32::from_rgb(33, 113, 181),
    }
}

fn fit_view(ds: &Dataset, rect: Rect) -> View {
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
fn scale_bar(painter: &egui::Painter, rect: Rect, scale: f64) {
    let target_m = rect.width() as f64 / 5.0 / scale;
    let pow = 10f64.powf(target_m.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .rfind(|m| *m <= target_m)
        .unwrap_or(pow);
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
    let label = if nice >= 1000.0 {
        format!("{} km", nice / 1000.0)
    } else {
        format!("{nice} m")
    };
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

/// The demo to open with no arguments: `maps/harbin` next to the executable's project, or
/// in the working directory.
fn default_dataset() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("maps/harbin"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("dataset.toml").exists())
}

impl eframe::App for CareCircleApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.poll_job();
        let ctx = ui.ctx().clone();
        self.handle_commands(&ctx);
        egui::Panel::top("top").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::left("legend")
            .default_size(260.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.legend_ui(ui));
            });
        egui::CentralPanel::default().show(ui, |ui| self.map_ui(ui));
        if self.show_warnings {
            let mut open = true;
            egui::Window::new(self.t("加载警告", "Load warnings"))
                .open(&mut open)
                .default_width(600.0)
                .show(&ctx, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        if let Some(ds) = &self.dataset {
                            for w in &ds.warnings {
                                ui.label(w.to_string());
                            }
                        }
                    });
                });
            self.show_warnings = open;
        }
        if self.show_about {
            let mut open = true;
            egui::Window::new(self.t("关于与数据来源", "About & data sources"))
                .open(&mut open)
                .default_width(520.0)
                .show(&ctx, |ui| {
                    ui.label("CareCircle — 一老一小设施覆盖分析与选址");
                    ui.label(self.t(
                        "字体：文泉驿微米黑（Apache-2.0 / GPLv3）",
                        "Font: WenQuanYi Micro Hei (Apache-2.0 / GPLv3)",
                    ));
                    ui.separator();
                    if let Some(ds) = &self.dataset {
                        for a in &ds.attribution {
                            ui.label(a);
                        }
                    }
                });
            self.show_about = open;
        }
    }
}

/// Opens the desktop window.
pub fn run(dataset: Option<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 800.0])
            .with_title("CareCircle"),
        ..Default::default()
    };
    eframe::run_native(
        "CareCircle",
        options,
        Box::new(move |cc| Ok(Box::new(CareCircleApp::new(&cc.egui_ctx, dataset)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
