//! One feature into one unit or facility: every field through the mapping, a warning
//! naming the field where a value cannot be used.

use super::*;

/// What every facility of one layer is read with.
pub(super) struct FacilityCtx<'a> {
    pub(super) mapping: &'a FieldMapping,
    pub(super) spec: &'a LayerSpec,
    pub(super) role: LayerRole,
    pub(super) layer_kind: Option<FacilityKind>,
    pub(super) layer_status: Option<FacilityStatus>,
    pub(super) synthetic_layer: bool,
    pub(super) layer_id: LayerId,
    pub(super) fwd: &'a (dyn Fn(Coord<f64>) -> Coord<f64> + Sync),
}

/// One facility feature: kind, capacity, status, location or unit reference, qualifiers,
/// year. `None` (with a warning said) when it cannot be used.
pub(super) fn facility_of(
    ctx: &FacilityCtx,
    id: FacilityId,
    index: usize,
    geometry: Option<Geometry<f64>>,
    props: Map<String, Value>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<Facility> {
    let FacilityCtx {
        mapping,
        spec,
        role,
        layer_kind,
        layer_status,
        synthetic_layer,
        layer_id,
        fwd,
    } = *ctx;
    let mut w = |field: Option<&str>, msg: Said| w(field, msg);
    let kind = facility_kind(mapping, &props, layer_kind, &mut w)?;
    let capacity_field = if kind.is_childcare() {
        "nursery_places"
    } else {
        "beds"
    };
    let mut capacity = num(mapping, &props, "capacity", &mut w)
        .or_else(|| num(mapping, &props, capacity_field, &mut w));
    let mut capacity_estimated = mapping
        .get(&props, "capacity_estimated")
        .and_then(|(_, v)| parse_bool(v))
        .unwrap_or(false);
    if capacity.is_none() {
        if let Some(est) = spec.capacity_estimate {
            capacity = Some(est);
            capacity_estimated = true;
        }
    }
    let status = match mapping.get(&props, "status") {
        Some((key, v)) => {
            let t = crate::io::fields::value_text(v);
            FacilityStatus::parse(&t).unwrap_or_else(|| {
                w(
                    Some(key),
                    Said::new(
                        format!("unknown status '{t}'; using the layer's"),
                        format!("未知状态“{t}”，改用图层的状态"),
                    ),
                );
                layer_default_status(role, layer_status)
            })
        }
        None => layer_default_status(role, layer_status),
    };
    let location = point_of(geometry, &mut w).map(|pt| Point(fwd(pt.0)));
    let unit_ref = UnitRef {
        code: mapping.text(&props, "unit_code"),
        town: mapping.text(&props, "town"),
        county: mapping.text(&props, "county"),
        village: mapping.text(&props, "village"),
    };
    if location.is_none() && unit_ref.is_empty() {
        w(
            None,
            Said::new(
                "no location and no unit code or town/county name: it cannot be placed",
                "没有位置，也没有单元代码或乡镇/区县名称：无法定位",
            ),
        );
    }
    let synthetic = synthetic_layer
        || mapping
            .get(&props, "synthetic")
            .and_then(|(_, v)| parse_bool(v))
            .unwrap_or(false);
    let year = mapping
        .get(&props, "year")
        .and_then(|(_, v)| parse_count(v).ok())
        .map(|y| y as i32);
    let qualifiers = qualifiers_of(mapping, &props, &mut w);
    let nursing_beds = num(mapping, &props, "nursing_beds", &mut w);
    let renovation = flag(mapping, &props, "renovation", &mut w).unwrap_or(false);
    Some(Facility {
        id,
        source_id: mapping
            .text(&props, "id")
            .unwrap_or_else(|| format!("{}#{}", spec.path, index)),
        name: mapping.text(&props, "name").unwrap_or_default(),
        kind,
        capacity,
        capacity_estimated,
        nursing_beds,
        qualifiers,
        renovation,
        status,
        synthetic,
        location,
        unit_ref,
        unit: None,
        unit_join: None,
        year,
        layer: layer_id,
        attributes: props,
    })
}

/// What every unit of one layer is read with.
pub(super) struct UnitCtx<'a> {
    pub(super) mapping: &'a FieldMapping,
    pub(super) spec: &'a LayerSpec,
    pub(super) layer_level: Option<UnitLevel>,
    pub(super) layer_id: LayerId,
    /// The layer's format carries shapes (GeoJSON, Shapefile), so a missing one is news.
    pub(super) shaped: bool,
}

/// A unit's shape, checked: none, not polygonal, or its polygons in local metres with the
/// problems found. Made for all of a layer's units at once, in parallel, before the units
/// are built (a province's 16,000 units with county-border vertices took seconds one by
/// one); saying the problems waits for `unit_of`, which knows the feature.
pub(super) enum UnitShape {
    Missing,
    NotPolygon,
    Checked(MultiPolygon<f64>, Vec<Said>),
}

