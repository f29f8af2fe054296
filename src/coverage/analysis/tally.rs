//! What the data says about one rule's facilities: those that meet its qualifiers and those
//! that may, their capacity, per unit and for the jurisdiction, known totals, and what is
//! left open — the facts three-valued verdicts are made of.

use super::{thousands, Analysis};
use crate::coverage::rules::{Area, Rule, Test};
use crate::model::{Dataset, FacilityKind, KnownTotal, UnitId};

/// How a facility stands against a rule's qualifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Q {
    Yes,
    No,
    Maybe,
}

pub(super) fn qualify_with(
    rule: &Rule,
    kinds: &[FacilityKind],
    get: impl Fn(crate::model::Qualifier) -> Option<bool>,
    grade: Option<u8>,
) -> Q {
    if !kinds.iter().any(|k| rule.qualified_kinds.contains(k)) {
        return Q::Yes;
    }
    let mut q = Q::Yes;
    for want in &rule.qualifiers {
        match get(*want) {
            Some(true) => {}
            Some(false) => return Q::No,
            None => q = Q::Maybe,
        }
    }
    if let Some(min) = rule.min_grade {
        match grade {
            Some(g) if g >= min => {}
            Some(_) => return Q::No,
            None => q = Q::Maybe,
        }
    }
    q
}

/// What the data says about one rule's facilities: counts and capacities, those that meet
/// the qualifiers and those that may, per unit and for the jurisdiction, and what is open.
pub(super) struct Tally {
    /// Anything at all: existing data on a kind, a counted facility, a known total.
    pub(super) any_data: bool,
    /// Existing facilities of every kind are in the data (a missing one is really missing).
    pub(super) complete: bool,
    pub(super) unit_yes: Vec<f64>,
    pub(super) unit_maybe: Vec<f64>,
    pub(super) unit_cap_yes: Vec<f64>,
    pub(super) unit_cap_maybe: Vec<f64>,
    pub(super) unit_cap_all: Vec<f64>,
    pub(super) unit_cap_missing: Vec<bool>,
    pub(super) unit_nursing: Vec<f64>,
    pub(super) unit_nursing_open: Vec<f64>,
    pub(super) n_yes: f64,
    pub(super) n_maybe: f64,
    pub(super) n_open: bool,
    pub(super) cap_yes: f64,
    pub(super) cap_maybe: f64,
    pub(super) cap_all: f64,
    pub(super) cap_open: bool,
    pub(super) nursing: f64,
    pub(super) nursing_open_beds: f64,
    /// Facilities known only as totals (no location) that may meet the rule; `None` when a
    /// total gives no number of facilities.
    pub(super) unlocated_facilities: Option<f64>,
    pub(super) facilities_maybe: usize,
    pub(super) capacity_missing: usize,
    pub(super) totals_used: Vec<String>,
    pub(super) totals_mixed: Vec<String>,
    pub(super) notes: Vec<String>,
}

impl Tally {
    pub(super) fn new(an: &Analysis, rule: &Rule, year: Option<i32>) -> Self {
        let ds = an.ds;
        let n = ds.units.len();
        let marks = ds.has_central_urban_marks();
        let in_area = |u: UnitId| rule.area == Area::All || !marks || ds.is_central_urban(u);
        let mut t = Tally {
            any_data: false,
            complete: rule.kinds.iter().all(|k| ds.has_existing_data_in(*k, year)),
            unit_yes: vec![0.0; n],
            unit_maybe: vec![0.0; n],
            unit_cap_yes: vec![0.0; n],
            unit_cap_maybe: vec![0.0; n],
            unit_cap_all: vec![0.0; n],
            unit_cap_missing: vec![false; n],
            unit_nursing: vec![0.0; n],
            unit_nursing_open: vec![0.0; n],
            n_yes: 0.0,
            n_maybe: 0.0,
            n_open: false,
            cap_yes: 0.0,
            cap_maybe: 0.0,
            cap_all: 0.0,
            cap_open: false,
            nursing: 0.0,
            nursing_open_beds: 0.0,
            unlocated_facilities: Some(0.0),
            facilities_maybe: 0,
            capacity_missing: 0,
            totals_used: Vec::new(),
            totals_mixed: Vec::new(),
            notes: Vec::new(),
        };
        t.any_data = rule.kinds.iter().any(|k| ds.has_existing_data_in(*k, year));
        let outside = t.count_facilities(an, rule, &in_area);
        if outside > 0 {
            t.notes.push(format!(
                "{outside} facilities lie in no unit (e.g. city-level projects): they count in jurisdiction totals only"
            ));
        }
        t.count_known_totals(ds, rule, year, marks);
        if !t.complete {
            t.n_open = true;
            t.cap_open = true;
        }
        t
    }

