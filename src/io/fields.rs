//! Field mapping: which property of a user's file holds the code, name, population …
//!
//! Defaults recognise the English names of our own format and the Chinese column names
//! planners' spreadsheets use (名称, 代码, 常住人口, 60岁以上, 床位, 托位 …). A manifest's
//! `[layers.fields]` table overrides any of them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::UnitLevel;

/// Model fields that can be mapped to a property name.
pub const MODEL_FIELDS: &[&str] = &[
    "code",
    "name",
    "level",
    "parent",
    "population",
    "pop_60plus",
    "pop_0_3",
    "id",
    "kind",
    "capacity",
    "beds",
    "nursery_places",
    "public_benefit",
    "standardised",
    "public",
    "comprehensive",
    "demonstration",
    "grade",
    "nursing_beds",
    "renovation",
    "central_urban",
    "status",
    "synthetic",
    "capacity_estimated",
    "unit_code",
    "town",
    "county",
    "village",
    "year",
    "population_source",
    "lon",
    "lat",
];

/// Property names recognised without any mapping, in order of preference.
pub fn default_names(field: &str) -> &'static [&'static str] {
    match field {
        "code" => &[
            "code",
            "CODE",
            "division_code",
            "adcode",
            "区划代码",
            "行政区划代码",
            "代码",
            "编码",
            "统计用区划代码",
            "PAC",
            "GB",
        ],
        "name" => &[
            "name",
            "NAME",
            "名称",
            "name:zh",
            "单位名称",
            "机构名称",
            "设施名称",
            "地名",
            "NAME_CN",
        ],
        "level" => &["level", "LEVEL", "级别", "层级", "类别"],
        "parent" => &["parent", "parent_code", "上级代码", "上级编码", "所属代码"],
        "population" => &[
            "population",
            "pop",
            "POPU",
            "POP",
            "人口",
            "常住人口",
            "总人口",
            "人口数",
            "人口数_合计",
            "户籍人口",
        ],
        "pop_60plus" => &[
            "pop_60plus",
            "pop60",
            "pop_60",
            "60岁以上",
            "60岁及以上",
            "60岁以上人口",
            "60岁及以上人口",
            "老年人口",
        ],
        "pop_0_3" => &[
            "pop_0_3",
            "pop03",
            "0-3岁",
            "0～3岁",
            "0-3岁人口",
            "0至3岁",
            "婴幼儿",
            "婴幼儿数",
        ],
        "id" => &["id", "ID", "fid", "FID", "编号", "序号", "seq", "osm_id"],
        "kind" => &["kind", "type", "类型", "设施类型", "机构类型", "amenity"],
        "capacity" => &["capacity", "容量", "规模"],
        "beds" => &["beds", "床位", "床位数", "设计床位"],
        "nursery_places" => &["nursery_places", "places", "托位", "托位数"],
        "public_benefit" => &["public_benefit", "普惠", "是否普惠", "普惠性"],
        "standardised" => &["standardised", "standardized", "标准化", "是否标准化"],
        "public" => &["public", "公办", "是否公办", "公办民办"],
        "comprehensive" => &[
            "comprehensive",
            "综合功能",
            "具备综合功能",
            "是否具备综合功能",
        ],
        "demonstration" => &["demonstration", "示范", "示范性", "是否示范"],
        "grade" => &["grade", "等级", "星级", "评定等级"],
        "nursing_beds" => &["nursing_beds", "护理型床位", "护理型床位数", "护理床位"],
        "renovation" => &["renovation", "是否改造", "改造提升"],
        "central_urban" => &["central_urban", "中心城区", "是否中心城区"],
        "status" => &["status", "状态", "建设状态", "build_type", "建设性质"],
        "synthetic" => &["synthetic"],
        "capacity_estimated" => &["capacity_estimated"],
        "unit_code" => &["unit_code", "所属单位代码", "town_code", "所属乡镇代码"],
        "town" => &["town", "乡镇", "街道", "所属乡镇", "所属街道", "乡镇(街道)"],
        "county" => &["county", "区县", "县区", "所属区县", "县(市、区)"],
        "village" => &["village", "所属村", "所属社区", "村(社区)"],
        "year" => &["year", "年份", "建设年份", "建成年份"],
        "population_source" => &["population_source", "pop_source"],
        "lon" => &[
            "lon",
            "lng",
            "long",
            "longitude",
            "x",
            "X",
            "经度",
            "LON",
            "LNG",
            "Longitude",
        ],
        "lat" => &["lat", "latitude", "y", "Y", "纬度", "LAT", "Latitude"],
        _ => &[],
    }
}

