//! The interactive HTML figure, opened in headless Chromium from `file://`, offline: no console
//! errors, deep links set the state, before and after differ and show every network's hue, and
//! the page carries the pipeline's own float32 trajectories.
//!
//! Needs Debian's `chromium` (software WebGL through SwiftShader). Without it the tests skip
//! with a message, except under `CI=true`, where they fail.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use srmscope::analysis::{pipeline, Settings};
use srmscope::progress::silent;
use srmscope::render::html::decode_trajectories;
use srmscope::render::palette;

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in ["/usr/bin", "/usr/local/bin", "/snap/bin"] {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed (CI=true: the HTML page tests must run)");
        }
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Runs headless Chromium on `page#hash` with `mode` (`--dump-dom` or `--screenshot=…`).
fn chrome(bin: &Path, page: &Path, hash: &str, mode: &str, profile: &Path) -> String {
    let url = format!("file://{}#{hash}", page.display());
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader",
            "--disable-gpu-sandbox",
            "--no-first-run",
            "--disable-extensions",
            "--window-size=1100,800",
            "--virtual-time-budget=4000",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(&url)
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Console messages at error level from the page itself.
    let page_errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") && l.contains("file://") && l.contains("ERROR"))
        .collect();
    assert!(page_errors.is_empty(), "console errors: {page_errors:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `data-NAME` on the root element of a dumped DOM.
fn attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<html")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!("data-{name}=\"");
    let from = tag.find(&key)? + key.len();
    let to = from + tag[from..].find('"')?;
    Some(tag[from..to].replace("&quot;", "\"").replace("&amp;", "&"))
}

fn heads(dom: &str) -> Vec<[f64; 3]> {
    let text = attr(dom, "heads").expect("data-heads");
    serde_json::from_str(&text).expect("data-heads is JSON")
}

struct Built {
    _dir: tempfile::TempDir,
    page: PathBuf,
    profile: PathBuf,
    before: Vec<f32>,
    after: Vec<f32>,
    n_frames: usize,
}

/// `srmscope export demo:convnet --out fig.html`, and the pipeline's own scene on the same data.
fn build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("fig.html");
    let out = Command::new(env!("CARGO_BIN_EXE_srmscope"))
        .args([
            "export",
            "demo:convnet",
            "--k",
            "10",
            "--bootstrap",
            "50",
            "--out",
        ])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&page).unwrap();
    let (before, after) = decode_trajectories(&text).expect("the page's trajectories");
    let ds = srmscope::data::load_demo("convnet").unwrap();
    let s = Settings {
        k: Some(10),
        bootstrap: 50,
        ..Settings::default()
    };
    let run = silent(|p| pipeline::run(&ds, &s, p)).unwrap();
    let flat = |after: bool| -> Vec<f32> {
        run.scene
            .trajectories
            .iter()
            .flat_map(|t| {
                if after {
                    t.after.clone()
                } else {
                    t.before.clone()
                }
            })
            .flatten()
            .collect()
    };
    assert_eq!(before, flat(false), "the page's 'before' is the pipeline's");
    assert_eq!(after, flat(true), "the page's 'after' is the pipeline's");
    let profile = dir.path().join("profile");
    Built {
        n_frames: run.scene.n_frames(),
        _dir: dir,
        page,
        profile,
        before,
        after,
    }
}

