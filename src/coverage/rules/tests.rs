use super::*;

#[test]
fn all_presets_parse_and_cite_documents_not_files() {
    for (name, text) in PRESETS {
        let s = RuleSet::preset(name).unwrap();
        assert_eq!(s.id, name);
        assert!(!s.rules.is_empty());
        assert!(!s.document.is_empty(), "{name}");
        // No seed file name or repository path anywhere a user could see it.
        for bad in [".txt", "seeds/", "../shared", "seed 0"] {
            assert!(!text.contains(bad), "{name} mentions {bad}");
        }
        for r in &s.rules {
            let c = &r.citation;
            assert!(!c.document.is_empty(), "{name}/{}", r.id);
            assert!(!c.clause.is_empty(), "{name}/{}", r.id);
            assert!(!c.quote.is_empty(), "{name}/{}", r.id);
            assert!(c.cite().starts_with('《'), "{}", c.cite());
            if r.convention {
                assert!(c.number.contains("50180"), "{name}/{}", r.id);
            }
        }
    }
    let h = RuleSet::preset("heihe-2022").unwrap();
    let r = h
        .rules
        .iter()
        .find(|r| r.id == "nursery_places_per_1000")
        .unwrap();
    assert_eq!(
        r.citation.cite(),
        "《黑河市“一老一小”整体解决方案》(黑市政办规〔2022〕10号) 二(二); 主要发展指标 6 (约束性)"
    );
    assert_eq!((r.scope, r.deadline), (Scope::Aggregate, Some(2025)));
    assert!(!h.not_modelled.is_empty());
}

#[test]
fn bad_presets_name_the_rule_and_field() {
    let base = |rule: &str| {
        format!("id='x'\ntitle_zh='x'\ntitle_en='x'\ndocument='规划'\n[[rules]]\nid='r1'\ntitle_zh='a'\ntitle_en='a'\ncitation={{clause='1',quote='q'}}\n{rule}")
    };
    let e = |rule: &str| {
        RuleSet::parse(&base(rule), "f.toml")
            .unwrap_err()
            .to_string()
    };
    let m = e("test='presence'\nlevel='community'\nkinds=['daycare_room']\ntarget=1");
    assert!(
        m.contains("f.toml") && m.contains("r1") && m.contains("daycare_room"),
        "{m}"
    );
    let m = e("test='presence'\nlevel='parish'\nkinds=['day_care']\ntarget=1");
    assert!(m.contains("unknown level 'parish'"), "{m}");
    let m = e("test='presence_share'\nlevel='community'\nkinds=['day_care']\ntarget=-0.5");
    assert!(m.contains("target must be zero or positive"), "{m}");
    let m = e("test='presence_share'\nlevel='community'\nkinds=['day_care']\ntarget=90");
    assert!(m.contains("0.9 for 90 %"), "{m}");
    let m = e(
        "test='population_within'\nlevel='community'\nkinds=['day_care']\ntarget=1\ndistance_m=0",
    );
    assert!(m.contains("distance must be positive"), "{m}");
    // Scope, qualifier and population base are checked, naming file and rule.
    let m = e("test='presence'\nscope='citywide'\nlevel='community'\nkinds=['day_care']\ntarget=1");
    assert!(
        m.contains("f.toml") && m.contains("r1") && m.contains("unknown scope 'citywide'"),
        "{m}"
    );
    let m =
        e("test='capacity_total'\nscope='per_unit'\nlevel='county'\nkinds=['nursery']\ntarget=5");
    assert!(m.contains("does not apply"), "{m}");
    let m = e("test='presence'\nlevel='township'\nkinds=['township_institution']\nqualifiers=['shiny']\ntarget=1");
    assert!(
        m.contains("r1") && m.contains("unknown qualifier 'shiny'"),
        "{m}"
    );
    let m = e(
        "test='places_per_1000'\nscope='aggregate'\nlevel='county'\nkinds=['nursery']\ntarget=4.5",
    );
    assert!(m.contains("r1") && m.contains("population base"), "{m}");
    let m = e("test='presence'\nlevel='county'\nkinds=['day_care']\narea='downtown'\ntarget=1");
    assert!(m.contains("unknown area 'downtown'"), "{m}");
}

#[test]
fn walk_distance_follows_settings() {
    let mut s = RuleSet::preset("heilongjiang-2021").unwrap();
    s.set_walk(10.0, 0.8);
    let r = s
        .rules
        .iter()
        .find(|r| r.id == "elderly_15min_circle")
        .unwrap();
    assert_eq!(r.distance.unwrap().describe(), "10 min × 0.8 m/s = 480 m");
}
