//! OpenStreetMap PBF: walkable ways as network lines, residential buildings and landuse as
//! demand carriers, care amenities as facilities.
//!
//! One pass collects node coordinates and the ways and nodes of interest; ways are then
//! assembled. Extracts cut by a bounding box reference nodes they do not contain: such ways
//! are split at the missing nodes and the pieces kept, with one summary warning.

use std::collections::HashMap;
use std::path::Path;

use geo::{Centroid, Coord, Geometry, LineString, Point, Polygon};
use osmpbf::{Element, ElementReader};
use serde_json::{Map, Value};

use super::{RawFeature, RawLayer};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Highway types a pedestrian may use without further tags.
const WALKABLE: &[&str] = &[
    "footway",
    "path",
    "pedestrian",
    "living_street",
    "residential",
    "service",
    "steps",
    "track",
    "unclassified",
    "road",
    "corridor",
    "cycleway",
    "bridleway",
    "tertiary",
    "tertiary_link",
    "secondary",
    "secondary_link",
    "primary",
    "primary_link",
];
/// Highway types walkable only with explicit foot access or a sidewalk.
const WALKABLE_IF_TAGGED: &[&str] = &["trunk", "trunk_link", "motorway", "motorway_link"];

/// The three layers a PBF provides, already in WGS84.
#[derive(Clone, Debug, Default)]
pub struct OsmLayers {
    pub network: RawLayer,
    pub buildings: RawLayer,
    pub facilities: RawLayer,
    pub nodes: usize,
    pub ways: usize,
}

type Tags = Vec<(String, String)>;

fn owned<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
    it.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn tag<'a>(tags: &'a Tags, k: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
}

/// Walkability of a way by its tags (see WALKABLE; foot=no and access=private/no exclude).
pub fn is_walkable(tags: &Tags) -> bool {
    let Some(hw) = tag(tags, "highway") else {
        return false;
    };
    let foot = tag(tags, "foot");
    let foot_ok = matches!(foot, Some("yes" | "designated" | "permissive"));
    if foot == Some("no") {
        return false;
    }
    if matches!(tag(tags, "access"), Some("private" | "no")) && !foot_ok {
        return false;
    }
    if WALKABLE.contains(&hw) {
        return true;
    }
    if WALKABLE_IF_TAGGED.contains(&hw) {
        let sidewalk = matches!(
            tag(tags, "sidewalk").or(tag(tags, "sidewalk:both")),
            Some("both" | "left" | "right" | "yes" | "separate")
        );
        return foot_ok || sidewalk;
    }
    false
}

/// The facility kind key of an OSM object, if it is a care facility.
pub fn care_kind(tags: &Tags) -> Option<&'static str> {
    let amenity = tag(tags, "amenity");
    let sf = tag(tags, "social_facility");
    match (amenity, sf) {
        (Some("kindergarten" | "childcare"), _) => Some("nursery"),
        (_, Some("day_care")) if tag(tags, "social_facility:for") == Some("senior") => {
            Some("day_care")
        }
        (Some("nursing_home"), _) | (_, Some("nursing_home" | "assisted_living")) => {
            Some("care_home")
        }
        (Some("social_facility"), _) => Some("care_home"),
        _ => None,
    }
}

fn is_residential_building(v: &str) -> bool {
    matches!(
        v,
        "apartments"
            | "residential"
            | "house"
            | "detached"
            | "dormitory"
            | "terrace"
            | "semidetached_house"
            | "bungalow"
    )
}

fn props(tags: &Tags, id: i64, osm_type: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("osm_id".into(), Value::Number(id.into()));
    m.insert("osm_type".into(), Value::String(osm_type.into()));
    for (k, v) in tags {
        m.insert(k.clone(), Value::String(v.clone()));
    }
    m
}

/// Reads a PBF file into its network, building and facility layers.
pub fn read(path: &Path, progress: &dyn Progress) -> Result<OsmLayers> {
    super::check_readable(path)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_from(std::io::BufReader::new(file), path, progress)
}

