//! Scenarios side by side: named scenarios kept in a project ("现状", "2025 规划项目",
//! "方案A: 10 处新增"), each settings plus facility changes; run on the same data and
//! compared rule by rule and unit by unit. The CLI (`analyze --compare`) and the app read
//! the same project file and the same comparison.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::coverage::analysis::Status;
use crate::coverage::{DistanceMode, Report, Scenario};
use crate::model::{Dataset, FacilityId, FacilityKind, LayerId};
use crate::network::Graph;
use crate::progress::Progress;
use crate::siting::propose::Proposals;
use crate::spatial::UnitIndexes;
use crate::{Error, Result};

/// A facility a scenario adds (an accepted proposal, a planned project drawn in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddedFacility {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    #[serde(default)]
    pub capacity: Option<f64>,
}

/// A run's settings as files keep them: plan, walk, distance mode, planned projects, year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSettings {
    pub preset: String,
    pub minutes: f64,
    pub speed: f64,
    pub network: bool,
    pub with_planned: bool,
    #[serde(default)]
    pub year: Option<i32>,
}

impl ScenarioSettings {
    /// The settings of a library scenario.
    pub fn of(sc: &Scenario) -> ScenarioSettings {
        let s = &sc.rules().settings;
        ScenarioSettings {
            preset: sc.preset.clone(),
            minutes: s.walk_minutes,
            speed: s.walk_speed_m_s,
            network: sc.mode == DistanceMode::Network,
            with_planned: sc.include_planned,
            year: sc.year,
        }
    }

    /// The library scenario these settings describe.
    pub fn scenario(&self) -> Result<Scenario> {
        let mut sc = Scenario::new(&self.preset)?;
        sc.set_walk(self.minutes, self.speed)?;
        sc.mode = if self.network {
            DistanceMode::Network
        } else {
            DistanceMode::Euclidean
        };
        sc.include_planned = self.with_planned;
        sc.year = self.year;
        Ok(sc)
    }
}

/// One named scenario: the settings of a run and the facilities it adds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedScenario {
    pub name: String,
    #[serde(flatten)]
    pub settings: ScenarioSettings,
    #[serde(default)]
    pub added: Vec<AddedFacility>,
}

impl NamedScenario {
    pub fn scenario(&self) -> Result<Scenario> {
        self.settings.scenario()
    }

    /// `ds` with the scenario's facilities added as proposed ones (placed in their units);
    /// an unknown kind or a point outside the data's extent is an error naming it.
    pub fn apply(&self, ds: &Dataset) -> Result<Dataset> {
        let mut out = ds.clone();
        if self.added.is_empty() {
            return Ok(out);
        }
        let idx = UnitIndexes::new(ds);
        let layer = LayerId(out.layers.len() as u32);
        for a in &self.added {
            let kind = FacilityKind::parse(&a.kind).ok_or_else(|| {
                Error::input(
                    format!(
                        "scenario '{}': facility {} has an unknown kind '{}'",
                        self.name, a.id, a.kind
                    ),
                    format!(
                        "情景“{}”：设施 {} 的类型“{}”无法识别",
                        self.name, a.id, a.kind
                    ),
                )
            })?;
            if !(a.lon.is_finite()
                && a.lat.is_finite()
                && (-180.0..=180.0).contains(&a.lon)
                && (-90.0..=90.0).contains(&a.lat))
            {
                return Err(Error::input(
                    format!(
                        "scenario '{}': facility {} lies at {}, {}: not a longitude/latitude",
                        self.name, a.id, a.lon, a.lat
                    ),
                    format!(
                        "情景“{}”：设施 {} 的坐标 {}, {} 不是经纬度",
                        self.name, a.id, a.lon, a.lat
                    ),
                ));
            }
            let (x, y) = ds.projection.forward(a.lon, a.lat);
            let p = geo::Point::new(x, y);
            let id = FacilityId(out.facilities.len() as u32);
            out.facilities.push(crate::model::Facility::proposed(
                id,
                a.id.clone(),
                a.name.clone(),
                kind,
                a.capacity,
                p,
                idx.locate_finest(ds, p),
                layer,
            ));
        }
        Ok(out)
    }