/// A resolved mapping from model field to the file's property name.
#[derive(Clone, Debug, Default)]
pub struct FieldMapping {
    overrides: BTreeMap<String, String>,
}

impl FieldMapping {
    pub fn new(overrides: BTreeMap<String, String>) -> Self {
        FieldMapping { overrides }
    }

    /// Model fields in the overrides that we do not know: typos a user should hear about.
    pub fn unknown_fields(&self) -> Vec<String> {
        self.overrides
            .keys()
            .filter(|k| !MODEL_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect()
    }

    /// The property name that holds `field` in `props`, if any.
    pub fn key<'a>(&'a self, props: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
        if let Some(name) = self.overrides.get(field) {
            return props.contains_key(name).then_some(name.as_str());
        }
        default_names(field)
            .iter()
            .copied()
            .find(|n| props.get(*n).is_some_and(|v| !v.is_null()))
    }

    /// The columns of a table (`headers`, skipping `skip`) that [`Self::key`] would try for
    /// `field`, in its order: a row's value is the first of them with a non-empty cell. A
    /// repeated header counts at its last column, as a row's property map keeps the last.
    pub fn columns(&self, headers: &[String], field: &str, skip: &[usize]) -> Vec<usize> {
        let at = |name: &str| column_named(headers, name, skip);
        match self.overrides.get(field) {
            Some(name) => at(name).into_iter().collect(),
            None => default_names(field).iter().filter_map(|n| at(n)).collect(),
        }
    }

    /// The property value for `field`, ignoring null and empty strings.
    pub fn get<'a>(
        &'a self,
        props: &'a Map<String, Value>,
        field: &str,
    ) -> Option<(&'a str, &'a Value)> {
        let k = self.key(props, field)?;
        let v = props.get(k)?;
        match v {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            _ => Some((k, v)),
        }
    }

    pub fn text(&self, props: &Map<String, Value>, field: &str) -> Option<String> {
        self.get(props, field).map(|(_, v)| value_text(v))
    }

    /// Header name used for `field` among CSV headers.
    pub fn header<'a>(&'a self, headers: &'a [String], field: &str) -> Option<&'a str> {
        if let Some(name) = self.overrides.get(field) {
            return headers.iter().find(|h| *h == name).map(|s| s.as_str());
        }
        default_names(field)
            .iter()
            .find_map(|n| headers.iter().find(|h| h.trim() == *n))
            .map(|s| s.as_str())
    }
}

/// The column a row's property `name` comes from (skipping `skip`): the last one so named,
/// as a row's property map keeps the last of repeated headers.
pub fn column_named(headers: &[String], name: &str, skip: &[usize]) -> Option<usize> {
    (0..headers.len())
        .rev()
        .find(|&i| headers[i] == name && !skip.contains(&i))
}

/// A property value as display text (numbers without a trailing ".0").
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{}", f as i64)
                } else {
                    f.to_string()
                }
            } else {
                n.to_string()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Why a number field could not be used.
#[derive(Debug, PartialEq)]
pub enum NumberProblem {
    NotANumber(String),
    Negative(f64),
}

/// Parses a count (population, beds): numbers, or text like "77544", "7.7万", "1,234".
pub fn parse_count(v: &Value) -> Result<f64, NumberProblem> {
    let x = match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| NumberProblem::NotANumber(n.to_string()))?,
        Value::String(s) => return parse_count_text(s),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            return Err(NumberProblem::NotANumber(v.to_string()))
        }
        Value::Null => return Err(NumberProblem::NotANumber("null".into())),
    };
    if !x.is_finite() {
        return Err(NumberProblem::NotANumber(value_text(v)));
    }
    if x < 0.0 {
        return Err(NumberProblem::Negative(x));
    }
    Ok(x)
}

/// [`parse_count`] of a text cell (a CSV read without a property map).
pub fn parse_count_text(s: &str) -> Result<f64, NumberProblem> {
    // A plain number first (no allocation): it holds none of the separators or suffixes
    // removed below, so the answer is the same.
    let x = match s.trim().parse::<f64>() {
        Ok(x) => x,
        Err(_) => count_with_separators(s)?,
    };
    if !x.is_finite() {
        return Err(NumberProblem::NotANumber(s.trim().to_owned()));
    }
    if x < 0.0 {
        return Err(NumberProblem::Negative(x));
    }
    Ok(x)
}

