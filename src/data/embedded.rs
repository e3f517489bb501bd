//! The bytes embedded in the binary: the demo datasets (`demo:<name>`) and demo studies, and
//! lookups by name. No loading here, so both [`super::load`] (which resolves `demo:` inputs) and
//! [`super::demo`] (which loads a demo by name) depend on this and not on each other.

use super::error::DataError;

/// `(name, npz bytes, one-line description)` of every embedded demo set.
pub static DEMOS: &[(&str, &[u8], &str)] = &[
    (
        "convnet",
        include_bytes!("../../assets/demo/convnet.npz"),
        "5 small ConvNets (seeds 0-4) trained on 8x8 digits; 809 held-out images x 128 units each",
    ),
    (
        "resnet",
        include_bytes!("../../assets/demo/resnet.npz"),
        "5 small ResNets (seeds 100-104) trained on 8x8 digits; 809 held-out images x 128 units each",
    ),
    (
        "convnet_untrained",
        include_bytes!("../../assets/demo/convnet_untrained.npz"),
        "the same 5 ConvNets untrained (random initialisation): a control without learned structure",
    ),
];

/// `(name, zip bytes, one-line description)` of every embedded demo study (`data::study`).
pub static STUDIES: &[(&str, &[u8], &str)] = &[(
    "digits-study",
    include_bytes!("../../assets/demo/digits-study.zip"),
    "the 5 ConvNets and 5 ResNets at 4-5 layers and epochs 0, 1, 2, 4, 8 and 30 (54 cells)",
)];

/// The archive of embedded study `name`, if there is one.
pub fn study_bytes(name: &str) -> Option<&'static [u8]> {
    STUDIES.iter().find(|d| d.0 == name).map(|d| d.1)
}

/// Names of every embedded demo: datasets, then studies.
pub fn all_names() -> Vec<&'static str> {
    DEMOS.iter().chain(STUDIES).map(|d| d.0).collect()
}

/// Names of the embedded demo sets.
pub fn names() -> Vec<&'static str> {
    DEMOS.iter().map(|d| d.0).collect()
}

/// The `.npz` bytes of demo `name`; an unknown name lists the available ones.
pub fn demo_bytes(name: &str) -> Result<&'static [u8], DataError> {
    if study_bytes(name).is_some() {
        return Err(DataError::IsStudy {
            path: format!("demo:{name}"),
        });
    }
    DEMOS
        .iter()
        .find(|d| d.0 == name)
        .map(|d| d.1)
        .ok_or_else(|| DataError::UnknownDemo {
            name: name.to_string(),
            available: DEMOS
                .iter()
                .map(|d| format!("demo:{}", d.0))
                .collect::<Vec<_>>()
                .join(", "),
        })
}
