//! Reading presets: the TOML schema, defaults and every check, with messages that name the
//! preset file and the rule.

use std::path::Path;

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSet {
    id: String,
    title_zh: String,
    title_en: String,
    document: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    settings: FileSettings,
    #[serde(default)]
    rules: Vec<FileRule>,
    #[serde(default)]
    not_modelled: Vec<FileNotModelled>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    walk_minutes: Option<f64>,
    walk_speed_m_s: Option<f64>,
    nursery_radius_m: Option<f64>,
    grid_cell_m: Option<f64>,
    max_grid_points_per_unit: Option<usize>,
    min_buildings: Option<usize>,
    statuses: Option<Vec<String>>,
    #[serde(default)]
    access: FileAccess,
}

/// `[settings.access]`: decay parameters of the accessibility measures.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileAccess {
    decay: Option<String>,
    sigma_m: Option<f64>,
    beta_per_km: Option<f64>,
    steps: Option<Vec<(f64, f64)>>,
    n: Option<usize>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A rule's citation in a preset: the preset's document and number unless given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCitation {
    document: Option<String>,
    number: Option<String>,
    clause: String,
    quote: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    id: String,
    title_zh: String,
    title_en: String,
    test: String,
    scope: Option<String>,
    level: OneOrMany,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    qualifiers: Vec<String>,
    min_grade: Option<u8>,
    qualified_kinds: Option<Vec<String>>,
    target: f64,
    #[serde(default)]
    target_user_set: bool,
    deadline: Option<i32>,
    area: Option<String>,
    group: Option<String>,
    distance_m: Option<f64>,
    minutes: Option<f64>,
    speed_m_s: Option<f64>,
    citation: FileCitation,
    #[serde(default)]
    convention: bool,
    binding: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotModelled {
    id: String,
    title_zh: String,
    title_en: String,
    citation: FileCitation,
    reason: String,
}

const KINDS_HELP: &str = "day_care, street_station, district_center, township_institution, county_hardship, village_mutual_aid, care_home, nursery";

impl RuleSet {
    /// A shipped preset by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Self> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| Error::Rules {
                origin: name.to_owned(),
                message: format!(
                    "no such preset; the presets are {}, or give a .toml file",
                    PRESETS.map(|p| p.0).join(", ")
                ),
            })?;
        Self::parse(text, &format!("preset {name}"))
    }

    /// A preset name or a path to a TOML file (e.g. a copied and edited preset).
    pub fn load(name_or_path: &str) -> Result<Self> {
        if PRESETS.iter().any(|(n, _)| *n == name_or_path) {
            return Self::preset(name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.ends_with(".toml") {
            let text = crate::files::read_input_text(path)?;
            return Self::parse(&text, &path.display().to_string());
        }
        Self::preset(name_or_path)
    }

    /// Parses and validates a preset; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let err = |message: String| Error::Rules {
            origin: origin.to_owned(),
            message,
        };
        let f: FileSet = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let settings = parse_settings(f.settings, origin)?;
        let mut rules: Vec<Rule> = Vec::new();
        for r in &f.rules {
            let rule = parse_rule(r, &settings, &f.document, &f.number, origin)?;
            if rules.iter().any(|x| x.id == r.id) {
                return Err(err(format!("rule '{}': duplicate rule id", r.id)));
            }
            rules.push(rule);
        }
        let not_modelled = f
            .not_modelled
            .iter()
            .map(|n| NotModelled {
                id: n.id.clone(),
                title_zh: n.title_zh.clone(),
                title_en: n.title_en.clone(),
                citation: cite(&f.document, &f.number, &n.citation),
                reason: n.reason.clone(),
            })
            .collect();
        Ok(RuleSet {
            id: f.id.clone(),
            title_zh: f.title_zh.clone(),
            title_en: f.title_en.clone(),
            document: f.document.clone(),
            number: f.number.clone(),
            issuer: f.issuer.clone(),
            date: f.date.clone(),
            settings,
            rules,
            not_modelled,
        })
    }

    /// Re-derives walking distances after the user changed time or speed in the settings,
    /// for rules that follow the settings (those without their own distance).
    pub fn set_walk(&mut self, minutes: f64, speed_m_s: f64) {
        self.settings.walk_minutes = minutes;
        self.settings.walk_speed_m_s = speed_m_s;
        let new = self.settings.walk();
        for r in &mut self.rules {
            if r.follows_walk {
                r.distance = Some(new);
            }
        }
    }
}

