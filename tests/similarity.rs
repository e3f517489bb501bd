//! The pairwise similarity measures against independent Python references
//! (tools/similarity_reference.py, tests/data/similarity/README.md) and against the values the
//! metadata table declares.

// Tests may unwrap, expect and panic: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::{Array2, ArrayView2};
use srmscope::analysis::similarity::{self, Kind, MEASURES};

const TOL: f64 = 1e-10;
/// arccos near 1 amplifies rounding to ~√eps, in the reference as much as here.
const TOL_NEAR_ZERO_ANGLE: f64 = 1e-7;

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/similarity/golden.json"
    ))
    .expect("golden.json");
    serde_json::from_str(&text).expect("json")
}

fn matrix(v: &serde_json::Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).expect("matrix");
    let (n, p) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, p), rows.into_iter().flatten().collect()).expect("shape")
}

fn tolerance(key: &str, i: usize, j: usize) -> f64 {
    if i == j && key.starts_with("procrustes") {
        TOL_NEAR_ZERO_ANGLE
    } else {
        TOL
    }
}

#[test]
fn every_measure_matches_the_python_references() {
    let g = golden();
    let cases = g["cases"].as_object().expect("cases");
    assert_eq!(cases.len(), 3);
    let mut worst = 0.0f64;
    for (name, case) in cases {
        let xs: Vec<Array2<f64>> = case["networks"]
            .as_array()
            .expect("networks")
            .iter()
            .map(matrix)
            .collect();
        let views: Vec<ArrayView2<f64>> = xs.iter().map(|x| x.view()).collect();
        let k = case["knn"].as_u64().expect("knn") as usize;
        let got = similarity::pair_matrices(&views, k).expect("pairs");
        for info in MEASURES {
            let want = &case["pairs"][info.key];
            let m = &got[info.key];
            for (i, row) in m.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    match want[i][j].as_f64() {
                        None => assert!(
                            v.is_nan(),
                            "{name} {} [{i}][{j}] = {v}, want null",
                            info.key
                        ),
                        Some(w) => {
                            let d = (v - w).abs();
                            assert!(
                                d <= tolerance(info.key, i, j),
                                "{name} {} [{i}][{j}]: {v} vs {w} (|Δ| = {d:e})",
                                info.key
                            );
                            if i != j || !info.key.starts_with("procrustes") {
                                worst = worst.max(d);
                            }
                        }
                    }
                }
            }
        }
        // The standalone functions agree with the batch.
        let (a, b) = (views[0], views[1]);
        let p = &case["pairs"];
        let close = |v: f64, key: &str| {
            assert!(
                (v - p[key][0][1].as_f64().expect("value")).abs() < TOL,
                "{name} {key}"
            )
        };
        close(similarity::cka_linear(a, b).expect("cka"), "cka_linear");
        close(
            similarity::cka_linear_debiased(a, b).expect("cka"),
            "cka_linear_debiased",
        );
        let (ang, euc) = similarity::procrustes(a, b).expect("procrustes");
        close(ang, "procrustes_angular");
        close(euc, "procrustes_euclidean");
        close(similarity::rsa_pearson(a, b).expect("rsa"), "rsa_pearson");
        close(similarity::rsa_spearman(a, b).expect("rsa"), "rsa_spearman");
        close(similarity::mutual_knn(a, b, k).expect("knn"), "mutual_knn");
    }
    eprintln!("largest deviation from the references: {worst:e}");
}

