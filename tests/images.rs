//! Input images and class names: every accepted layout and dtype decodes to the same RGBA
//! picture, mismatches are one note naming the file (the activations still open), class names
//! come from the npz, a txt beside the inputs or an explicit file, and `--show-image` frames carry
//! the image pixels.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod render_support;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use ndarray::Array2;
use srmscope::data::{
    attach, load, read_images_file, write_npy_atomic, write_npz_atomic, Dataset, ImageSet, NpyArray,
};

const N: usize = 6;
const H: usize = 4;
const W: usize = 5;

/// Reference RGB pixel: every value in 0..=255 appears at the extremes so min-max scaling of
/// float copies is exact.
fn px(i: usize, y: usize, x: usize, c: usize) -> u8 {
    if i == 0 && y == 0 && x == 0 {
        return if c == 0 { 0 } else { 255 };
    }
    ((i * 37 + y * 11 + x * 5 + c * 83) % 256) as u8
}

fn grey(i: usize, y: usize, x: usize) -> u8 {
    if i == 0 && y == 0 && x == 0 {
        return 0;
    }
    if i == 0 && y == 0 && x == 1 {
        return 255;
    }
    ((i * 41 + y * 13 + x * 7) % 256) as u8
}

/// A version 1.0 `.npy` file with raw little-endian data.
fn npy_bytes(descr: &str, shape: &[usize], fortran: bool, data: &[u8]) -> Vec<u8> {
    let shape_s = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_s}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out.extend(data);
    out
}

/// Values of an array of `shape` in C order from `f(index)`.
fn c_order(shape: &[usize], f: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    let total: usize = shape.iter().product();
    let mut idx = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(total);
    for _ in 0..total {
        out.push(f(&idx));
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Fortran order: the first index runs fastest.
fn f_order(shape: &[usize], f: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    let rev: Vec<usize> = shape.iter().rev().copied().collect();
    c_order(&rev, |i| {
        let back: Vec<usize> = i.iter().rev().copied().collect();
        f(&back)
    })
}

fn networks(dir: &Path, n: usize) -> Vec<String> {
    (0..2)
        .map(|k| {
            let p = dir.join(format!("net{k}.npy"));
            let a = Array2::from_shape_fn((n, 3), |(i, j)| (i * 3 + j + k) as f64 % 5.0);
            write_npy_atomic(&p, &a).unwrap();
            p.display().to_string()
        })
        .collect()
}

fn expected_rgb() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..N {
        for y in 0..H {
            for x in 0..W {
                v.extend([px(i, y, x, 0), px(i, y, x, 1), px(i, y, x, 2), 255]);
            }
        }
    }
    v
}

fn expected_grey() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..N {
        for y in 0..H {
            for x in 0..W {
                let g = grey(i, y, x);
                v.extend([g, g, g, 255]);
            }
        }
    }
    v
}

fn as_bytes(descr: &str, vals: &[f64]) -> Vec<u8> {
    match descr {
        "|u1" => vals.iter().map(|&v| v as u8).collect(),
        "<f4" => vals
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect(),
        "<f8" => vals.iter().flat_map(|&v| v.to_le_bytes()).collect(),
        "<i8" => vals
            .iter()
            .flat_map(|&v| (v as i64).to_le_bytes())
            .collect(),
        _ => unreachable!(),
    }
}

/// Write `images.npy` beside two network files and load them.
fn load_beside(descr: &str, shape: &[usize], fortran: bool, vals: &[f64]) -> Dataset {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = networks(tmp.path(), shape[0]);
    fs::write(
        tmp.path().join("images.npy"),
        npy_bytes(descr, shape, fortran, &as_bytes(descr, vals)),
    )
    .unwrap();
    load(&inputs, None).unwrap()
}

