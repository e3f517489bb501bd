//! A study manifest (`study.json`): JSON, unknown keys, empty or repeated cells, layer order and
//! `layer_index` conflicts, names with control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = srmscope::data::study::Study::parse_manifest("fuzz/study.json", data);
});
