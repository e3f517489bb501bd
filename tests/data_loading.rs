//! Loading activations written by real numpy (fixtures in tests/data/loading/, made by
//! make_fixtures.py), every refusal with its message, and the atomic npz/npy writers.
//!
//! Fixture formulas (see make_fixtures.py): base[i, j] = (4i + j) % 7 - 3 on 6 images x 4 units,
//! half = base + 0.5, labels[i] = i % 3, conv = arange(72).reshape(6, 2, 2, 3).

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use ndarray::{array, Array2, ArrayD, IxDyn};
use srmscope::data::{
    load, load_demo, load_with, read_npy, read_npz, read_npz_bytes, read_npz_f64, write_npy_atomic,
    write_npz_atomic, DataError, Dataset, LoadOptions, NpyArray, DEMOS,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/loading")
}

fn fx(name: &str) -> String {
    dir().join(name).display().to_string()
}

fn load_fx(names: &[&str]) -> Result<Dataset, DataError> {
    let inputs: Vec<String> = names.iter().map(|n| fx(n)).collect();
    load(&inputs, None)
}

fn base(i: usize, j: usize) -> f64 {
    ((4 * i + j) % 7) as f64 - 3.0
}

fn expect_matrix(d: &Dataset, name: &str, f: impl Fn(usize, usize) -> f64) {
    let net = d
        .networks
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no network {name} in {:?}", d.names()));
    let data = net.data.view_f64();
    assert!(data.is_standard_layout(), "{name} not in C order");
    for ((i, j), &v) in data.indexed_iter() {
        assert_eq!(v, f(i, j), "{name}[{i}, {j}]");
    }
}

/// The error message of a load that must fail; checks it names `file` and says `problem`.
fn refuse(inputs: &[String], labels: Option<&Path>, file: &str, problems: &[&str]) -> DataError {
    let e = match load(inputs, labels) {
        Ok(d) => panic!(
            "{inputs:?} loaded ({} networks) but must be refused",
            d.networks.len()
        ),
        Err(e) => e,
    };
    let msg = e.to_string();
    assert!(msg.contains(file), "message does not name {file}: {msg}");
    for p in problems {
        assert!(msg.contains(p), "message lacks {p:?}: {msg}");
    }
    assert!(!msg.contains('\n'), "not one line: {msg}");
    e
}

/// Refuse `bad` when given together with a good network (so "too few" cannot mask it).
fn refuse_fx(bad: &str, problems: &[&str]) -> DataError {
    refuse(&[fx("f32.npy"), fx(bad)], None, bad, problems)
}

// ---------------------------------------------------------------------------------------------
// What must load.

#[test]
fn every_numeric_dtype_byte_order_and_layout() {
    let files = [
        "f16.npy",
        "f32.npy",
        "f64.npy",
        "int8.npy",
        "int32.npy",
        "uint8.npy",
        "be_f4.npy",
        "be_f8.npy",
        "be_i4.npy",
        "fortran.npy",
        "v2.npy",
        "v3.npy",
    ];
    let d = load_fx(&files).unwrap();
    assert_eq!(d.networks.len(), files.len());
    assert_eq!(d.name, "loading");
    assert_eq!(d.n_images(), 6);
    assert!(d.labels.is_none());
    let half = |i, j| base(i, j) + 0.5;
    for n in ["f16", "f32", "f64", "be_f4", "be_f8", "fortran", "v2", "v3"] {
        expect_matrix(&d, n, half);
    }
    for n in ["int8", "int32", "be_i4"] {
        expect_matrix(&d, n, base);
    }
    expect_matrix(&d, "uint8", |i, j| base(i, j) + 3.0);
    // Values float32 holds exactly stay float32 in memory (half the bytes); the rest are f64.
    let stored_as = |n: &str| match &d.networks.iter().find(|x| x.name == n).unwrap().data {
        srmscope::data::Activations::F32(_) => "f32",
        srmscope::data::Activations::F64(_) => "f64",
    };
    for n in ["f16", "f32", "be_f4", "int8", "uint8"] {
        assert_eq!(stored_as(n), "f32", "{n}");
    }
    for n in ["f64", "be_f8", "int32", "be_i4"] {
        assert_eq!(stored_as(n), "f64", "{n}");
    }
    let dtype = |n: &str| {
        d.networks
            .iter()
            .find(|x| x.name == n)
            .unwrap()
            .dtype
            .clone()
    };
    assert_eq!(dtype("f16"), "<f2");
    assert_eq!(dtype("be_f8"), ">f8");
    assert_eq!(dtype("be_i4"), ">i4");
    assert_eq!(dtype("int8"), "|i1");
    for net in &d.networks {
        assert_eq!(net.original_shape, vec![6, 4]);
        assert!(net.source.ends_with(&format!("{}.npy", net.name)));
    }
    assert!(
        d.notes
            .iter()
            .any(|n| n == "int8: converted |i1 to float32"),
        "{:?}",
        d.notes
    );
}

