//! Joins the RESULTS.json of every shard of a study into the one a single run gives.

use super::StudyResults;

/// Merges shards `1/N … N/N` of one study run with one set of settings. Refuses mixed runs,
/// missing or repeated shards and overlapping cells, naming the file. Shards of one study
/// carry the same manifest digest (`manifest_sha256`); files written before it was recorded
/// merge only with each other.
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
    if n == 0 || n > first.n_cells || n > super::runner::MAX_SHARDS {
        return Err(format!(
            "{first_name}: shard of {n}, but the study has {} cells",
            first.n_cells
        ));
    }
    if shards.len() > n {
        return Err(format!(
            "{} shard files for a study split into {n}",
            shards.len()
        ));
    }
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
        match (&s.manifest_sha256, &first.manifest_sha256) {
            (Some(a), Some(b)) if a != b => return Err(what("study manifest (study.json)")),
            (Some(_), None) | (None, Some(_)) => {
                return Err(format!(
                    "{file}: cannot tell whether it comes from the same study as {first_name} \
                     (one was written by an older srmscope); run every shard with one version"
                ))
            }
            _ => {}
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
        let more = missing.len().saturating_sub(5);
        let mut list = missing.into_iter().take(5).collect::<Vec<_>>().join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        return Err(format!("missing shard {list}"));
    }
    let mut out = first.clone();
    out.shard = None;
    out.cells = shards.into_iter().flat_map(|(_, s)| s.cells).collect();
    out.cells.sort_by_key(|c| c.index);
    if let Some(w) = out.cells.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(format!("cell {} appears twice in the shards", w[0].index));
    }
    if let Some(c) = out.cells.iter().find(|c| c.index >= out.n_cells) {
        return Err(format!(
            "cell {} is past the study's {} cells",
            c.index, out.n_cells
        ));
    }
    if out.cells.len() != out.n_cells {
        return Err(format!(
            "the shards hold {} cells of {}",
            out.cells.len(),
            out.n_cells
        ));
    }
    Ok(out)
}
