//! The one standard-normal sampler: random rotations (`align::init::random_init`), the
//! synthetic benchmark data (`cli::bench`, `cli::bench_study`) and the test fixtures draw from it.
//!
//! BrainIAK's initialisation (`align::init::brainiak_init`) does not: it must reproduce numpy's
//! `RandomState` stream bit for bit (`tests/srm_fixtures.rs`), so it keeps its own MT19937
//! uniform draws.

use rand::Rng;

/// One standard normal draw (Box–Muller, cosine branch): two uniforms per draw, so a seeded
/// stream gives the same sequence on every platform.
pub fn gaussian(rng: &mut impl Rng) -> f64 {
    // `random::<f64>()` is in [0, 1); clamp 0 so the log stays finite.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn moments_are_standard() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| gaussian(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }
}
