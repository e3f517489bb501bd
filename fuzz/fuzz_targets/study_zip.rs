//! A zipped study: the archive, its members' names (`./`, folders, zip-slip names), the manifest
//! inside, every cell (`.npz`, `.npy`, folders of `.npy`), its labels and digest, the images and
//! class names, all under a 64 MB cap on what any member may inflate to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use srmscope::data::study::{NoMemo, Study};

const CAP: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(st) = Study::from_zip_bytes("fuzz.zip", data.to_vec(), CAP) else {
        return;
    };
    let opts = srmscope::data::LoadOptions {
        max_bytes: CAP,
        ..Default::default()
    };
    for i in 0..st.cells.len().min(4) {
        let _ = st.load_cell_digest(i, &opts);
        let _ = st.cell_digest(i, &mut NoMemo);
    }
    let _ = st.class_names();
});
