//! An `.npz` container: zip parsing, member names, every member's `.npy` stream, both as
//! activations (the loader) and as plain arrays (the model reader's path).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = srmscope::data::load_npz_bytes("fuzz.npz", data);
    let _ = srmscope::data::read_npz_bytes("fuzz.npz", data);
});