impl UnitShape {
    /// Checks (self-intersections, degenerate rings) and projects one geometry.
    pub(super) fn of(
        geometry: Option<Geometry<f64>>,
        fwd: impl Fn(Coord<f64>) -> Coord<f64> + Copy,
    ) -> Self {
        match geometry.map(polygons_of) {
            None => UnitShape::Missing,
            Some(None) => UnitShape::NotPolygon,
            Some(Some(mp)) => {
                let (mp, problems) = clean_polygons(mp);
                UnitShape::Checked(mp.map_coords(fwd), problems)
            }
        }
    }
}

/// One unit feature: name, code, level, parent, shape (repaired where it can be),
/// population; duplicate codes refused. `None` (with a warning said) when it cannot be used.
pub(super) fn unit_of(
    ctx: &UnitCtx,
    id: UnitId,
    geometry: UnitShape,
    props: Map<String, Value>,
    seen_codes: &mut HashMap<(UnitLevel, String), String>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<Unit> {
    let UnitCtx {
        mapping,
        spec,
        layer_level,
        layer_id,
        ..
    } = *ctx;
    let mut w = |field: Option<&str>, msg: Said| w(field, msg);
    let name = mapping.text(&props, "name");
    let code = mapping.text(&props, "code");
    let level = match mapping.text(&props, "level") {
        Some(t) => match UnitLevel::parse(&t) {
            Some(l) => Some(l),
            None => {
                // cnmaps writes 区县 for every county-level unit: refine by name.
                let by_name = name.as_deref().and_then(UnitLevel::from_name);
                if by_name.is_none() {
                    w(
                        Some("level"),
                        Said::new(format!("unknown level '{t}'"), format!("未知层级“{t}”")),
                    );
                }
                by_name.or(layer_level)
            }
        }
        .map(|l| refine_county_level(l, name.as_deref())),
        None => layer_level.or_else(|| name.as_deref().and_then(UnitLevel::from_name)),
    };
    let Some(level) = level else {
        w(
            Some("level"),
            Said::new(
                "cannot tell the unit's level: set level in the manifest or a 'level' property; skipped",
                "无法判断单元层级：请在清单中设置 level，或提供 'level' 属性；已跳过",
            ),
        );
        return None;
    };
    let (code, name) = match (code, name) {
        (Some(c), Some(n)) => (c, n),
        (Some(c), None) => (c.clone(), c),
        (None, Some(n)) => {
            w(
                Some("code"),
                Said::new(
                    "no unit code: joins by code are impossible; using the name",
                    "没有单元代码：无法按代码关联，改用名称",
                ),
            );
            (n.clone(), n)
        }
        (None, None) => {
            w(
                None,
                Said::new("neither code nor name; skipped", "既无代码也无名称；已跳过"),
            );
            return None;
        }
    };
    let key = (level, canonical_code(&code, level));
    if let Some(first) = seen_codes.get(&key) {
        w(
            Some("code"),
            Said::new(
                format!(
                    "duplicate {} code {code} (already used by {first}); skipped",
                    level.key()
                ),
                format!(
                    "{}代码 {code} 重复（已被 {first} 使用）；已跳过",
                    level.zh()
                ),
            ),
        );
        return None;
    }
    seen_codes.insert(key, name.clone());
    let geometry = unit_shape(geometry, ctx.shaped, &mut w);
    let population = plausible_population(
        Population {
            total: num(mapping, &props, "population", &mut w),
            aged_60plus: num(mapping, &props, "pop_60plus", &mut w),
            aged_0_3: num(mapping, &props, "pop_0_3", &mut w),
        },
        &mut w,
    );
    Some(Unit {
        id,
        code,
        name,
        level,
        parent_code: mapping.text(&props, "parent"),
        parent: None,
        geometry,
        population,
        population_source: mapping
            .text(&props, "population_source")
            .or_else(|| spec.population_source.clone()),
        central_urban: flag(mapping, &props, "central_urban", &mut w),
        layer: layer_id,
        attributes: props,
    })
}

/// A facility's kind: its own column, else the layer's, else guessed from its name.
fn facility_kind(
    mapping: &FieldMapping,
    props: &Map<String, Value>,
    layer_kind: Option<FacilityKind>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<FacilityKind> {
    Some(match mapping.get(props, "kind") {
        Some((key, v)) => {
            let t = crate::io::fields::value_text(v);
            match FacilityKind::parse(&t) {
                Some(k) => k,
                None => {
                    w(
                        Some(key),
                        Said::new(
                            format!("'{t}' is not a care facility kind; skipped"),
                            format!("“{t}”不是养老托育设施类型；已跳过"),
                        ),
                    );
                    return None;
                }
            }
        }
        None => match layer_kind.or_else(|| {
            mapping
                .text(props, "name")
                .as_deref()
                .and_then(FacilityKind::parse)
        }) {
            Some(k) => k,
            None => {
                w(
                    Some("kind"),
                    Said::new(
                        "no facility kind (set kind in the manifest or a 'kind' property); skipped",
                        "没有设施类型（请在清单中设置 kind，或提供 'kind' 属性）；已跳过",
                    ),
                );
                return None;
            }
        },
    })
}

/// The point a facility stands at: its point, the first of several, or a shape's centroid.
fn point_of(
    geometry: Option<Geometry<f64>>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<geo::Point<f64>> {
    match geometry {
        None => None,
        Some(Geometry::Point(pt)) => Some(pt),
        Some(Geometry::MultiPoint(mp)) if !mp.0.is_empty() => {
            if mp.0.len() > 1 {
                w(
                    Some("geometry"),
                    Said::new(
                        format!("{} points; using the first", mp.0.len()),
                        format!("{} 个点，取第一个", mp.0.len()),
                    ),
                );
            }
            Some(mp.0[0])
        }
        Some(g) => match g.centroid() {
            Some(c) => Some(c),
            None => {
                w(Some("geometry"), Said::new("empty geometry", "几何为空"));
                None
            }
        },
    }
}

/// The qualifiers a facility's columns state (标准化, 公办, 普惠 …) and its grade; a value
/// that is not yes/no or a grade stays unknown, with a warning.
fn qualifiers_of(
    mapping: &FieldMapping,
    props: &Map<String, Value>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Qualifiers {
    let mut qualifiers = Qualifiers::default();
    for q in Qualifier::ALL {
        qualifiers.set(q, flag(mapping, props, q.key(), w));
    }
    if let Some((key, v)) = mapping.get(props, "grade") {
        qualifiers.grade = crate::io::fields::parse_grade(v);
        if qualifiers.grade.is_none() {
            let t = crate::io::fields::value_text(v);
            w(
                Some(key),
                Said::new(
                    format!("'{t}' is not a grade (1, 一级, 三星 …); kept as unknown"),
                    format!("“{t}”不是等级（1、一级、三星 …）；按未知处理"),
                ),
            );
        }
    }
    qualifiers
}

/// A unit's checked shape, its problems said; a unit without a usable polygon is kept
/// without a shape.
fn unit_shape(
    shape: UnitShape,
    shaped: bool,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<MultiPolygon<f64>> {
    match shape {
        // A GeoJSON `"geometry": null` or a null shape is said; a code list (a CSV of
        // units) has no shapes by design.
        UnitShape::Missing if shaped => {
            w(
                Some("geometry"),
                Said::new(
                    "no geometry (null): the unit is kept without a shape; points cannot be placed in it",
                    "几何为空（null）：保留该单元，但没有边界，无法把点落入其中",
                ),
            );
            None
        }
        UnitShape::Missing => None,
        UnitShape::NotPolygon => {
            w(
                Some("geometry"),
                Said::new(
                    "not a polygon; the unit is kept without a shape",
                    "不是多边形：保留该单元，但没有边界",
                ),
            );
            None
        }
        UnitShape::Checked(mp, problems) => {
            for pr in problems {
                w(Some("geometry"), pr);
            }
            if mp.0.is_empty() {
                w(
                    Some("geometry"),
                    Said::new(
                        "empty polygon; the unit is kept without a shape",
                        "空多边形：保留该单元，但没有边界",
                    ),
                );
                None
            } else {
                Some(mp)
            }
        }
    }
}

/// More people than live in China, in one unit.
pub(super) const MAX_POPULATION: f64 = 1.5e9;

/// Population figures that cannot be right are dropped with a warning naming the field:
/// above [`MAX_POPULATION`], or an age group larger than the whole population (the
/// analysis then uses the age share of the unit's ancestors or the preset).
pub(super) fn plausible_population(
    mut p: Population,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Population {
    for (field, v) in [
        ("population", &mut p.total),
        ("pop_60plus", &mut p.aged_60plus),
        ("pop_0_3", &mut p.aged_0_3),
    ] {
        if let Some(x) = *v {
            if x > MAX_POPULATION {
                w(
                    Some(field),
                    Said::new(
                        format!(
                            "{x} people is more than live in China (1.5 billion): value ignored"
                        ),
                        format!("{x} 人超过全国人口（15 亿）：该值已忽略"),
                    ),
                );
                *v = None;
            }
        }
    }
    if let Some(total) = p.total {
        for (field, zh, v) in [
            ("pop_60plus", "60岁以上人口", &mut p.aged_60plus),
            ("pop_0_3", "0–3岁人口", &mut p.aged_0_3),
        ] {
            if let Some(x) = *v {
                if x > total {
                    w(
                        Some(field),
                        Said::new(
                            format!("{field} {x} is more than the whole population {total}: value ignored (the age share of the unit's region or the preset is used)"),
                            format!("{zh} {x} 超过总人口 {total}：该值已忽略（改用上级区域或预设的年龄比例）"),
                        ),
                    );
                    *v = None;
                }
            }
        }
    }
    p
}
