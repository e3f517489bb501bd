//! What srmscope promises across thread counts: the same results to a relative tolerance, not
//! the same bytes. Parallel products and reductions sum in an order that depends on the pool
//! size, so values move in their 13th–16th digits between `RAYON_NUM_THREADS=1` and 2; fixing
//! the order would cost the parallel speed-up. Timings (`fit_seconds`) are measurements, not
//! results, and are not compared.

use serde_json::Value;

/// Two numbers agree when |a − b| ≤ `THREAD_TOLERANCE` · max(1, |a|, |b|): relative for large
/// values, absolute for values below 1 (correlations near 0 carry no relative precision).
pub const THREAD_TOLERANCE: f64 = 1e-10;

/// Where two results part: the JSON path, both values, and the size of the gap.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub path: String,
    pub left: String,
    pub right: String,
    /// |a − b| / max(1, |a|, |b|) for numbers; `None` for a structural difference.
    pub scaled: Option<f64>,
}

/// The comparison of two RESULTS.json (or METRICS.json) values.
#[derive(Clone, Debug, Default)]
pub struct Agreement {
    /// Differences beyond the tolerance (structure, strings, or numbers).
    pub beyond: Vec<Difference>,
    /// The largest scaled gap between numbers, and where, tolerated or not.
    pub largest: Option<Difference>,
    /// Numbers that are not bit-identical.
    pub inexact: usize,
}

impl Agreement {
    pub fn holds(&self) -> bool {
        self.beyond.is_empty()
    }

    /// One line: "agree to 1e-10: 1409 numbers differ in the last bits, the largest 3.3e-13 at
    /// /cells[4]/isc/shared", or the first difference beyond the tolerance.
    pub fn summary(&self) -> String {
        let largest = self.largest.as_ref().map_or(String::new(), |d| {
            format!(
                ", the largest {:.2e} at {} ({} vs {})",
                d.scaled.unwrap_or(0.0),
                d.path,
                d.left,
                d.right
            )
        });
        match self.beyond.first() {
            None if self.inexact == 0 => "bit-identical apart from fit_seconds".to_string(),
            None => format!(
                "agree to {THREAD_TOLERANCE:e}: {} numbers differ in the last bits{largest}",
                self.inexact
            ),
            Some(d) => format!(
                "{} differences beyond {THREAD_TOLERANCE:e}; the first at {}: {} vs {}{largest}",
                self.beyond.len(),
                d.path,
                d.left,
                d.right
            ),
        }
    }
}

/// Compares `a` and `b` under the promise.
pub fn agree(a: &Value, b: &Value) -> Agreement {
    let mut out = Agreement::default();
    walk(a, b, String::new(), &mut out);
    out
}

fn walk(a: &Value, b: &Value, path: String, out: &mut Agreement) {
    let structural = |out: &mut Agreement, path: &str| {
        out.beyond.push(Difference {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
            left: a.to_string(),
            right: b.to_string(),
            scaled: None,
        })
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                if k == "fit_seconds" {
                    continue;
                }
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => walk(u, v, p, out),
                    _ => out.beyond.push(Difference {
                        path: p,
                        left: x.get(k).map_or("(absent)".into(), |v| v.to_string()),
                        right: y.get(k).map_or("(absent)".into(), |v| v.to_string()),
                        scaled: None,
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                walk(u, v, format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (Some(u), Some(v)) = (x.as_f64(), y.as_f64()) else {
                return structural(out, &path);
            };
            if u.to_bits() == v.to_bits() {
                return;
            }
            out.inexact += 1;
            let scaled = (u - v).abs() / 1f64.max(u.abs()).max(v.abs());
            let d = Difference {
                path,
                left: u.to_string(),
                right: v.to_string(),
                scaled: Some(scaled),
            };
            if out
                .largest
                .as_ref()
                .is_none_or(|l| l.scaled.unwrap_or(0.0) < scaled)
            {
                out.largest = Some(d.clone());
            }
            // NaN scaled gaps (an infinite value on one side) count as beyond.
            if scaled.is_nan() || scaled > THREAD_TOLERANCE {
                out.beyond.push(d);
            }
        }
        _ if a == b => {}
        _ => structural(out, &path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn last_bits_agree_and_real_changes_do_not() {
        let a = json!({"cells": [{"isc": 0.974941, "fit_seconds": 1.0, "n": 3}]});
        let b = json!({"cells": [{"isc": 0.974941 + 3e-13, "fit_seconds": 9.0, "n": 3}]});
        let r = agree(&a, &b);
        assert!(r.holds(), "{}", r.summary());
        assert_eq!(r.inexact, 1);
        assert_eq!(
            r.largest.as_ref().map(|d| d.path.as_str()),
            Some("/cells[0]/isc")
        );
        assert!(r.summary().contains("1 numbers differ"), "{}", r.summary());
        let c = json!({"cells": [{"isc": 0.976235, "fit_seconds": 1.0, "n": 3}]});
        let r = agree(&a, &c);
        assert!(!r.holds());
        assert!(r.summary().contains("/cells[0]/isc"), "{}", r.summary());
        // Large values are compared relatively, structure and strings exactly.
        assert!(agree(&json!(1e6), &json!(1e6 * (1.0 + 5e-11))).holds());
        assert!(!agree(&json!(1e6), &json!(1e6 * (1.0 + 5e-9))).holds());
        assert!(!agree(&json!({"a": 1}), &json!({"b": 1})).holds());
        assert!(!agree(&json!(["x"]), &json!(["y"])).holds());
        assert!(!agree(&json!([1, 2]), &json!([1])).holds());
        assert!(agree(&json!(null), &json!(null)).holds());
    }
}
