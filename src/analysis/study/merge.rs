//! Joins the RESULTS.json of every shard of a study into the one a single run gives.

use super::StudyResults;

/// Merges shards `1/N … N/N` of one study run with one set of settings. Refuses mixed runs,
/// missing or repeated shards and overlapping cells, naming the file.
pub fn merge(shards: Vec<(String, StudyResults)>) -> Result<StudyResults, String> {
    let Some((first_name, first)) = shards.first() else {
        return Err("--merge needs at least one shard file".into());
    };
    let n = match first.shard {
        Some([_, n]) => n,
        None => {
            return Err(format!(
                "{first_name}: not a shard (it was run without --shard)"
            ))
        }
    };
    let mut seen = vec![None::<&str>; n];
    for (file, s) in &shards {
        let Some([i, m]) = s.shard else {
            return Err(format!("{file}: not a shard (it was run without --shard)"));
        };
        if m != n {
            return Err(format!(
                "{file}: shard {i}/{m}, but {first_name} is one of {n}"
            ));
        }
        let what = |k: &str| {
            format!("{file}: a different {k} than {first_name}; shards must come from one run")
        };
        if s.name != first.name || s.n_cells != first.n_cells {
            return Err(what("study"));
        }
        if s.settings != first.settings {
            return Err(what("settings"));
        }
        if s.srmscope != first.srmscope || s.linalg != first.linalg {
            return Err(what("srmscope build"));
        }
        if i == 0 || i > n {
            return Err(format!("{file}: shard {i}/{n} is out of range"));
        }
        if let Some(other) = seen[i - 1] {
            return Err(format!("{file}: shard {i}/{n} is also in {other}"));
        }
        seen[i - 1] = Some(file.as_str());
        for c in &s.cells {
            if c.index % n != i - 1 {
                return Err(format!(
                    "{file}: cell {} does not belong to shard {i}/{n}",
                    c.index
                ));
            }
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{n}", i + 1))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shard {}", missing.join(", ")));
    }
    let mut out = first.clone();
    out.shard = None;
    out.cells = shards.into_iter().flat_map(|(_, s)| s.cells).collect();
    out.cells.sort_by_key(|c| c.index);
    if out.cells.len() != out.n_cells {
        return Err(format!(
            "the shards hold {} cells of {}",
            out.cells.len(),
            out.n_cells
        ));
    }
    Ok(out)
}