    /// The facilities of the rule's kinds that count, in one pass: all their capacity (the
    /// denominator of shares, nursing-type beds), and those qualified or maybe, per unit
    /// and for the jurisdiction. Returns how many lie in no unit.
    fn count_facilities(
        &mut self,
        an: &Analysis,
        rule: &Rule,
        in_area: &dyn Fn(UnitId) -> bool,
    ) -> usize {
        let t = self;
        let ds = an.ds;
        let marks = ds.has_central_urban_marks();
        let mut outside = 0;
        for f in &ds.facilities {
            if !an.counted[f.id.index()] || !rule.kinds.contains(&f.kind) {
                continue;
            }
            t.any_data = true;
            let units = an.assignment.units_of(f.id);
            if rule.area == Area::CentralUrban && marks && !units.iter().any(|u| in_area(*u)) {
                continue;
            }
            // Capacity of every counted facility of the kinds, qualified or not: the
            // denominator of shares; and nursing-type beds against beds.
            match f.capacity {
                None => {
                    t.cap_open = true;
                    for u in units {
                        t.unit_cap_missing[u.index()] = true;
                    }
                }
                Some(cap) => {
                    let (nk, open) = match f.nursing_beds {
                        Some(x) => (x.min(cap), 0.0),
                        None => (0.0, cap),
                    };
                    t.cap_all += cap;
                    t.nursing += nk;
                    t.nursing_open_beds += open;
                    for u in units {
                        t.unit_cap_all[u.index()] += cap;
                        t.unit_nursing[u.index()] += nk;
                        t.unit_nursing_open[u.index()] += open;
                    }
                }
            }
            let q = qualify_with(rule, &[f.kind], |w| f.qualifiers.get(w), f.qualifiers.grade);
            if q == Q::No {
                continue;
            }
            if units.is_empty() {
                outside += 1;
            }
            let cap = f.capacity;
            match q {
                Q::Yes => {
                    t.n_yes += 1.0;
                    t.cap_yes += cap.unwrap_or(0.0);
                }
                _ => {
                    t.n_maybe += 1.0;
                    t.cap_maybe += cap.unwrap_or(0.0);
                    t.facilities_maybe += 1;
                }
            }
            if cap.is_none() {
                t.capacity_missing += 1;
            }
            for u in units {
                let i = u.index();
                match q {
                    Q::Yes => {
                        t.unit_yes[i] += 1.0;
                        t.unit_cap_yes[i] += cap.unwrap_or(0.0);
                    }
                    _ => {
                        t.unit_maybe[i] += 1.0;
                        t.unit_cap_maybe[i] += cap.unwrap_or(0.0);
                    }
                }
            }
        }
        outside
    }

    /// Known totals without locations: counted when all their kinds are the rule's, else
    /// they leave the figures open; a total of a later year says nothing.
    fn count_known_totals(&mut self, ds: &Dataset, rule: &Rule, year: Option<i32>, marks: bool) {
        let t = self;
        for kt in &ds.known_totals {
            let touches = kt.kinds.iter().any(|k| rule.kinds.contains(k));
            if !touches {
                continue;
            }
            if year.is_some_and(|y| kt.year.is_some_and(|ky| ky > y)) {
                continue;
            }
            t.any_data = true;
            let contained = kt.kinds.iter().all(|k| rule.kinds.contains(k));
            if !contained || (rule.area == Area::CentralUrban && marks) {
                t.totals_mixed.push(describe_total(kt));
                t.n_open = true;
                t.cap_open = true;
                t.unlocated_facilities = None;
                continue;
            }
            let q = qualify_with(rule, &kt.kinds, |w| kt.qualifiers.get(w), None);
            t.totals_used.push(describe_total(kt));
            // Denominator of shares: every facility of the total, qualified or not.
            match kt.capacity {
                Some(c) => {
                    t.cap_all += c;
                    match kt.nursing_beds {
                        Some(nb) => t.nursing += nb.min(c),
                        None => t.nursing_open_beds += c,
                    }
                }
                None => t.cap_open = true,
            }
            if q == Q::No {
                continue;
            }
            match (q, kt.facilities) {
                (Q::Yes, Some(k)) => t.n_yes += k,
                (_, Some(k)) => t.n_maybe += k,
                (_, None) => t.n_open = true,
            }
            match (q, kt.capacity) {
                (Q::Yes, Some(c)) => t.cap_yes += c,
                (_, Some(c)) => t.cap_maybe += c,
                (_, None) => t.cap_open = true,
            }
            t.unlocated_facilities = match (t.unlocated_facilities, kt.facilities) {
                (Some(a), Some(b)) if !kt.at_least => Some(a + b),
                _ => None,
            };
            if kt.at_least {
                // A floor: more may exist, so it proves targets met, never missed.
                t.n_open = true;
                t.cap_open = true;
            }
        }
    }

