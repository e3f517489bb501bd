//! The demo sets embedded in the binary, loaded with `demo:<name>` (e.g. `demo:convnet`).
//!
//! Each is an `.npz` made by `tools/make_demo.py` (see `assets/demo/README.md`): five networks
//! (seeds) of one architecture, their Dense-128 pre-ReLU activations on the same 809 held-out
//! sklearn digits, plus the digit `labels`. They go through the same npz code path as files.

use super::dataset::Dataset;
pub use super::embedded::{all_names, demo_bytes, names, study_bytes, DEMOS, STUDIES};
use super::error::DataError;
use super::load::load_npz_bytes;

/// Load demo `name` (without the `demo:` prefix) as a [`Dataset`] named `name`.
pub fn load_demo(name: &str) -> Result<Dataset, DataError> {
    load_npz_bytes(&format!("demo:{name}"), demo_bytes(name)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_loads() {
        for (name, _, _) in DEMOS {
            let d = load_demo(name).unwrap();
            assert_eq!(&d.name, name);
            assert!(d.networks.len() >= 2, "{name}");
            let n = d.n_images();
            assert_eq!(d.labels.as_ref().map(Vec::len), Some(n), "{name}");
            assert!(d.networks.iter().all(|x| x.data.nrows() == n));
            let im = d.images.as_ref().unwrap();
            assert_eq!((im.n, im.width, im.height), (n, 8, 8), "{name}");
            assert_eq!(d.class_name(3), "3");
        }
    }

    #[test]
    fn every_demo_study_opens_and_its_cells_load() {
        for (name, _, _) in STUDIES {
            let st = crate::data::study::Study::open(&format!("demo:{name}")).unwrap();
            assert!(st.cells.len() >= 8, "{name}");
            let last = st.cells.len() - 1;
            for i in [0, last] {
                let d = st.load_cell(i, &Default::default()).unwrap();
                assert!(d.networks.len() >= 2);
                assert_eq!(d.labels.as_ref().map(Vec::len), Some(d.n_images()));
                assert!(d.images.is_some() && d.class_names.is_some(), "{name}");
            }
        }
    }

    #[test]
    fn unknown_demo_lists_names() {
        let e = load_demo("nope").unwrap_err().to_string();
        assert!(
            e.contains("nope") && e.contains("demo:convnet") && e.contains("demo:resnet"),
            "{e}"
        );
    }
}
