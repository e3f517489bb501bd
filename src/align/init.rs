//! Initial orthonormal W_i: BrainIAK's exact scheme, or a fast seeded Gaussian.

use crate::linalg::{gaussian, map_networks, thin_q};
use ndarray::Array2;
use rand::SeedableRng;
use rand_mt::Mt;

/// numpy `RandomState.random_sample`: a 53-bit double from two 32-bit MT19937 outputs.
fn random_sample(mt: &mut Mt) -> f64 {
    let a = (mt.next_u32() >> 5) as f64;
    let b = (mt.next_u32() >> 6) as f64;
    (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
}

/// BrainIAK's initial W_i: a master `RandomState(seed)` draws one 32-bit seed per network, each
/// network's own stream fills a units_i × k U[0,1) matrix row by row, and W_i is its Q factor.
pub fn brainiak_init(units: &[usize], k: usize, seed: u32) -> Vec<Array2<f64>> {
    let mut master = Mt::new(seed);
    let seeds: Vec<u32> = units.iter().map(|_| master.next_u32()).collect();
    // Each network has its own stream, so the QRs run in parallel.
    map_networks(units.len(), |i| {
        let mut mt = Mt::new(seeds[i]);
        let mut m = Array2::<f64>::zeros((units[i], k));
        for x in m.iter_mut() {
            *x = random_sample(&mut mt);
        }
        thin_q(m.view())
    })
}

/// A Haar-random orthonormal W_i per network from a seeded Gaussian matrix (one stream per
/// network, like BrainIAK, so results do not depend on network order).
pub fn random_init(units: &[usize], k: usize, seed: u64) -> Vec<Array2<f64>> {
    map_networks(units.len(), |i| {
        let mut rng =
            rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64);
        let m = Array2::from_shape_simple_fn((units[i], k), || gaussian(&mut rng));
        thin_q(m.view())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_stream_matches_numpy_seeds() {
        // numpy: RandomState(0).randint(2**32, dtype=int64) x3 (srm.md §3).
        let mut mt = Mt::new(0);
        let got: Vec<u32> = (0..3).map(|_| mt.next_u32()).collect();
        assert_eq!(got, vec![2_357_136_044, 2_546_248_239, 3_071_714_933]);
    }

    #[test]
    fn random_init_is_orthonormal_and_seeded() {
        let a = random_init(&[20, 30], 5, 3);
        let b = random_init(&[20, 30], 5, 3);
        assert_eq!(a, b);
        for w in &a {
            let e = &w.t().dot(w) - &Array2::<f64>::eye(5);
            assert!(e.iter().all(|x| x.abs() < 1e-12));
        }
    }
}