    /// Lower and upper bound of the rule's amount for the jurisdiction (facilities,
    /// capacity, qualified capacity or nursing-type beds).
    pub(super) fn amount_bounds(&self, test: Test) -> (f64, Option<f64>) {
        match test {
            Test::Count | Test::Presence | Test::PresenceShare => (
                self.n_yes,
                (!self.n_open).then_some(self.n_yes + self.n_maybe),
            ),
            Test::NursingBedShare => (
                self.nursing,
                (!self.cap_open).then_some(self.nursing + self.nursing_open_beds),
            ),
            Test::QualifiedShare => (self.cap_yes, Some(self.cap_yes + self.cap_maybe)),
            _ => (
                self.cap_yes,
                (!self.cap_open).then_some(self.cap_yes + self.cap_maybe),
            ),
        }
    }

    /// The denominator of a share test and whether it is fully known.
    pub(super) fn share_denominator(&self) -> (f64, bool) {
        (self.cap_all, !self.cap_open)
    }

    pub(super) fn unit_open(&self, i: usize) -> bool {
        !self.complete
            || self.unit_cap_missing[i]
            || self.unlocated_facilities.is_none_or(|k| k > 0.0)
            || !self.totals_used.is_empty()
            || !self.totals_mixed.is_empty()
    }

    pub(super) fn unit_amount_bounds(&self, test: Test, i: usize) -> (f64, Option<f64>) {
        let open = self.unit_open(i);
        match test {
            Test::Count | Test::Presence | Test::PresenceShare => (
                self.unit_yes[i],
                (!open).then_some(self.unit_yes[i] + self.unit_maybe[i]),
            ),
            Test::NursingBedShare => (
                self.unit_nursing[i],
                (!open).then_some(self.unit_nursing[i] + self.unit_nursing_open[i]),
            ),
            Test::QualifiedShare => (
                self.unit_cap_yes[i],
                Some(self.unit_cap_yes[i] + self.unit_cap_maybe[i]),
            ),
            _ => (
                self.unit_cap_yes[i],
                (!open).then_some(self.unit_cap_yes[i] + self.unit_cap_maybe[i]),
            ),
        }
    }

    pub(super) fn unit_share_denominator(&self, i: usize) -> (f64, bool) {
        (self.unit_cap_all[i], !self.unit_open(i))
    }

    /// Why the data leaves the verdict open, in English and Chinese.
    pub(super) fn why(&self, rule: &Rule, kinds_en: &str, kinds_zh: &str) -> (String, String) {
        let mut en = Vec::new();
        let mut zh = Vec::new();
        if !self.complete {
            en.push(format!("existing {kinds_en} are not in this dataset"));
            zh.push(format!("现有{kinds_zh}不在本数据中"));
        }
        if self.facilities_maybe > 0 && !rule.qualifiers.is_empty() {
            en.push(format!(
                "{} facilities do not say whether they are {}",
                self.facilities_maybe,
                rule.qualifier_words(true)
            ));
            zh.push(format!(
                "{} 处设施未注明是否{}",
                self.facilities_maybe,
                rule.qualifier_words(false)
            ));
        }
        if self.capacity_missing > 0
            && !matches!(
                rule.test,
                Test::Presence | Test::PresenceShare | Test::Count
            )
        {
            en.push(format!(
                "{} facilities have no capacity",
                self.capacity_missing
            ));
            zh.push(format!("{} 处设施无容量数据", self.capacity_missing));
        }
        if !self.totals_used.is_empty() {
            en.push(format!(
                "known totals without locations: {}",
                self.totals_used.join("; ")
            ));
            zh.push(format!(
                "已知总数（无位置）：{}",
                self.totals_used.join("；")
            ));
        }
        if !self.totals_mixed.is_empty() {
            en.push(format!(
                "known totals that mix in other kinds: {}",
                self.totals_mixed.join("; ")
            ));
            zh.push(format!(
                "含其他类型的已知总数：{}",
                self.totals_mixed.join("；")
            ));
        }
        if en.is_empty() {
            en.push("the data cannot decide".into());
            zh.push("数据不足以判断".into());
        }
        (en.join("; "), zh.join("；"))
    }
}

fn describe_total(kt: &KnownTotal) -> String {
    let mut parts = Vec::new();
    if let Some(n) = kt.facilities {
        parts.push(format!("{} 处", thousands(n)));
    }
    if let Some(c) = kt.capacity {
        parts.push(format!("容量 {}", thousands(c)));
    }
    format!(
        "{}{}{}（{}{}）",
        if kt.at_least { "至少 " } else { "" },
        kt.label,
        if parts.is_empty() {
            String::new()
        } else {
            format!(" {}", parts.join("、"))
        },
        kt.source,
        kt.year.map(|y| format!("，{y}年")).unwrap_or_default()
    )
}