#[test]
fn page_opens_without_errors_and_follows_deep_links() {
    let Some(bin) = chromium_or_skip() else {
        return;
    };
    let b = build();
    let dom = chrome(
        &bin,
        &b.page,
        "view=after&frame=40&play=0",
        "--dump-dom",
        &b.profile,
    );
    assert_eq!(attr(&dom, "ready").as_deref(), Some("1"), "page never drew");
    assert_eq!(attr(&dom, "webgl").as_deref(), Some("2"));
    assert_eq!(attr(&dom, "errors").as_deref(), Some("0"));
    assert_eq!(attr(&dom, "view").as_deref(), Some("after"));
    assert_eq!(attr(&dom, "frame").as_deref(), Some("40"));
    assert_eq!(attr(&dom, "playing").as_deref(), Some("0"));
    // The heads at frame 40 are the page's own float32 trajectory points there.
    let h = heads(&dom);
    assert_eq!(h.len(), 5);
    for (i, p) in h.iter().enumerate() {
        for c in 0..3 {
            let want = b.after[(i * b.n_frames + 40) * 3 + c] as f64;
            assert!(
                (p[c] - want).abs() < 1e-6,
                "head {i}: {p:?} vs the trajectory"
            );
        }
    }
    // #frame= moves the heads; #view=before shows the native points.
    let later = heads(&chrome(
        &bin,
        &b.page,
        "view=after&frame=120&play=0",
        "--dump-dom",
        &b.profile,
    ));
    assert!(
        h.iter().zip(&later).all(|(a, z)| a != z),
        "frame=120 did not move the heads"
    );
    let native = chrome(
        &bin,
        &b.page,
        "view=before&frame=40&play=0",
        "--dump-dom",
        &b.profile,
    );
    assert_eq!(attr(&native, "view").as_deref(), Some("before"));
    let hb = heads(&native);
    let want = b.before[40 * 3] as f64;
    assert!((hb[0][0] - want).abs() < 1e-6);
}

/// Pixels within a small distance of `c`.
fn count_hue(img: &[u8], c: [u8; 3]) -> usize {
    img.chunks(4)
        .filter(|p| (0..3).all(|k| (p[k] as i32 - c[k] as i32).abs() <= 24))
        .count()
}

fn screenshot(bin: &Path, b: &Built, hash: &str, name: &str) -> Vec<u8> {
    let path = b.page.with_file_name(name);
    chrome(
        bin,
        &b.page,
        hash,
        &format!("--screenshot={}", path.display()),
        &b.profile,
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    }
}

#[test]
fn before_and_after_differ_and_show_every_network() {
    let Some(bin) = chromium_or_skip() else {
        return;
    };
    let b = build();
    let before = screenshot(&bin, &b, "view=before&frame=100&play=0", "before.png");
    let after = screenshot(&bin, &b, "view=after&frame=100&play=0", "after.png");
    assert_eq!(before.len(), after.len());
    let differing = before
        .chunks(4)
        .zip(after.chunks(4))
        .filter(|(a, z)| a != z)
        .count();
    assert!(
        differing > 2000,
        "before and after look the same ({differing} pixels differ)"
    );
    for (view, img) in [("before", &before), ("after", &after)] {
        for (i, c) in palette(5).into_iter().enumerate() {
            let n = count_hue(img, c);
            assert!(n >= 20, "{view}: network {i}'s hue {c:?} is on {n} pixels");
        }
    }
}

#[test]
fn study_report_opens_each_cell_from_a_link() {
    let Some(bin) = chromium_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_srmscope"))
        .args([
            "study",
            "demo:digits-study",
            "--no-cache",
            "--bootstrap",
            "0",
            "--k",
            "5",
        ])
        .args(["--iters", "5", "--out"])
        .arg(dir.path().join("r.json"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let n_cells = results["cells"].as_array().unwrap().len();
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains("// BEGIN PLAYER"),
        "the report carries the page's player"
    );
    let profile = dir.path().join("profile");
    let overview = chrome(&bin, &report, "", "--dump-dom", &profile);
    assert_eq!(attr(&overview, "errors").as_deref(), Some("0"));
    assert_eq!(attr(&overview, "cells"), Some(n_cells.to_string()));
    let c = &results["cells"][n_cells - 1];
    let id = format!(
        "{}/{}/{}",
        c["arch"].as_str().unwrap(),
        c["layer"].as_str().unwrap(),
        c["checkpoint"]
    );
    let dom = chrome(
        &bin,
        &report,
        &format!("cell={id}&view=after&frame=5&play=0"),
        "--dump-dom",
        &profile,
    );
    assert_eq!(attr(&dom, "cell"), Some(id));
    assert_eq!(attr(&dom, "errors").as_deref(), Some("0"));
    assert_eq!(attr(&dom, "frame").as_deref(), Some("5"));
    assert_eq!(heads(&dom).len(), c["networks"].as_array().unwrap().len());
}