/// [`read`] from any reader (`path` names it in messages): the entry point the fuzz
/// targets drive with bytes in memory.
pub fn read_from<R: std::io::Read + Send>(
    input: R,
    path: &Path,
    progress: &dyn Progress,
) -> Result<OsmLayers> {
    let reader = ElementReader::new(input);
    progress.stage(&super::display_name(path), None);
    let scan = Scan::read(reader, path, progress)?;
    let mut out = OsmLayers {
        network: RawLayer::new(path),
        buildings: RawLayer::new(path),
        facilities: RawLayer::new(path),
        nodes: scan.coords.len(),
        ways: scan.n_ways,
    };
    let mut clipped = Clipped::default();
    for (id, refs, tags) in &scan.ways {
        if is_walkable(tags) {
            clipped.ways += add_walkable(&mut out.network, *id, refs, tags, &scan.coords) as usize;
        }
        clipped.polygons += add_outline(&mut out, *id, refs, tags, &scan.coords) as usize;
    }
    for (id, lon, lat, tags) in scan.care_nodes {
        let index = out.facilities.features.len();
        let mut p = props(&tags, id, "node");
        p.insert(
            "kind".into(),
            Value::String(care_kind(&tags).unwrap_or("care_home").into()),
        );
        out.facilities.features.push(RawFeature {
            index,
            geometry: Some(Geometry::Point(Point::new(lon, lat))),
            properties: p,
            node_ids: None,
        });
    }
    clipped.building_relations = scan.building_relations;
    warn_gaps(&mut out, &clipped);
    Ok(out)
}

/// The PBF's first and only pass: every node's coordinates, the ways worth keeping
/// (walkable, building, residential land, care facility) and tagged care nodes.
struct Scan {
    coords: HashMap<i64, (f64, f64)>,
    ways: Vec<(i64, Vec<i64>, Tags)>,
    care_nodes: Vec<(i64, f64, f64, Tags)>,
    n_ways: usize,
    building_relations: usize,
}

impl Scan {
    fn read<R: std::io::Read + Send>(
        reader: ElementReader<R>,
        path: &Path,
        progress: &dyn Progress,
    ) -> Result<Scan> {
        let mut scan = Scan {
            coords: HashMap::new(),
            ways: Vec::new(),
            care_nodes: Vec::new(),
            n_ways: 0,
            building_relations: 0,
        };
        let mut cancelled = false;
        reader
            .for_each(|el| {
                if cancelled {
                    return;
                }
                match el {
                    Element::DenseNode(n) => {
                        scan.coords.insert(n.id(), (n.lon(), n.lat()));
                        if n.tags().next().is_some() {
                            let t = owned(n.tags());
                            if care_kind(&t).is_some() {
                                scan.care_nodes.push((n.id(), n.lon(), n.lat(), t));
                            }
                        }
                    }
                    Element::Node(n) => {
                        scan.coords.insert(n.id(), (n.lon(), n.lat()));
                        let t = owned(n.tags());
                        if care_kind(&t).is_some() {
                            scan.care_nodes.push((n.id(), n.lon(), n.lat(), t));
                        }
                    }
                    Element::Way(w) => {
                        scan.n_ways += 1;
                        if scan.n_ways.is_multiple_of(4096) {
                            progress.advance(scan.n_ways as u64);
                            cancelled = progress.is_cancelled();
                        }
                        let t = owned(w.tags());
                        let keep = is_walkable(&t)
                            || tag(&t, "building").is_some()
                            || tag(&t, "landuse") == Some("residential")
                            || care_kind(&t).is_some();
                        if keep {
                            scan.ways.push((w.id(), w.refs().collect(), t));
                        }
                    }
                    Element::Relation(r) => {
                        let t = owned(r.tags());
                        if tag(&t, "building").is_some()
                            || tag(&t, "landuse") == Some("residential")
                        {
                            scan.building_relations += 1;
                        }
                    }
                }
            })
            .map_err(|e| Error::format(path, format!("corrupt PBF: {e}")))?;
        if cancelled || progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(scan)
    }
}

/// What the extract's edge cut off, for the warnings.
#[derive(Default)]
struct Clipped {
    ways: usize,
    polygons: usize,
    building_relations: usize,
}

/// A walkable way as street pieces, split at nodes missing from the extract (runs of ≥ 2
/// nodes kept). Returns whether any node was missing.
fn add_walkable(
    network: &mut RawLayer,
    id: i64,
    refs: &[i64],
    tags: &Tags,
    coords: &HashMap<i64, (f64, f64)>,
) -> bool {
    let mut run: Vec<(i64, Coord<f64>)> = Vec::new();
    let mut pieces = Vec::new();
    let mut missing = false;
    for r in refs {
        match coords.get(r) {
            Some(&(x, y)) => run.push((*r, Coord { x, y })),
            None => {
                missing = true;
                if run.len() >= 2 {
                    pieces.push(std::mem::take(&mut run));
                }
                run.clear();
            }
        }
    }
    if run.len() >= 2 {
        pieces.push(run);
    }
    for piece in pieces {
        let (ids, cs): (Vec<i64>, Vec<Coord<f64>>) = piece.into_iter().unzip();
        let index = network.features.len();
        network.features.push(RawFeature {
            index,
            geometry: Some(Geometry::LineString(LineString::new(cs))),
            properties: props(tags, id, "way"),
            node_ids: Some(ids),
        });
    }
    missing
}

