//! The study's numbers as a table: the metrics a grid, curve or bar can show, and the CSV.

use super::{CellResult, StudyResults};

/// A per-cell number the Study view and the figures can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StudyMetric {
    IscNative,
    IscShared,
    RsaNative,
    RsaShared,
    VeTest,
    VeTrain,
    DevVsFinal,
    DevVsSame,
    WithinConsistency,
}

impl StudyMetric {
    pub const ALL: [StudyMetric; 9] = [
        StudyMetric::IscShared,
        StudyMetric::IscNative,
        StudyMetric::RsaShared,
        StudyMetric::RsaNative,
        StudyMetric::VeTest,
        StudyMetric::VeTrain,
        StudyMetric::DevVsFinal,
        StudyMetric::DevVsSame,
        StudyMetric::WithinConsistency,
    ];

    /// Column name in the CSV (and file stem in `--figures`).
    pub fn key(self) -> &'static str {
        match self {
            StudyMetric::IscNative => "isc_native",
            StudyMetric::IscShared => "isc_shared",
            StudyMetric::RsaNative => "rsa_native",
            StudyMetric::RsaShared => "rsa_shared",
            StudyMetric::VeTest => "variance_explained_test",
            StudyMetric::VeTrain => "variance_explained_train",
            StudyMetric::DevVsFinal => "dev_vs_final",
            StudyMetric::DevVsSame => "dev_vs_same",
            StudyMetric::WithinConsistency => "within_rsm_consistency",
        }
    }

    /// What a user reads on screen.
    pub fn label(self) -> &'static str {
        match self {
            StudyMetric::IscNative => "ISC, native",
            StudyMetric::IscShared => "ISC, shared",
            StudyMetric::RsaNative => "RSA, native",
            StudyMetric::RsaShared => "RSA, shared",
            StudyMetric::VeTest => "variance explained (held out)",
            StudyMetric::VeTrain => "variance explained (train)",
            StudyMetric::DevVsFinal => "r(inter shared, within at last checkpoint)",
            StudyMetric::DevVsSame => "r(inter shared, within at same checkpoint)",
            StudyMetric::WithinConsistency => "within-RSM consistency",
        }
    }

    pub fn value(self, c: &CellResult) -> Option<f64> {
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let m = &c.metrics;
        let v = match self {
            StudyMetric::IscNative => m.isc.native,
            StudyMetric::IscShared => Some(m.isc.shared),
            StudyMetric::RsaNative => m.rsa.native,
            StudyMetric::RsaShared => Some(m.rsa.shared),
            StudyMetric::VeTest => mean(&m.variance_explained.test),
            StudyMetric::VeTrain => mean(&m.variance_explained.train),
            StudyMetric::DevVsFinal => c.dev_vs_final,
            StudyMetric::DevVsSame => c.dev_vs_same,
            StudyMetric::WithinConsistency => c.within_rsm_consistency,
        };
        v.filter(|x| x.is_finite())
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per cell: coordinates, sizes, every [`StudyMetric`] and the fit time. Empty fields
/// where a value is undefined.
pub fn to_csv(r: &StudyResults) -> String {
    let mut out =
        String::from("arch,layer,layer_index,checkpoint,path,n_networks,n_images,n_test,k");
    for m in StudyMetric::ALL {
        out.push(',');
        out.push_str(m.key());
    }
    out.push_str(
        ",isc_shared_ci_low,isc_shared_ci_high,rsa_shared_ci_low,rsa_shared_ci_high,fit_seconds\n",
    );
    for c in &r.cells {
        let mut row = vec![
            csv_field(&c.arch),
            csv_field(&c.layer),
            c.layer_index.to_string(),
            c.checkpoint.to_string(),
            csv_field(&c.path),
            c.networks.len().to_string(),
            c.n_images.to_string(),
            c.n_test.to_string(),
            c.k.to_string(),
        ];
        let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
        for m in StudyMetric::ALL {
            row.push(num(m.value(c)));
        }
        let ci =
            |p: &crate::analysis::metrics::NativeShared| p.ci95.as_ref().and_then(|c| c.shared);
        for v in [ci(&c.metrics.isc), ci(&c.metrics.rsa)] {
            row.push(num(v.map(|v| v[0])));
            row.push(num(v.map(|v| v[1])));
        }
        row.push(format!("{:.3}", c.metrics.fit_seconds));
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The arches in manifest order, and per arch its layers (by layer index) and checkpoints.
pub struct Axes {
    pub arches: Vec<ArchAxes>,
}

pub struct ArchAxes {
    pub arch: String,
    /// (layer index, layer name), sorted by index.
    pub layers: Vec<(u64, String)>,
    pub checkpoints: Vec<u64>,
}

impl Axes {
    pub fn of(cells: &[crate::data::study::CellSpec]) -> Axes {
        let mut arches: Vec<ArchAxes> = Vec::new();
        for c in cells {
            let a = match arches.iter().position(|a| a.arch == c.arch) {
                Some(i) => &mut arches[i],
                None => {
                    arches.push(ArchAxes {
                        arch: c.arch.clone(),
                        layers: Vec::new(),
                        checkpoints: Vec::new(),
                    });
                    let last = arches.len() - 1;
                    &mut arches[last]
                }
            };
            if !a.layers.iter().any(|l| l.1 == c.layer) {
                a.layers.push((c.layer_index, c.layer.clone()));
            }
            if !a.checkpoints.contains(&c.checkpoint) {
                a.checkpoints.push(c.checkpoint);
            }
        }
        for a in &mut arches {
            a.layers.sort();
            a.checkpoints.sort_unstable();
        }
        Axes { arches }
    }
}
