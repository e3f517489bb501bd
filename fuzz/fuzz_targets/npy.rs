//! One `.npy` stream: header parser, dtype and shape checks, data decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = srmscope::data::read_npy_bytes("fuzz.npy", data);
});