/// A rule's citation: the preset's document and number unless it names its own.
fn cite(document: &str, number: &str, c: &FileCitation) -> Citation {
    Citation {
        document: c.document.clone().unwrap_or_else(|| document.to_owned()),
        number: match (&c.document, &c.number) {
            (_, Some(n)) => n.clone(),
            (None, None) => number.to_owned(),
            (Some(_), None) => String::new(),
        },
        clause: c.clause.clone(),
        quote: c.quote.clone(),
    }
}

/// The preset's settings, defaults filled in, each checked.
fn parse_settings(s: FileSettings, origin: &str) -> Result<Settings> {
    let err = |message: String| Error::Rules {
        origin: origin.to_owned(),
        message,
    };
    let d = Settings::default();

    let statuses = match s.statuses {
        None => d.statuses.clone(),
        Some(v) => v
            .iter()
            .map(|x| {
                FacilityStatus::parse(x)
                    .filter(|s| *s != FacilityStatus::Closed)
                    .ok_or_else(|| {
                        err(format!(
                            "settings.statuses: unknown status '{x}' (existing, planned, proposed)"
                        ))
                    })
            })
            .collect::<Result<_>>()?,
    };
    let settings = Settings {
        walk_minutes: s.walk_minutes.unwrap_or(d.walk_minutes),
        walk_speed_m_s: s.walk_speed_m_s.unwrap_or(d.walk_speed_m_s),
        nursery_radius_m: s.nursery_radius_m.unwrap_or(d.nursery_radius_m),
        grid_cell_m: s.grid_cell_m.unwrap_or(d.grid_cell_m),
        max_grid_points_per_unit: s
            .max_grid_points_per_unit
            .unwrap_or(d.max_grid_points_per_unit),
        min_buildings: s.min_buildings.unwrap_or(d.min_buildings),
        statuses,
        access: AccessSettings {
            decay: s.access.decay.clone(),
            sigma_m: s.access.sigma_m,
            beta_per_km: s.access.beta_per_km,
            steps: s.access.steps.clone(),
            n: s.access.n,
        },
    };
    // Every decay the preset names or parameterises must make sense (the catchment only
    // scales defaults, so any positive one checks the given parameters).
    let a = &settings.access;
    let mut named: Vec<&str> = a.decay.as_deref().into_iter().collect();
    for (given, name) in [
        (a.sigma_m.is_some(), "gaussian"),
        (a.beta_per_km.is_some(), "exponential"),
        (a.steps.is_some(), "step"),
    ] {
        if given {
            named.push(name);
        }
    }
    for name in named {
        a.decay(Some(name), 1000.0)
            .map_err(|m| err(format!("settings.access: {m}")))?;
    }
    if settings.access.n == Some(0) {
        return Err(err("settings.access.n must be at least 1".into()));
    }
    // Upper bounds with their reason, as for the command-line arguments.
    use crate::coverage::scenario::{MAX_WALK_MINUTES, MAX_WALK_SPEED_M_S};
    for (name, v, hi, why) in [
        (
            "walk_minutes",
            settings.walk_minutes,
            MAX_WALK_MINUTES,
            "a service circle, not a journey",
        ),
        (
            "walk_speed_m_s",
            settings.walk_speed_m_s,
            MAX_WALK_SPEED_M_S,
            "a walk, not a run",
        ),
        (
            "nursery_radius_m",
            settings.nursery_radius_m,
            100_000.0,
            "metres",
        ),
        ("grid_cell_m", settings.grid_cell_m, 100_000.0, "metres"),
    ] {
        if !(v.is_finite() && v > 0.0 && v <= hi) {
            return Err(err(format!(
                "settings.{name} must be a positive number of at most {hi} ({why}), not {v}"
            )));
        }
    }
    if settings.max_grid_points_per_unit == 0 {
        return Err(err(
            "settings.max_grid_points_per_unit must be at least 1".into()
        ));
    }
    Ok(settings)
}