/// A count written with thousands separators, 万 or a unit suffix (1,234人, 3.2万).
fn count_with_separators(s: &str) -> Result<f64, NumberProblem> {
    let t = s.trim().replace([',', '，', ' '], "");
    let (t, mult) = match t.strip_suffix('万') {
        Some(r) => (r.to_owned(), 10_000.0),
        None => (t.trim_end_matches(['人', '张', '个']).to_owned(), 1.0),
    };
    t.parse::<f64>()
        .map(|x| x * mult)
        .map_err(|_| NumberProblem::NotANumber(s.to_owned()))
}

/// Parses yes/no in the spellings planners use.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|x| x != 0.0),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "普惠" | "t" | "有" | "√" => Some(true),
            "false" | "no" | "n" | "0" | "否" | "非普惠" | "f" | "无" | "×" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Parses a grade (等级): 1, "1", "一级", "一星级", "三星" → 1, 1, 1, 1, 3.
pub fn parse_grade(v: &Value) -> Option<u8> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|x| *x >= 0.0 && *x < 10.0)
            .map(|x| x as u8),
        Value::String(s) => {
            let t = s.trim();
            let t = t
                .trim_end_matches("级")
                .trim_end_matches("星")
                .trim_end_matches("星级");
            let t = t.trim_end_matches('星');
            if let Ok(x) = t.parse::<u8>() {
                return (x < 10).then_some(x);
            }
            let digits = ["零", "一", "二", "三", "四", "五"];
            digits.iter().position(|d| *d == t).map(|i| i as u8)
        }
        _ => None,
    }
}

/// See [`UnitLevel::canonical_code`] (kept here for the loader's joins).
pub fn canonical_code(code: &str, level: UnitLevel) -> String {
    level.canonical_code(code)
}

/// Strips the suffixes that differ between the statistical list and plan documents
/// (兆麟街道地区 vs 兆麟街道, 居委会, 办事处) so names can be joined.
pub fn normalise_name(name: &str) -> String {
    let mut n = name.trim().replace([' ', '\u{3000}'], "");
    for suffix in [
        "地区",
        "办事处",
        "居委会",
        "居民委员会",
        "村委会",
        "村民委员会",
    ] {
        if let Some(s) = n.strip_suffix(suffix) {
            n = s.to_owned();
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_parse_text_and_refuse_negative() {
        assert_eq!(parse_count(&json!("77544")), Ok(77544.0));
        assert_eq!(parse_count(&json!("7.5万")), Ok(75000.0));
        assert_eq!(parse_count(&json!("1,234人")), Ok(1234.0));
        assert_eq!(parse_count(&json!(12)), Ok(12.0));
        assert!(matches!(
            parse_count(&json!("many")),
            Err(NumberProblem::NotANumber(_))
        ));
        assert_eq!(parse_count(&json!(-5)), Err(NumberProblem::Negative(-5.0)));
    }

    #[test]
    fn codes_canonicalise_by_level() {
        assert_eq!(
            canonical_code("230103018000", UnitLevel::SubDistrict),
            "230103018"
        );
        assert_eq!(canonical_code("231102.0", UnitLevel::County), "231102");
        assert_eq!(
            canonical_code("231102001006", UnitLevel::Community),
            "231102001006"
        );
        assert_eq!(
            canonical_code("230103018012", UnitLevel::SubDistrict),
            "230103018012"
        );
    }

    #[test]
    fn chinese_headers_are_recognised() {
        let props: Map<String, Value> =
            serde_json::from_value(json!({"名称": "a", "常住人口": 5, "经度": 1})).unwrap();
        let m = FieldMapping::default();
        assert_eq!(m.key(&props, "name"), Some("名称"));
        assert_eq!(m.key(&props, "population"), Some("常住人口"));
        let m = FieldMapping::new([("name".to_owned(), "X".to_owned())].into());
        assert_eq!(m.key(&props, "name"), None);
    }

    #[test]
    fn names_normalise() {
        assert_eq!(normalise_name("兆麟街道地区"), "兆麟街道");
        assert_eq!(normalise_name("长海社区居委会"), "长海社区");
    }
}