/// A closed way as a building or residential-land outline and/or a care facility at its
/// centroid. Returns whether the outline was skipped for nodes missing from the extract.
fn add_outline(
    out: &mut OsmLayers,
    id: i64,
    refs: &[i64],
    tags: &Tags,
    coords: &HashMap<i64, (f64, f64)>,
) -> bool {
    let is_building = tag(tags, "building").is_some();
    let is_landuse = tag(tags, "landuse") == Some("residential");
    let care = care_kind(tags);
    if !(is_building || is_landuse || care.is_some()) {
        return false;
    }
    let cs: Option<Vec<Coord<f64>>> = refs
        .iter()
        .map(|r| coords.get(r).map(|&(x, y)| Coord { x, y }))
        .collect();
    let Some(cs) = cs else {
        return true;
    };
    if cs.len() < 4 || cs.first() != cs.last() {
        return false;
    }
    let poly = Polygon::new(LineString::new(cs), vec![]);
    if is_building || is_landuse {
        let index = out.buildings.features.len();
        let mut p = props(tags, id, "way");
        let class = match tag(tags, "building") {
            Some(b) if is_residential_building(b) => "residential",
            Some(_) => "other",
            None => "residential_landuse",
        };
        p.insert("carrier".into(), Value::String(class.into()));
        out.buildings.features.push(RawFeature {
            index,
            geometry: Some(Geometry::Polygon(poly.clone())),
            properties: p,
            node_ids: None,
        });
    }
    if let Some(kind) = care {
        if let Some(c) = poly.centroid() {
            let index = out.facilities.features.len();
            let mut p = props(tags, id, "way");
            p.insert("kind".into(), Value::String(kind.into()));
            out.facilities.features.push(RawFeature {
                index,
                geometry: Some(Geometry::Point(c)),
                properties: p,
                node_ids: None,
            });
        }
    }
    false
}

/// Warnings for what the extract lacks: clipped ways and outlines, unread relations, no
/// streets at all.
fn warn_gaps(out: &mut OsmLayers, clipped: &Clipped) {
    let Clipped {
        ways: clipped_ways,
        polygons: clipped_polygons,
        building_relations,
    } = *clipped;
    if clipped_ways > 0 {
        out.network.warn(
            None,
            None,
            crate::model::Said::new(
                format!("{clipped_ways} walkable ways reference nodes missing from the extract (clipped at its edge); kept the parts inside"),
                format!("{clipped_ways} 条可步行道路引用了数据范围外的节点（在边缘被截断）；保留范围内的部分"),
            ),
        );
    }
    if clipped_polygons > 0 {
        out.buildings.warn(
            None,
            None,
            crate::model::Said::new(
                format!("{clipped_polygons} building/landuse outlines are incomplete in the extract; skipped"),
                format!("{clipped_polygons} 个建筑/用地轮廓在数据中不完整；已跳过"),
            ),
        );
    }
    if building_relations > 0 {
        out.buildings.warn(
            None,
            None,
            crate::model::Said::new(
                format!("{building_relations} multipolygon building/landuse relations are not read (only closed ways)"),
                format!("{building_relations} 个建筑/用地多边形关系未读取（只读闭合路径）"),
            ),
        );
    }
    if out.network.features.is_empty() {
        out.network.warn(
            None,
            None,
            crate::model::Said::new("the PBF contains no walkable ways", "PBF 中没有可步行道路"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn walkability_rules() {
        assert!(is_walkable(&t(&[("highway", "footway")])));
        assert!(!is_walkable(&t(&[("highway", "footway"), ("foot", "no")])));
        assert!(!is_walkable(&t(&[
            ("highway", "service"),
            ("access", "private")
        ])));
        assert!(is_walkable(&t(&[
            ("highway", "service"),
            ("access", "private"),
            ("foot", "yes")
        ])));
        assert!(!is_walkable(&t(&[("highway", "trunk")])));
        assert!(is_walkable(&t(&[
            ("highway", "trunk"),
            ("sidewalk", "both")
        ])));
        assert!(!is_walkable(&t(&[("highway", "motorway")])));
        assert!(!is_walkable(&t(&[("building", "yes")])));
    }

    #[test]
    fn care_kinds() {
        assert_eq!(
            care_kind(&t(&[("amenity", "kindergarten")])),
            Some("nursery")
        );
        assert_eq!(
            care_kind(&t(&[("amenity", "nursing_home")])),
            Some("care_home")
        );
        assert_eq!(
            care_kind(&t(&[
                ("amenity", "social_facility"),
                ("social_facility", "day_care"),
                ("social_facility:for", "senior")
            ])),
            Some("day_care")
        );
        assert_eq!(care_kind(&t(&[("amenity", "school")])), None);
    }
}