#[test]
fn every_layout_and_dtype_gives_the_same_picture() {
    let rgb = expected_rgb();
    let scale = |descr: &str, v: f64| {
        if descr.starts_with("<f") {
            v / 255.0
        } else {
            v
        }
    };
    for descr in ["|u1", "<f4", "<f8", "<i8"] {
        for fortran in [false, true] {
            let order = |shape: &[usize], f: &dyn Fn(&[usize]) -> f64| {
                if fortran {
                    f_order(shape, f)
                } else {
                    c_order(shape, f)
                }
            };
            let hwc = [N, H, W, 3];
            let chw = [N, 3, H, W];
            let v1 = order(&hwc, &|i| scale(descr, px(i[0], i[1], i[2], i[3]) as f64));
            let v2 = order(&chw, &|i| scale(descr, px(i[0], i[2], i[3], i[1]) as f64));
            for (shape, vals) in [(&hwc[..], v1), (&chw[..], v2)] {
                let d = load_beside(descr, shape, fortran, &vals);
                let im = d.images.as_ref().unwrap_or_else(|| {
                    panic!(
                        "{descr} {shape:?} fortran={fortran}: no images; {:?}",
                        d.notes
                    )
                });
                assert_eq!((im.n, im.width, im.height), (N, W, H));
                assert_eq!(im.rgba, rgb, "{descr} {shape:?} fortran={fortran}");
                let scaled = d.notes.iter().any(|n| n.contains("scaled"));
                assert_eq!(scaled, descr != "|u1", "{descr}: {:?}", d.notes);
            }
        }
    }
    // Grey: (n, H, W), (n, H, W, 1) and (n, 1, H, W).
    let g = expected_grey();
    for shape in [&[N, H, W][..], &[N, H, W, 1][..], &[N, 1, H, W][..]] {
        let vals = c_order(shape, |i| {
            let (y, x) = match shape.len() {
                3 => (i[1], i[2]),
                _ if shape[1] == 1 => (i[2], i[3]),
                _ => (i[1], i[2]),
            };
            grey(i[0], y, x) as f64
        });
        let d = load_beside("|u1", shape, false, &vals);
        assert_eq!(d.images.as_ref().unwrap().rgba, g, "{shape:?}");
    }
    // RGBA keeps its alpha.
    let vals = c_order(&[N, H, W, 4], |i| {
        if i[3] == 3 {
            7.0
        } else {
            px(i[0], i[1], i[2], i[3]) as f64
        }
    });
    let d = load_beside("|u1", &[N, H, W, 4], false, &vals);
    let im = d.images.unwrap();
    assert_eq!(im.image(1).unwrap()[3], 7);
    assert_eq!(&im.image(1).unwrap()[..3], &rgb[H * W * 4..][..3]);
}

#[test]
fn images_and_class_names_inside_the_npz() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("acts.npz");
    let net = |k: usize| {
        NpyArray::from_f64(&Array2::from_shape_fn((N, 3), |(i, j)| {
            ((i + j * k) % 4) as f64
        }))
    };
    let img = NpyArray::I64 {
        shape: vec![N, H, W],
        data: c_order(&[N, H, W], |i| grey(i[0], i[1], i[2]) as f64)
            .into_iter()
            .map(|v| v as i64)
            .collect(),
    };
    write_npz_atomic(
        &p,
        &[
            ("a".into(), net(1)),
            ("b".into(), net(2)),
            (
                "labels".into(),
                NpyArray::I64 {
                    shape: vec![N],
                    data: vec![0, 1, 2, 0, 1, 2],
                },
            ),
            ("images".into(), img),
            (
                "class_names".into(),
                NpyArray::strings(["cat", "dog", "ship"]),
            ),
        ],
    )
    .unwrap();
    let d = load(&[p.display().to_string()], None).unwrap();
    assert_eq!(
        d.names(),
        vec!["a", "b"],
        "images and class_names are not networks"
    );
    assert_eq!(d.images.as_ref().unwrap().rgba, expected_grey());
    assert_eq!(d.class_name(2), "ship");
    assert_eq!(d.class_name(7), "7", "unnamed classes keep their number");
}

#[test]
fn a_count_mismatch_is_one_note_and_the_activations_still_open() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = networks(tmp.path(), N);
    let bad = tmp.path().join("images.npy");
    fs::write(
        &bad,
        npy_bytes("|u1", &[N + 1, 2, 2], false, &[9u8; (N + 1) * 4]),
    )
    .unwrap();
    let d = load(&inputs, None).unwrap();
    assert_eq!(d.networks.len(), 2);
    assert!(d.images.is_none());
    let note = d
        .notes
        .iter()
        .find(|n| n.contains("images.npy") && n.contains("but the activations"))
        .unwrap_or_else(|| panic!("{:?}", d.notes));
    assert!(
        note.contains("7 images") && note.contains(&format!("{N}")),
        "{note}"
    );
    assert!(!note.contains('\n'));

    // A bad layout, and an explicit --images file that does not exist: notes too.
    fs::write(
        &bad,
        npy_bytes("|u1", &[N, 2, 2, 2, 2], false, &[0u8; N * 16]),
    )
    .unwrap();
    let mut d = load(&inputs, None).unwrap();
    assert!(d.images.is_none());
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("images.npy") && n.contains("expected (n, H, W)")),
        "{:?}",
        d.notes
    );
    attach(&mut d, Some(&tmp.path().join("nope.npy")), None);
    assert!(
        d.notes.iter().any(|n| n.contains("nope.npy")),
        "{:?}",
        d.notes
    );
    assert!(read_images_file(&tmp.path().join("nope.npy")).is_err());
}