#[test]
fn all_integer_and_bool_dtypes_in_npz() {
    let d = load_fx(&["ints.npz"]).unwrap();
    assert_eq!(
        d.names(),
        ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1", "be_i2", "be_u8"]
    );
    for n in ["i1", "i2", "i4", "i8", "be_i2"] {
        expect_matrix(&d, n, base);
    }
    for n in ["u1", "u2", "u4", "u8", "be_u8"] {
        expect_matrix(&d, n, |i, j| base(i, j) + 3.0);
    }
    expect_matrix(&d, "b1", |i, j| f64::from(u8::from(base(i, j) > 0.0)));
    assert_eq!(d.networks[0].source, format!("{}:i1", fx("ints.npz")));
}

#[test]
fn npz_stored_and_deflated_in_archive_order_with_labels() {
    for file in ["stored.npz", "deflated.npz"] {
        let d = load_fx(&[file]).unwrap();
        assert_eq!(d.names(), ["net1", "net0"], "{file}");
        assert_eq!(d.name, file.trim_end_matches(".npz"));
        expect_matrix(&d, "net1", |i, j| base(i, j) + 0.5);
        expect_matrix(&d, "net0", |i, j| 2.0 * (base(i, j) + 0.5));
        assert_eq!(d.labels, Some(vec![0, 1, 2, 0, 1, 2]), "{file}");
        assert_eq!(d.networks[0].dtype, "<f4");
    }
}

#[test]
fn conv_maps_are_flattened_in_c_order_whatever_the_layout() {
    let d = load_fx(&["conv4d.npz"]).unwrap();
    assert_eq!(d.names(), ["net_c", "net_f", "net_bef"]);
    for n in ["net_c", "net_f", "net_bef"] {
        expect_matrix(&d, n, |i, j| (12 * i + j) as f64);
        let net = d.networks.iter().find(|x| x.name == n).unwrap();
        assert_eq!(net.original_shape, vec![6, 2, 2, 3]);
        assert_eq!(net.data.dim(), (6, 12));
        assert!(
            d.notes
                .contains(&format!("{n}: flattened (6, 2, 2, 3) to (6, 12)")),
            "{:?}",
            d.notes
        );
    }
}

#[test]
fn labels_npy_beside_the_npy_files() {
    let d = load_fx(&["beside/a.npy", "beside/b.npy"]).unwrap();
    assert_eq!(d.names(), ["a", "b"]);
    assert_eq!(d.labels, Some(vec![0, 1, 2, 0, 1, 2]));
    assert_eq!(d.name, "a+b");
    assert!(
        d.notes.iter().any(|n| n.starts_with("labels: read from")),
        "{:?}",
        d.notes
    );
}

#[test]
fn folder_of_npy_files_sorted_with_float_labels() {
    let d = load_fx(&["folder"]).unwrap();
    assert_eq!(d.name, "folder");
    assert_eq!(d.names(), ["net_a", "net_b"]);
    expect_matrix(&d, "net_a", |i, j| base(i, j) + 0.5);
    expect_matrix(&d, "net_b", |i, j| 2.0 * (base(i, j) + 0.5));
    assert_eq!(d.labels, Some(vec![0, 1, 2, 0, 1, 2]));
}