fn test_data(n: usize, p: usize, seed: u64) -> Array2<f64> {
    // A small LCG: deterministic and independent of rand's version.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    Array2::from_shape_simple_fn((n, p), || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

fn rotation(p: usize, seed: u64) -> Array2<f64> {
    srmscope::linalg::householder_qr(test_data(p, p, seed).view()).0
}

fn all(x: &Array2<f64>, y: &Array2<f64>, k: usize) -> [f64; 8] {
    let a = similarity::Summary::new(x.view(), k).expect("summary");
    let b = similarity::Summary::new(y.view(), k).expect("summary");
    similarity::all_of(&a, &b).expect("measures")
}

fn self_tol(key: &str) -> f64 {
    if key.starts_with("procrustes") {
        TOL_NEAR_ZERO_ANGLE
    } else {
        TOL
    }
}

/// Every measure of a network against itself, and against each transform it declares itself
/// invariant to, gives the declared self value.
#[test]
fn self_comparisons_give_the_declared_values() {
    let x = test_data(60, 7, 1) + &test_data(60, 7, 2).mapv(|v| v * v);
    let q = rotation(7, 3);
    let mut perm = Array2::<f64>::zeros((7, 7));
    for i in 0..7 {
        perm[[i, (i * 3 + 1) % 7]] = 1.0;
    }
    let transforms: [(&str, Array2<f64>); 4] = [
        ("itself", x.clone()),
        ("isotropic scaling", x.mapv(|v| 2.5 * v + 0.0)),
        ("permutation", x.dot(&perm)),
        ("rotation", x.dot(&q)),
    ];
    for (what, y) in &transforms {
        let vals = all(&x, y, 10);
        for (info, v) in MEASURES.iter().zip(vals) {
            let invariant = *what == "itself" || info.invariant_to.contains(what);
            if invariant {
                assert!(
                    (v - info.self_value).abs() <= self_tol(info.key),
                    "{} against {what}: {v}, declared {}",
                    info.key,
                    info.self_value
                );
            }
            assert!(
                v >= info.range.0 - 1e-12 && v <= info.range.1 + 1e-12,
                "{} = {v} outside {}",
                info.key,
                info.range_text
            );
        }
    }
    // A rotation changes what per-unit ISC and RSA see: they do not claim that invariance.
    let rot = all(&x, &x.dot(&q), 10);
    assert!((rot[6] - 1.0).abs() > 1e-3);
}

#[test]
fn distances_and_similarities_point_the_declared_way() {
    let x = test_data(50, 6, 5);
    let near = &x + &test_data(50, 6, 6).mapv(|v| 0.05 * v);
    let far = test_data(50, 6, 7);
    let (vn, vf) = (all(&x, &near, 5), all(&x, &far, 5));
    for (i, info) in MEASURES.iter().enumerate() {
        match info.kind {
            Kind::Similarity => assert!(vn[i] > vf[i], "{}", info.key),
            Kind::Distance => assert!(vn[i] < vf[i], "{}", info.key),
        }
    }
}

/// The debiased estimator in float64 stays finite where float32 minibatch code goes NaN: few
/// images, many units, nearly collinear networks, and a rank-one one.
#[test]
fn debiased_cka_stays_finite() {
    let few = test_data(5, 300, 8);
    let rank_one = {
        let u = test_data(5, 1, 9);
        let v = test_data(1, 300, 10);
        u.dot(&v)
    };
    let tiny = few.mapv(|v| v * 1e-150);
    for y in [&few, &rank_one, &tiny] {
        let v = similarity::cka_linear_debiased(few.view(), y.view()).expect("cka");
        assert!(v.is_finite() && (-1.0..=1.0).contains(&v), "{v}");
    }
    let wide = similarity::Summary::new(few.view(), 2).expect("summary");
    let v = similarity::cka_linear_debiased_of(&wide, &wide);
    assert!((v - 1.0).abs() < 1e-12);
    assert!(
        similarity::cka_linear_debiased(test_data(3, 4, 1).view(), test_data(3, 4, 2).view())
            .is_err()
    );
}

#[test]
fn unequal_widths_leave_isc_undefined_but_not_the_rest() {
    let x = test_data(30, 5, 11);
    let y = test_data(30, 8, 12);
    let v = all(&x, &y, 4);
    for (info, v) in MEASURES.iter().zip(v) {
        assert_eq!(v.is_nan(), info.needs_equal_widths, "{}", info.key);
    }
}

/// The measures table in docs/measures.md is the metadata table.
#[test]
fn readme_table_matches_the_metadata() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/measures.md"))
        .expect("docs/measures.md");
    for m in MEASURES {
        let kind = match m.kind {
            Kind::Similarity => "similarity",
            Kind::Distance => "distance",
        };
        let row = format!(
            "| `{}` | {kind} | {} | {} | {} |",
            m.key, m.range_text, m.self_value, m.invariant_to
        );
        assert!(
            readme.contains(&row),
            "docs/measures.md lacks the row\n{row}"
        );
    }
}
