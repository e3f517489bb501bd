//! A model file: every array's checks, the settings and the stored statistics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = srmscope::analysis::model_file::load_bytes("fuzz-model.npz", data);
});