    /// The scenario's report on `ds` (its facilities added and counted); `graph` is needed
    /// in network mode.
    pub fn run(
        &self,
        ds: &Dataset,
        graph: Option<&Graph>,
        progress: &dyn Progress,
    ) -> Result<Report> {
        let sc = self.scenario()?;
        let data = self.apply(ds)?;
        let mut opts = sc.options();
        opts.include_proposed = true;
        let access = sc.access(graph)?;
        crate::coverage::analyze(&data, sc.rules(), &opts, access.as_ref(), progress)
    }
}

/// What the library reads of a project file (.ccproj); the app keeps more (layers, view),
/// and unknown keys are ignored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectFile {
    pub version: u32,
    pub dataset: Option<PathBuf>,
    #[serde(flatten)]
    pub settings: ScenarioSettings,
    #[serde(default)]
    pub proposals: Option<Proposals>,
    #[serde(default)]
    pub decisions: Vec<Option<bool>>,
    /// The project's named scenarios.
    #[serde(default)]
    pub scenarios: Vec<NamedScenario>,
}

impl ProjectFile {
    pub fn read(path: &Path) -> Result<ProjectFile> {
        let bytes = crate::files::read_input(path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::format(path, format!("not a CareCircle project file ({e})")))
    }

    /// The dataset's path, resolved against the project file's folder.
    pub fn dataset_path(&self, project: &Path) -> Option<PathBuf> {
        let d = self.dataset.as_ref()?;
        Some(if d.is_absolute() {
            d.clone()
        } else {
            project.parent().unwrap_or(Path::new(".")).join(d)
        })
    }

    /// The project's current state as a scenario: its settings and accepted proposals.
    pub fn current(&self, name: &str) -> NamedScenario {
        let added = match &self.proposals {
            Some(p) => accepted(p, &self.decisions),
            None => Vec::new(),
        };
        NamedScenario {
            name: name.to_owned(),
            settings: self.settings.clone(),
            added,
        }
    }

    /// `FILE` (the current state, named after the file) or `FILE#NAME` (a named scenario).
    pub fn resolve(spec: &str) -> Result<(PathBuf, ProjectFile, NamedScenario)> {
        let (file, name) = match spec.rsplit_once('#') {
            Some((f, n)) if !n.is_empty() => (f, Some(n)),
            _ => (spec, None),
        };
        let path = PathBuf::from(file);
        let pf = ProjectFile::read(&path)?;
        let sc = match name {
            None => pf.current(
                &path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| file.to_owned()),
            ),
            Some(n) => pf
                .scenarios
                .iter()
                .find(|s| s.name == n)
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<&str> = pf.scenarios.iter().map(|s| s.name.as_str()).collect();
                    Error::input(
                        format!(
                            "{file}: no scenario named '{n}' (it has: {})",
                            if names.is_empty() {
                                "none".into()
                            } else {
                                names.join(", ")
                            }
                        ),
                        format!(
                            "{file}：没有名为“{n}”的情景（已有：{}）",
                            if names.is_empty() {
                                "无".into()
                            } else {
                                names.join("、")
                            }
                        ),
                    )
                })?,
        };
        Ok((path, pf, sc))
    }
}

/// The accepted proposals of a run as facilities to add.
pub fn accepted(p: &Proposals, decisions: &[Option<bool>]) -> Vec<AddedFacility> {
    p.proposals
        .iter()
        .enumerate()
        .filter(|(i, _)| decisions.get(*i).copied().flatten() == Some(true))
        .map(|(_, x)| AddedFacility {
            kind: p.kind.to_string(),
            id: x.candidate_id.clone(),
            name: x.name.clone(),
            lon: x.lon,
            lat: x.lat,
            capacity: x.places,
        })
        .collect()
}