#[test]
fn explicit_labels_win() {
    let inputs = [fx("stored.npz")];
    let d = load(&inputs, Some(&dir().join("labels_u8.npy"))).unwrap();
    assert_eq!(d.labels, Some(vec![0, 1, 2, 0, 1, 2]));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("ignoring") && n.contains("stored.npz:labels")),
        "{:?}",
        d.notes
    );
    // An npz without an array called `labels` but with a single array.
    let d = load(
        &[fx("f32.npy"), fx("f64.npy")],
        Some(&dir().join("labels_only.npz")),
    )
    .unwrap();
    assert_eq!(d.labels, Some(vec![0, 1, 2, 0, 1, 2]));
}

#[test]
fn mixed_inputs_and_duplicate_names() {
    let d = load_fx(&["stored.npz", "f32.npy"]).unwrap();
    assert_eq!(d.names(), ["net1", "net0", "f32"]);
    assert_eq!(d.name, "stored+f32");
    let d = load_fx(&["stored.npz", "deflated.npz"]).unwrap();
    assert_eq!(d.names(), ["net1", "net0", "net1_2", "net0_2"]);
    assert!(
        d.notes.iter().any(|n| n.contains("renamed to 'net1_2'")),
        "{:?}",
        d.notes
    );
}

#[test]
fn demo_sets() {
    assert_eq!(DEMOS.len(), 3);
    for (name, _, desc) in DEMOS {
        assert!(!desc.is_empty());
        let d = load(&[format!("demo:{name}")], None).unwrap();
        assert_eq!(&d.name, name);
        assert!(d.networks.len() >= 2);
        assert_eq!(d.labels.as_ref().map(Vec::len), Some(d.n_images()));
    }
    let d = load_demo("convnet").unwrap();
    assert_eq!(d.networks[0].source, "demo:convnet:net0");
    let e = load(&["demo:vgg".to_string()], None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("vgg") && e.contains("demo:convnet") && e.contains("demo:convnet_untrained"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// What must be refused, with a message that names the file and the problem.

#[test]
fn fewer_than_two_networks() {
    let e = refuse(
        &[fx("f32.npy")],
        None,
        "f32.npy",
        &["at least 2 networks", "found 1"],
    );
    assert!(matches!(e, DataError::TooFew { found: 1, .. }));
    refuse(
        &[fx("single.npz")],
        None,
        "single.npz:net0",
        &["at least 2 networks"],
    );
    refuse(
        &[fx("labels_only.npz")],
        None,
        "labels_only.npz:y",
        &["1-D", "must be called 'labels'"],
    );
    let e = load(&[], None).unwrap_err().to_string();
    assert!(e.contains("no inputs"), "{e}");
}

#[test]
fn differing_image_counts_name_both() {
    let e = refuse(
        &[fx("f32.npy"), fx("short.npy")],
        None,
        "short.npy",
        &["f32.npy has 6 images", "short.npy has 5"],
    );
    assert!(matches!(
        e,
        DataError::Mismatch {
            first_n: 6,
            other_n: 5,
            ..
        }
    ));
}

#[test]
fn wrong_dimensionality_or_empty() {
    refuse_fx("one_d.npy", &["1-D", "(6,)", "(images, units)"]);
    refuse_fx("zero_d.npy", &["0-d", "(images, units)"]);
    refuse_fx("empty_images.npy", &["empty", "0 images", "(0, 4)"]);
    refuse_fx("empty_units.npy", &["empty", "0 units", "(6, 0)"]);
}

#[test]
fn unusable_dtypes() {
    for (file, dtype, what) in [
        ("complex.npy", "<c16", "complex"),
        ("object.npy", "|O", "object"),
        ("str.npy", "<U2", "strings"),
        ("bytes.npy", "|S2", "byte strings"),
        (
            "structured.npy",
            "[('a', '<f4'), ('b', '<i4')]",
            "structured",
        ),
        ("datetime.npy", "<M8[s]", "dates"),
        ("longdouble.npy", "<f16", "long double"),
    ] {
        let e = refuse_fx(file, &["unsupported dtype", dtype, what]);
        assert!(matches!(e, DataError::Dtype { .. }), "{file}: {e:?}");
    }
    refuse(
        &[fx("bad_dtype.npz")],
        None,
        "bad_dtype.npz:net1",
        &["unsupported dtype <c8", "complex"],
    );
}

#[test]
fn nan_and_inf_counted_and_located() {
    let e = refuse_fx("nonfinite.npy", &[]);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: contains 3 NaN/Inf values; the first is at image 2, unit 3",
            fx("nonfinite.npy")
        )
    );
    refuse(
        &[fx("nonfinite.npz")],
        None,
        "nonfinite.npz:net1",
        &["contains 3 NaN/Inf values; the first is at image 2, unit 3"],
    );
}

#[test]
fn bad_labels() {
    let both = [fx("f32.npy"), fx("f64.npy")];
    let e = refuse(
        &both,
        Some(&dir().join("labels_short.npy")),
        "labels_short.npy",
        &["5 labels", "6 images"],
    );
    assert!(matches!(e, DataError::Labels { .. }));
    refuse(
        &both,
        Some(&dir().join("labels_frac.npy")),
        "labels_frac.npy",
        &["image 0 is 0.5", "not an integer"],
    );
    refuse(
        &both,
        Some(&dir().join("labels_str.npy")),
        "labels_str.npy",
        &["strings", "integers"],
    );
    refuse(
        &both,
        Some(&dir().join("labels_2d.npy")),
        "labels_2d.npy",
        &["shape (2, 3)"],
    );
    refuse(
        &both,
        Some(&dir().join("no_labels.npy")),
        "no_labels.npy",
        &["no such file"],
    );
    refuse(
        &both,
        Some(&dir().join("ints.npz")),
        "ints.npz",
        &["no array named 'labels'", "i1"],
    );
}

#[test]
fn missing_paths_and_unsupported_inputs() {
    let e = refuse(
        &[fx("f32.npy"), fx("nope.npy")],
        None,
        "nope.npy",
        &["no such file or folder"],
    );
    assert!(matches!(e, DataError::Missing { .. }));
    refuse(
        &[fx("f32.npy"), fx("folder/README.txt")],
        None,
        "README.txt",
        &["unsupported input", ".txt", ".npy"],
    );
    refuse(
        &[fx("f32.npy"), fx("make_fixtures.py")],
        None,
        "make_fixtures.py",
        &["unsupported", ".py"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty_dir");
    fs::create_dir(&empty).unwrap();
    refuse(
        &[fx("f32.npy"), empty.display().to_string()],
        None,
        "empty_dir",
        &["no .npy files"],
    );
}

/// Write a modified copy of a fixture to a temp dir.
fn variant(tmp: &Path, name: &str, bytes: &[u8]) -> String {
    let p = tmp.join(name);
    fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn npy_header(descr: &str, shape: &str) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

#[test]
fn truncated_and_corrupt_npy() {
    let tmp = tempfile::tempdir().unwrap();
    let good = fs::read(dir().join("f32.npy")).unwrap();
    let ok = fx("f64.npy");
    let check = |name: &str, bytes: &[u8], problems: &[&str]| {
        let p = variant(tmp.path(), name, bytes);
        let e = refuse(&[ok.clone(), p], None, name, problems);
        assert!(matches!(e, DataError::Corrupt { .. }), "{name}: {e:?}");
    };
    check(
        "cut_data.npy",
        &good[..good.len() - 10],
        &["truncated", "(6, 4) <f4", "96 bytes", "86 bytes"],
    );
    check("cut_header.npy", &good[..40], &["truncated", "header"]);
    check("cut_magic.npy", &good[..7], &["truncated"]);
    check("empty.npy", b"", &["empty"]);
    check(
        "text.npy",
        b"hello, this is not numpy",
        &["not a .npy", "magic"],
    );
    check(
        "zip.npy",
        &fs::read(dir().join("stored.npz")).unwrap(),
        &["zip archive", "not a .npy"],
    );
    let mut v9 = good.clone();
    v9[6] = 9;
    check("v9.npy", &v9, &["unsupported .npy format version 9.0"]);
    let mut bad_dict = good.clone();
    bad_dict[10..16].copy_from_slice(b"[[[[[[");
    check("bad_dict.npy", &bad_dict, &["corrupt .npy header"]);
    let mut no_shape = npy_header("<f4", "(6, 4)");
    let at = no_shape.windows(7).position(|w| w == b"'shape'").unwrap();
    no_shape[at..at + 7].copy_from_slice(b"'shapf'");
    check(
        "no_shape.npy",
        &no_shape,
        &["corrupt .npy header", "no 'shape'"],
    );
    // A header that promises more data than the file holds, though it would fit in memory.
    let mut more = npy_header("<f4", "(6, 400)");
    more.extend_from_slice(&[0u8; 96]);
    check(
        "promises_more.npy",
        &more,
        &["truncated", "(6, 400)", "9.6 kB", "96 bytes"],
    );
}

#[test]
fn corrupt_and_truncated_npz() {
    let tmp = tempfile::tempdir().unwrap();
    let stored = fs::read(dir().join("stored.npz")).unwrap();
    let deflated = fs::read(dir().join("deflated.npz")).unwrap();
    let check = |name: &str, bytes: &[u8], problems: &[&str]| {
        let p = variant(tmp.path(), name, bytes);
        let e = refuse(&[p], None, name, problems);
        assert!(matches!(e, DataError::Corrupt { .. }), "{name}: {e:?}");
    };
    check(
        "garbage.npz",
        b"this is not a zip file at all, sorry",
        &["not a readable .npz archive"],
    );
    check("empty.npz", b"", &["not a readable .npz archive"]);
    check(
        "cut.npz",
        &stored[..stored.len() - 100],
        &["not a readable .npz archive"],
    );
    check(
        "cut_deflated.npz",
        &deflated[..deflated.len() / 2],
        &["not a readable .npz archive"],
    );
    check(
        "npy_as.npz",
        &fs::read(dir().join("f32.npy")).unwrap(),
        &["not a readable .npz archive"],
    );
    // Flip the lowest mantissa bit of the first value of the first member: the zip CRC catches it.
    let mut flipped = stored.clone();
    let magic = flipped.windows(6).position(|w| w == b"\x93NUMPY").unwrap();
    flipped[magic + 128] ^= 1;
    check(
        "crc.npz",
        &flipped,
        &["crc.npz:net1", "damaged archive member", "checksum"],
    );
    // Damage the compressed stream of a deflated archive: some error, naming the file.
    let mut bad = deflated.clone();
    let local = 30 + "net1.npy".len();
    for b in &mut bad[local + 40..local + 60] {
        *b ^= 0x5a;
    }
    let p = variant(tmp.path(), "bad_deflate.npz", &bad);
    let e = load(&[p], None).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("bad_deflate.npz"), "{msg}");
    assert!(matches!(e, DataError::Corrupt { .. }), "{e:?}");
}

#[test]
fn huge_arrays_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    // 6 images x 10^12 units of float32, no data at all: must be refused from the header.
    let p = variant(
        tmp.path(),
        "huge.npy",
        &npy_header("<f4", "(6, 1000000000000)"),
    );
    let e = refuse(
        &[fx("f32.npy"), p],
        None,
        "huge.npy",
        &["needs 48000.0 GB as float64", "this machine can spare"],
    );
    assert!(matches!(e, DataError::TooLarge { .. }), "{e:?}");
    // Overflowing shape.
    let p = variant(
        tmp.path(),
        "overflow.npy",
        &npy_header("<f8", "(6, 18446744073709551615, 18446744073709551615)"),
    );
    let e = refuse(
        &[fx("f32.npy"), p],
        None,
        "overflow.npy",
        &["as float64", "this machine can spare"],
    );
    assert!(matches!(e, DataError::TooLarge { .. }), "{e:?}");
    // A small explicit limit, per array and cumulative.
    let inputs = [fx("f32.npy"), fx("f64.npy")];
    let e = load_with(
        &inputs,
        None,
        &LoadOptions {
            max_bytes: 100,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "f32.npy: needs 192 bytes as float64, more than the 100 bytes this machine can spare"
        ),
        "{e}"
    );
    let e = load_with(
        &inputs,
        None,
        &LoadOptions {
            max_bytes: 300,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "f64.npy: needs 192 bytes as float64 (384 bytes with the arrays loaded before it)"
        ),
        "{e}"
    );
    assert!(load_with(
        &inputs,
        None,
        &LoadOptions {
            max_bytes: 384,
            ..Default::default()
        }
    )
    .is_ok());
    assert!(srmscope::data::memory_limit() >= 1 << 20);
}

// ---------------------------------------------------------------------------------------------
// Writing.

fn sample_arrays() -> Vec<(String, NpyArray)> {
    // Exact round trip of awkward values: tiny, huge, negative zero below.
    let m = Array2::from_shape_fn((5, 3), |(i, j)| {
        [
            i as f64 * 0.25,
            -(i as f64) * 1e-300,
            1e300 / (i + 1) as f64,
        ][j]
    });
    let cube = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |d| {
        (d[0] * 100 + d[1] * 10 + d[2]) as f64
    });
    vec![
        ("shared".to_string(), NpyArray::from(m)),
        ("cube".to_string(), NpyArray::from(cube)),
        (
            "scalar".to_string(),
            NpyArray::F64 {
                shape: vec![],
                data: vec![-0.0],
            },
        ),
        (
            "ids".to_string(),
            NpyArray::from(array![3i64, -1, i64::MAX, i64::MIN]),
        ),
        (
            "params".to_string(),
            NpyArray::string(r#"{"k": 10, "name": "π ü 日本 \"q\" 🎉"}"#),
        ),
        (
            "networks".to_string(),
            NpyArray::strings(["net0", "a much longer name", ""]),
        ),
        (
            "empty".to_string(),
            NpyArray::F64 {
                shape: vec![0, 3],
                data: vec![],
            },
        ),
    ]
}

#[test]
fn npz_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("model.npz");
    let arrays = sample_arrays();
    write_npz_atomic(&path, &arrays).unwrap();
    let back = read_npz(&path).unwrap();
    assert_eq!(back, arrays);
    assert_eq!(
        back[4].1.as_str(),
        Some(r#"{"k": 10, "name": "π ü 日本 \"q\" 🎉"}"#)
    );
    assert_eq!(
        back[5].1.as_strings().unwrap(),
        ["net0", "a much longer name", ""]
    );
    assert_eq!(back[5].1.dtype(), "<U18");
    assert_eq!(
        back[3].1.to_i64().unwrap().into_raw_vec_and_offset().0,
        vec![3, -1, i64::MAX, i64::MIN]
    );
    let f = read_npz_f64(&path).unwrap();
    let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["shared", "cube", "scalar", "ids", "empty"]);
    assert_eq!(f[1].1[[1, 2, 3]], 123.0);
    // Same bytes from memory.
    assert_eq!(
        read_npz_bytes("mem", &fs::read(&path).unwrap()).unwrap(),
        arrays
    );
    // Stored members, as numpy's savez writes them.
    let mut zip = npyz::zip::ZipArchive::new(fs::File::open(&path).unwrap()).unwrap();
    for i in 0..zip.len() {
        assert_eq!(
            zip.by_index(i).unwrap().compression(),
            npyz::zip::CompressionMethod::Stored
        );
    }
    // Nothing else left in the folder (no temp file).
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    // Overwrite in place.
    write_npz_atomic(&path, &arrays[..2]).unwrap();
    assert_eq!(read_npz(&path).unwrap().len(), 2);
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn written_npz_loads_as_a_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("acts.npz");
    let a = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f64);
    write_npz_atomic(
        &path,
        &[
            ("x".into(), NpyArray::from(a.clone())),
            ("y".into(), NpyArray::from(a.t().to_owned().reversed_axes())),
            ("labels".into(), NpyArray::from(array![1i64, 2, 1, 2])),
        ],
    )
    .unwrap();
    let d = load(&[path.display().to_string()], None).unwrap();
    assert_eq!(d.names(), ["x", "y"]);
    assert_eq!(d.networks[1].data.view_f64(), a);
    assert_eq!(d.labels, Some(vec![1, 2, 1, 2]));
}

