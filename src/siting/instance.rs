//! The shared benchmark instance format (`../shared/bench`): a folder of demand and
//! candidate points with a problem.json, read into a [`Problem`].

use std::path::Path;

use super::*;

/// Ids, points and (for demand) weights of one CSV file.
type PointsFile = (Vec<String>, Vec<[f64; 2]>, Vec<f64>);

/// Reads an instance folder in the format of `../shared/bench/README.md`.
pub fn read_instance(dir: &Path) -> Result<Problem> {
    let pj = dir.join("problem.json");
    let text = crate::files::read_input_text(&pj)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::format(&pj, e.to_string()))?;
    let model_s = v["model"].as_str().unwrap_or("");
    let model = Model::parse(model_s).ok_or_else(|| {
        Error::format(
            &pj,
            format!("model '{model_s}': expected mclp, lscp, pmedian or threshold"),
        )
    })?;
    if let Some(dk) = v["distance"].as_str() {
        if dk != "euclidean" {
            return Err(Error::format(
                &pj,
                format!("distance '{dk}' is not supported here (euclidean)"),
            ));
        }
    }
    let read = |name: &str, with_weight: bool| -> Result<PointsFile> {
        let path = dir.join(name);
        let mut rdr =
            csv::Reader::from_path(&path).map_err(|e| Error::format(&path, e.to_string()))?;
        let (mut ids, mut pts, mut ws) = (Vec::new(), Vec::new(), Vec::new());
        for (k, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| Error::format(&path, e.to_string()))?;
            let num = |j: usize, f: &str| -> Result<f64> {
                rec.get(j)
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        Error::format(&path, format!("row {}, field '{f}': not a number", k + 2))
                    })
            };
            ids.push(rec.get(0).unwrap_or("").to_owned());
            pts.push([num(1, "x")?, num(2, "y")?]);
            if with_weight {
                let w = num(3, "weight")?;
                if w < 0.0 {
                    return Err(Error::format(
                        &path,
                        format!("row {}, field 'weight': negative", k + 2),
                    ));
                }
                ws.push(w);
            }
        }
        Ok((ids, pts, ws))
    };
    let (demand_ids, demand, weight) = read("demand.csv", true)?;
    let (candidate_ids, candidates, _) = read("candidates.csv", false)?;
    let existing = if dir.join("existing.csv").exists() {
        read("existing.csv", false)?.1
    } else {
        Vec::new()
    };
    Ok(Problem {
        model,
        demand,
        weight,
        demand_ids,
        candidates,
        candidate_ids,
        existing,
        radius: v["radius_m"].as_f64(),
        p: v["p"].as_u64().map(|p| p as usize),
        share: v["share"].as_f64(),
        cover: None,
        quotas: Vec::new(),
    })
}