/// One rule in both scenarios.
#[derive(Clone, Debug, Serialize)]
pub struct RuleChange {
    pub id: String,
    pub test: String,
    pub title: String,
    pub title_en: String,
    pub status_a: Status,
    pub status_b: Status,
    pub value_a: Option<f64>,
    pub value_b: Option<f64>,
    /// The values as the report prints them ("98.1%", "0.25/千人", "≥ 3.86/千人").
    pub value_a_text: String,
    pub value_b_text: String,
    pub value_a_text_en: String,
    pub value_b_text_en: String,
    pub units_meeting_a: usize,
    pub units_meeting_b: usize,
    pub units_total: usize,
    /// Units whose status or value differs.
    pub units_changed: usize,
}

impl RuleChange {
    /// The title in the UI's language.
    pub fn title_in(&self, english: bool) -> &str {
        if english {
            &self.title_en
        } else {
            &self.title
        }
    }
}

/// A unit whose status or value on a rule differs between the scenarios.
#[derive(Clone, Debug, Serialize)]
pub struct UnitChange {
    pub code: String,
    pub name: String,
    pub level: String,
    pub rule: String,
    /// The rule's test: what the unit's value is (a count, per 1000, a share).
    pub test: String,
    pub status_a: Status,
    pub status_b: Status,
    pub value_a: Option<f64>,
    pub value_b: Option<f64>,
}

/// Two scenarios compared.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub rules: Vec<RuleChange>,
    pub units: Vec<UnitChange>,
}

fn differs(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0),
        (None, None) => false,
        _ => true,
    }
}

/// Rule by rule and unit by unit, what differs between `a` and `b` (same data: units are
/// matched by code, rules by id; a rule only one preset has is listed with the other side
/// not evaluable).
pub fn compare(a: &Report, b: &Report, a_name: &str, b_name: &str) -> Comparison {
    let mut units = Vec::new();
    let mut rules = Vec::new();
    let by_code: std::collections::HashMap<&str, &crate::coverage::UnitResult> =
        b.units.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut ids: Vec<&str> = a.rules.iter().map(|r| r.id.as_str()).collect();
    for r in &b.rules {
        if !ids.contains(&r.id.as_str()) {
            ids.push(&r.id);
        }
    }
    for id in ids {
        let ra = a.rules.iter().find(|r| r.id == id);
        let rb = b.rules.iter().find(|r| r.id == id);
        let any = ra.or(rb).expect("listed from one of them");
        let mut changed = 0;
        for ua in &a.units {
            let Some(ub) = by_code.get(ua.code.as_str()) else {
                continue;
            };
            let (sa, sb) = (ua.rules.get(id), ub.rules.get(id));
            if sa.is_none() && sb.is_none() {
                continue;
            }
            let st = |s: Option<&crate::coverage::analysis::UnitRuleStatus>| {
                s.map(|s| s.status).unwrap_or(Status::NotEvaluable)
            };
            let (va, vb) = (sa.and_then(|s| s.value), sb.and_then(|s| s.value));
            if st(sa) != st(sb) || differs(va, vb) {
                changed += 1;
                units.push(UnitChange {
                    code: ua.code.clone(),
                    name: ua.name.clone(),
                    level: ua.level.key().to_owned(),
                    rule: id.to_owned(),
                    test: any.test.to_owned(),
                    status_a: st(sa),
                    status_b: st(sb),
                    value_a: va,
                    value_b: vb,
                });
            }
        }
        let text = |r: Option<&crate::coverage::RuleResult>, en: bool| {
            r.map(|r| r.value_with_range(en))
                .unwrap_or_else(|| "–".into())
        };
        rules.push(RuleChange {
            id: id.to_owned(),
            test: any.test.to_owned(),
            value_a_text: text(ra, false),
            value_b_text: text(rb, false),
            value_a_text_en: text(ra, true),
            value_b_text_en: text(rb, true),
            title: any.title.clone(),
            title_en: any.title_en.clone(),
            status_a: ra.map(|r| r.status).unwrap_or(Status::NotEvaluable),
            status_b: rb.map(|r| r.status).unwrap_or(Status::NotEvaluable),
            value_a: ra.and_then(|r| r.value),
            value_b: rb.and_then(|r| r.value),
            units_meeting_a: ra.map(|r| r.units_meeting).unwrap_or(0),
            units_meeting_b: rb.map(|r| r.units_meeting).unwrap_or(0),
            units_total: any.units_total,
            units_changed: changed,
        });
    }
    Comparison {
        a: a_name.to_owned(),
        b: b_name.to_owned(),
        rules,
        units,
    }
}