#[test]
fn npy_round_trip_any_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Array2::from_shape_fn((3, 5), |(i, j)| i as f64 - j as f64 / 3.0);
    let p = tmp.path().join("a.npy");
    write_npy_atomic(&p, &a.t()).unwrap();
    let back = read_npy(&p).unwrap();
    assert_eq!(back.shape(), [5, 3]);
    assert_eq!(back.to_f64().unwrap(), a.t().into_dyn());
    write_npy_atomic(&tmp.path().join("b.npy"), &a.t().to_owned()).unwrap();
    let d = load(&[tmp.path().display().to_string()], None).unwrap();
    assert_eq!(d.networks[0].data.view_f64(), a.t());
    assert_eq!(d.networks[1].data.view_f64(), a.t());
}

#[test]
fn failed_writes_leave_nothing_and_name_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no/such/dir/model.npz");
    let e = write_npz_atomic(&missing, &sample_arrays()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, DataError::Write { .. }), "{e:?}");
    assert!(
        msg.contains("model.npz") && msg.contains("cannot write") && msg.contains("does not exist"),
        "{msg}"
    );

    // A bad array is refused before anything is touched; an existing file survives.
    let path = tmp.path().join("keep.npz");
    write_npz_atomic(&path, &sample_arrays()[..1]).unwrap();
    let before = fs::read(&path).unwrap();
    let bad = [(
        "x".to_string(),
        NpyArray::F64 {
            shape: vec![2, 2],
            data: vec![1.0],
        },
    )];
    let e = write_npz_atomic(&path, &bad).unwrap_err().to_string();
    assert!(
        e.contains("keep.npz:x") && e.contains("shape (2, 2) does not match the 1 values"),
        "{e}"
    );
    let dup = [
        ("x".to_string(), NpyArray::string("a")),
        ("x".to_string(), NpyArray::string("b")),
    ];
    assert!(write_npz_atomic(&path, &dup)
        .unwrap_err()
        .to_string()
        .contains("used twice"));
    assert_eq!(fs::read(&path).unwrap(), before);

    // The target is a folder.
    let e = write_npy_atomic(tmp.path(), &Array2::<f64>::zeros((1, 1)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot write") && e.contains("folder"), "{e}");

    // Disk full: /dev/full cannot hold a temp file's data, but only where temp files can be made
    // next to it, so emulate with a read-only folder when not running as root.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = tmp.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let probe = fs::File::create(ro.join("probe"));
        if probe.is_err() {
            let e = write_npz_atomic(&ro.join("m.npz"), &sample_arrays())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("m.npz: cannot write") && e.to_lowercase().contains("permission"),
                "{e}"
            );
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
        let left: Vec<_> = fs::read_dir(&ro)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert!(left.iter().all(|n| n == "probe"), "{left:?}");
    }
    let names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

/// Optional: numpy reads what we write (skipped when python3 + numpy are not installed).
#[test]
fn numpy_reads_our_npz() {
    let Some(python) = common::python_with(&["numpy"]) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no python3 with numpy (tried $SRMSCOPE_TEST_PYTHON, python3, /usr/bin/python3)"
        );
        eprintln!("python3 with numpy not available; skipping");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("model.npz");
    write_npz_atomic(&path, &sample_arrays()).unwrap();
    let npy = tmp.path().join("m.npy");
    write_npy_atomic(
        &npy,
        &Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64),
    )
    .unwrap();
    let script = r#"
import sys, json, numpy as np
z = np.load(sys.argv[1])
assert z.files == ['shared', 'cube', 'scalar', 'ids', 'params', 'networks', 'empty'], z.files
assert z['shared'].shape == (5, 3) and z['shared'].dtype == np.float64
assert z['cube'][1, 2, 3] == 123.0
assert z['scalar'].shape == () and np.signbit(z['scalar'])
assert z['ids'].dtype == np.int64 and z['ids'][2] == 2**63 - 1
p = json.loads(str(z['params']))
assert p['k'] == 10 and p['name'] == 'π ü 日本 "q" 🎉', p
assert z['params'].shape == ()
assert list(z['networks']) == ['net0', 'a much longer name', ''] and z['networks'].dtype == np.dtype('<U18')
assert z['empty'].shape == (0, 3)
m = np.load(sys.argv[2])
assert (m == np.arange(6).reshape(2, 3)).all() and m.flags.c_contiguous
print('ok')
"#;
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            script,
            &path.display().to_string(),
            &npy.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "numpy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
