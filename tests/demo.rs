//! The embedded demo sets show the paper's headline effect (numbers in assets/demo/README.md).

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use srmscope::analysis::{self, Settings};
use srmscope::data::{load_demo, DEMOS};
use srmscope::progress::silent;

fn run(name: &str) -> analysis::PipelineOutput {
    let ds = load_demo(name).expect("demo loads");
    assert_eq!(ds.networks.len(), 5, "{name}");
    assert!(ds.labels.is_some(), "{name} has labels");
    // Prob SRM, k = 10, fit on 80 %, measured on the held-out 20 %.
    let s = Settings {
        k: Some(10),
        ..Settings::default()
    };
    silent(|p| analysis::run(&ds, &s, p)).expect("pipeline")
}

#[test]
fn every_embedded_set_loads_and_fits() {
    for (name, _, _) in DEMOS {
        let out = run(name);
        assert_eq!(out.scene.n_networks(), 5);
        assert!(
            out.scene.n_frames() > 100,
            "{name}: {} frames",
            out.scene.n_frames()
        );
        assert_eq!(out.test_idx.len(), 162, "{name}: 20 % of 809 images");
    }
}

#[test]
fn trained_networks_align_and_the_untrained_control_less() {
    let conv = run("convnet");
    let res = run("resnet");
    let untrained = run("convnet_untrained");
    for (name, out) in [("convnet", &conv), ("resnet", &res)] {
        let native = out.metrics.isc.native.expect("equal widths");
        eprintln!(
            "{name}: ISC native {native:.3} → shared {:.3}",
            out.metrics.isc.shared
        );
        assert!(native < 0.2, "{name}: native ISC {native}");
        assert!(
            out.metrics.isc.shared > 0.9,
            "{name}: shared ISC {}",
            out.metrics.isc.shared
        );
    }
    let u = untrained.metrics.isc.shared;
    eprintln!("convnet_untrained: ISC shared {u:.3}");
    assert!(
        u < conv.metrics.isc.shared - 0.05,
        "untrained {u} vs trained {}",
        conv.metrics.isc.shared
    );
}