/// One rule of a preset, checked: test and scope, levels, kinds, qualifiers, target,
/// deadline, area, population base, distance and citation. Errors name the rule.
fn parse_rule(
    r: &FileRule,
    settings: &Settings,
    document: &str,
    number: &str,
    origin: &str,
) -> Result<Rule> {
    let err = |message: String| Error::Rules {
        origin: origin.to_owned(),
        message,
    };
    let rerr = |m: String| err(format!("rule '{}': {m}", r.id));
    let test = Test::parse(&r.test).ok_or_else(|| {
        rerr(format!(
            "unknown test '{}' (presence, presence_share, places_per_1000, beds_per_1000, qualified_share, nursing_bed_share, capacity_total, count, population_within)",
            r.test
        ))
    })?;
    let scope = parse_scope(test, r).map_err(rerr)?;
    let levels = r
        .level
        .list()
        .iter()
        .map(|l| {
            UnitLevel::parse(l).ok_or_else(|| {
                rerr(format!(
                    "unknown level '{l}' (district, county, sub_district, township, special_area, community, village)"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if levels.is_empty() {
        return Err(rerr("needs at least one level".into()));
    }
    let (kinds, qualifiers, qualified_kinds) = parse_kinds_and_qualifiers(test, r).map_err(rerr)?;
    if !(r.target.is_finite() && r.target >= 0.0) {
        return Err(rerr(format!(
            "target must be zero or positive, not {}",
            r.target
        )));
    }
    let share = test.is_share() || scope == Scope::Share;
    if share && r.target > 1.0 {
        return Err(rerr(format!(
            "target {} is a share and must be between 0 and 1 (e.g. 0.9 for 90 %)",
            r.target
        )));
    }
    if let Some(y) = r.deadline {
        if !(1990..=2100).contains(&y) {
            return Err(rerr(format!("deadline {y} is not a year")));
        }
    }
    let area = match r.area.as_deref() {
        None | Some("all") => Area::All,
        Some("central_urban") => Area::CentralUrban,
        Some(a) => {
            return Err(rerr(format!("unknown area '{a}' (all, central_urban)")));
        }
    };
    if matches!(test, Test::PlacesPer1000 | Test::BedsPer1000) && r.group.is_none() {
        return Err(rerr(
            "a per-1000 rule needs its population base: group = total | aged_60plus | aged_0_3"
                .into(),
        ));
    }
    let childcare = kinds.iter().all(|k| k.is_childcare());
    let group = match &r.group {
        Some(g) => AgeGroup::parse(g).ok_or_else(|| {
            rerr(format!(
                "unknown group '{g}' (total, aged_60plus, aged_0_3)"
            ))
        })?,
        None if test == Test::BedsPer1000 => AgeGroup::Aged60plus,
        None if test == Test::PlacesPer1000 => AgeGroup::Total,
        None if childcare || test == Test::PopulationWithin => AgeGroup::for_kinds(&kinds),
        None => AgeGroup::Total,
    };
    let (distance, follows_walk) = if test == Test::PopulationWithin {
        let (d, follows) = parse_distance(r, settings, childcare).map_err(rerr)?;
        (Some(d), follows)
    } else {
        (None, false)
    };
    let citation = cite(document, number, &r.citation);
    if citation.document.trim().is_empty() || citation.clause.trim().is_empty() {
        return Err(rerr(
            "citation needs a document (here or the preset's) and a clause".into(),
        ));
    }
    Ok(Rule {
        id: r.id.clone(),
        title_zh: r.title_zh.clone(),
        title_en: r.title_en.clone(),
        test,
        scope,
        levels,
        kinds,
        qualifiers,
        min_grade: r.min_grade,
        qualified_kinds,
        target: r.target,
        target_user_set: r.target_user_set,
        deadline: r.deadline,
        area,
        group,
        distance,
        follows_walk,
        citation,
        convention: r.convention,
        binding: r.binding,
    })
}

/// A rule's scope: the test's default, or the one given if the test takes it.
fn parse_scope(test: Test, r: &FileRule) -> std::result::Result<Scope, String> {
    Ok(match &r.scope {
        None => test.scopes()[0],
        Some(sc) => {
            let scope = Scope::parse(sc).ok_or_else(|| {
                format!("unknown scope '{sc}' (per_unit, share, aggregate, count)")
            })?;
            if !test.scopes().contains(&scope) {
                return Err(format!(
                    "scope '{sc}' does not apply to test '{}' (it takes {})",
                    r.test,
                    test.scopes()
                        .iter()
                        .map(|s| s.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            scope
        }
    })
}

/// A reach rule's distance: a radius, minutes at a speed, the nursery radius, or the
/// preset's walk (then the rule follows later changes of the walk: `true`).
fn parse_distance(
    r: &FileRule,
    settings: &Settings,
    childcare: bool,
) -> std::result::Result<(Distance, bool), String> {
    let mut follows_walk = false;
    let d = match (r.distance_m, r.minutes, r.speed_m_s) {
        (Some(m), None, None) => Distance::radius(m),
        (None, Some(t), s) => Distance::walk(t, s.unwrap_or(settings.walk_speed_m_s)),
        (None, None, Some(s)) => Distance::walk(settings.walk_minutes, s),
        (None, None, None) if childcare => Distance::radius(settings.nursery_radius_m),
        (None, None, None) => {
            follows_walk = true;
            settings.walk()
        }
        _ => {
            return Err(
                "give either distance_m or minutes (with optional speed_m_s), not both".into(),
            )
        }
    };
    if !(d.metres.is_finite() && d.metres > 0.0) {
        return Err(format!("distance must be positive, not {} m", d.metres));
    }
    Ok((d, follows_walk))
}

/// A rule's facility kinds, the qualifiers they need, and which kinds need them (the old
/// `public_benefit_share` test means the 普惠 share).
#[allow(clippy::type_complexity)]
fn parse_kinds_and_qualifiers(
    test: Test,
    r: &FileRule,
) -> std::result::Result<(Vec<FacilityKind>, Vec<Qualifier>, Vec<FacilityKind>), String> {
    let parse_kinds = |v: &[String]| {
        v.iter()
            .map(|k| {
                FacilityKind::parse(k)
                    .ok_or_else(|| format!("unknown facility kind '{k}' ({KINDS_HELP})"))
            })
            .collect::<std::result::Result<Vec<_>, String>>()
    };
    let kinds = parse_kinds(&r.kinds)?;
    if kinds.is_empty() {
        return Err("needs at least one facility kind in 'kinds'".into());
    }
    let qualifiers = r
        .qualifiers
        .iter()
        .map(|q| {
            Qualifier::parse(q).ok_or_else(|| {
                format!(
                    "unknown qualifier '{q}' (standardised, public, public_benefit, comprehensive, demonstration)"
                )
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let qualified_kinds = match &r.qualified_kinds {
        Some(v) => {
            let q = parse_kinds(v)?;
            if let Some(k) = q.iter().find(|k| !kinds.contains(k)) {
                return Err(format!(
                    "qualified_kinds has '{}', which is not in kinds",
                    k.key()
                ));
            }
            q
        }
        None => kinds.clone(),
    };
    if test == Test::QualifiedShare && qualifiers.is_empty() && r.min_grade.is_none() {
        // The old key public_benefit_share meant the 普惠 share.
        if r.test != "public_benefit_share" {
            return Err(
                "qualified_share needs 'qualifiers' (the share of capacity meeting them)".into(),
            );
        }
    }
    let qualifiers = if test == Test::QualifiedShare
        && r.test == "public_benefit_share"
        && qualifiers.is_empty()
    {
        vec![Qualifier::PublicBenefit]
    } else {
        qualifiers
    };
    Ok((kinds, qualifiers, qualified_kinds))
}