#[test]
fn class_names_from_a_txt_beside_or_an_explicit_file() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = networks(tmp.path(), N);
    fs::write(tmp.path().join("class_names.txt"), "zero\none\n\n").unwrap();
    let d = load(&inputs, None).unwrap();
    assert_eq!(
        d.class_names,
        Some(vec!["zero".to_string(), "one".to_string()])
    );
    let other = tmp.path().join("names.txt");
    fs::write(&other, "a\nb\nc\n").unwrap();
    let mut d = d;
    attach(&mut d, None, Some(&other));
    assert_eq!(d.class_name(2), "c");
}

#[test]
fn big_images_are_downsampled_with_a_note() {
    let (n, h, w) = (2, 300, 200);
    let vals = vec![128.0; n * h * w];
    let d = load_beside("|u1", &[n, h, w], false, &vals);
    let im = d.images.unwrap();
    assert!(im.width <= srmscope::data::MAX_SIDE && im.height <= srmscope::data::MAX_SIDE);
    assert_eq!(im.rgba[0], 128);
    assert!(d.notes.iter().any(|n| n.contains("downsampled")));
}

#[test]
fn cifar_sized_sets_decode_whole() {
    // 10,000 RGB 32x32 uint8 images (30 MB) decode whole; how fast is measured outside the tests.
    let (n, h, w) = (10_000usize, 32usize, 32usize);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("images.npy");
    let data: Vec<u8> = (0..n * h * w * 3).map(|k| (k % 251) as u8).collect();
    fs::write(&p, npy_bytes("|u1", &[n, h, w, 3], false, &data)).unwrap();
    let (set, _) = read_images_file(&p).unwrap();
    assert_eq!((set.n, set.width, set.height), (n, w, h));
    // Pixel k of the file lands in RGBA as (r, g, b, 255).
    let last = n * h * w - 1;
    let src = &data[last * 3..last * 3 + 3];
    assert_eq!(
        &set.rgba[last * 4..last * 4 + 4],
        &[src[0], src[1], src[2], 255]
    );
}

#[test]
fn show_image_frames_contain_the_image_pixels() {
    use srmscope::progress::Progress;
    use srmscope::render::export::{export, ExportFormat, ExportOptions};
    use srmscope::render::inset::FrameImages;

    if !render_support::gl_available("show_image_frames_contain_the_image_pixels") {
        return;
    }
    let d = srmscope::data::load_demo("convnet").unwrap();
    let settings = srmscope::analysis::Settings {
        n_iter: 2,
        max_units: Some(20),
        ..Default::default()
    };
    let report = |_: srmscope::progress::ProgressEvent| {};
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let progress = Progress::new(&report, &cancel);
    let out = srmscope::analysis::run(&d, &settings, &progress).unwrap();
    let frames = FrameImages::new(
        d.images.clone(),
        &out.test_idx,
        settings.smooth,
        out.scene.n_frames(),
        d.labels.as_deref(),
        d.class_names.as_deref(),
    )
    .unwrap();
    let last = out.scene.n_frames() - 1;
    let img = frames.image_of_frame[last];
    let tmp = tempfile::tempdir().unwrap();
    let render = |show: bool, name: &str| -> Option<Vec<u8>> {
        let opts = ExportOptions {
            format: ExportFormat::Png,
            show_image: show,
            images: Some(Arc::new(frames.clone())),
            ..Default::default()
        };
        let p = tmp.path().join(name);
        // GL is there (checked above): an export error is a failure, not a skip.
        export(&out.scene, &opts, &p, &progress).expect("export");
        let dec = png::Decoder::new(std::io::BufReader::new(fs::File::open(&p).unwrap()));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        let ch = match info.color_type {
            png::ColorType::Rgba => 4,
            png::ColorType::Rgb => 3,
            other => panic!("{other:?}"),
        };
        // As RGBA, whatever the PNG holds.
        Some(
            buf[..info.buffer_size()]
                .chunks_exact(ch)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
        )
    };
    let (Some(with), Some(without)) = (render(true, "with.png"), render(false, "without.png"))
    else {
        return;
    };
    // The 8x8 digit drawn at k = 480/5/8 = 12 pixels per image pixel, bottom-left, 7 px in.
    let set: &ImageSet = d.images.as_ref().unwrap();
    let k = 12;
    let (x0, y0) = (7, 480 - 7 - 8 * k);
    let at = |buf: &[u8], x: usize, y: usize| {
        let i = (y * 640 + x) * 4;
        [buf[i], buf[i + 1], buf[i + 2]]
    };
    let mut differs = 0;
    for iy in 0..8 {
        for ix in 0..8 {
            let p = &set.image(img).unwrap()[(iy * 8 + ix) * 4..][..3];
            let c = at(&with, x0 + ix * k + k / 2, y0 + iy * k + k / 2);
            assert_eq!(c, [p[0], p[1], p[2]], "image pixel ({ix}, {iy})");
            if at(&without, x0 + ix * k + k / 2, y0 + iy * k + k / 2) != c {
                differs += 1;
            }
        }
    }
    assert!(differs > 8, "the plain frame has no image there");
}