impl Comparison {
    /// The table a meeting reads: each rule's status and value in A and B, and how many
    /// units changed; then the changed units.
    pub fn to_text(&self, english: bool, max_units: usize) -> String {
        use std::fmt::Write as _;
        let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
        let st = |s: Status| if english { s.en() } else { s.zh() };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: A = {}  B = {}",
            t("情景对比", "Scenarios compared"),
            self.a,
            self.b
        );
        for r in &self.rules {
            let _ = writeln!(
                s,
                "  {:<40} A {} {:>8}  →  B {} {:>8}   {} {}/{} → {}/{}   {} {}",
                r.title_in(english),
                st(r.status_a),
                if english {
                    &r.value_a_text_en
                } else {
                    &r.value_a_text
                },
                st(r.status_b),
                if english {
                    &r.value_b_text_en
                } else {
                    &r.value_b_text
                },
                t("达标单元", "units meeting"),
                r.units_meeting_a,
                r.units_total,
                r.units_meeting_b,
                r.units_total,
                t("变化单元", "units changed"),
                r.units_changed
            );
        }
        if !self.units.is_empty() {
            let _ = writeln!(
                s,
                "{} ({}):",
                t("有变化的单元", "Units that differ"),
                self.units.len()
            );
            for u in self.units.iter().take(max_units) {
                let _ = writeln!(
                    s,
                    "  {} {} · {}: {} {} → {} {}",
                    u.name,
                    u.code,
                    u.rule,
                    st(u.status_a),
                    unit_value_text(&u.test, u.value_a, english),
                    st(u.status_b),
                    unit_value_text(&u.test, u.value_b, english)
                );
            }
            if self.units.len() > max_units {
                let _ = writeln!(
                    s,
                    "  … {} {}",
                    self.units.len() - max_units,
                    t("条（见 JSON/CSV）", "more (see JSON/CSV)")
                );
            }
        }
        s
    }

    /// One row per unit and rule that differs.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| Error::Analysis(format!("comparison CSV: {e}"));
        w.write_record([
            "code", "name", "level", "rule", "status_a", "status_b", "value_a", "value_b",
        ])
        .map_err(io)?;
        let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        for u in &self.units {
            w.write_record([
                u.code.as_str(),
                u.name.as_str(),
                u.level.as_str(),
                u.rule.as_str(),
                u.status_a.key(),
                u.status_b.key(),
                &num(u.value_a),
                &num(u.value_b),
            ])
            .map_err(io)?;
        }
        w.into_inner()
            .map_err(|e| Error::Analysis(format!("comparison CSV: {e}")))
    }
}

/// A unit's own value on a rule, as a person reads it: a facility count for presence
/// rules, per 1000 for places and beds, a share otherwise.
pub fn unit_value_text(test: &str, v: Option<f64>, english: bool) -> String {
    match (test, v) {
        (_, None) => "–".into(),
        ("presence" | "presence_share" | "count", Some(x)) => format!("{x:.0}"),
        ("places_per_1000" | "beds_per_1000", Some(x)) => {
            format!("{x:.2}{}", if english { "/1000" } else { "/千人" })
        }
        ("capacity_total", Some(x)) => crate::coverage::analysis::thousands(x),
        (_, Some(x)) => format!("{:.1}%", x * 100.0),
    }
}
