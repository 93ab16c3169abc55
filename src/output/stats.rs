//! Confidence intervals for ensemble statistics (statrs supplies the distributions).
//!
//! - a proportion (P(LTD), P(LTP)): the Wilson score interval, which keeps close to its nominal
//!   coverage for small n and for p near 0 or 1, where the Wald interval fails;
//! - a mean (% change, peaks): the Student t interval `mean ± t(1 − α/2, n − 1) · sd/√n`.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// The Wilson score interval for `successes` out of `n` at `confidence` (e.g. 0.95); NaNs when
/// `n = 0`.
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // At k = 0 (k = n) the bound is exactly 0 (1); rounding must not move it.
    let lo = if successes == 0 { 0.0 } else { centre - half };
    let hi = if k == n { 1.0 } else { centre + half };
    (lo, hi)
}

/// The Student t interval for the mean of a sample with this mean, sd and size; NaNs when
/// `n < 2`.
pub fn t_interval(mean: f64, sd: f64, n: u64, confidence: f64) -> (f64, f64) {
    if n < 2 {
        return (f64::NAN, f64::NAN);
    }
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .expect("n - 1 >= 1 degrees of freedom")
        .inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let half = t * sd / (n as f64).sqrt();
    (mean - half, mean + half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_values() {
        // Wilson 95 % for 5/10: (0.2366, 0.7634) (e.g. R's prop.test without correction).
        let (lo, hi) = wilson_interval(5, 10, 0.95);
        assert!(
            (lo - 0.236_593).abs() < 1e-5 && (hi - 0.763_407).abs() < 1e-5,
            "{lo} {hi}"
        );
        // 0 successes: the lower bound is 0 and the upper bound z²/(n + z²).
        let (lo, hi) = wilson_interval(0, 20, 0.95);
        let z2 = 1.959_964f64.powi(2);
        assert_eq!(lo, 0.0);
        assert!((hi - z2 / (20.0 + z2)).abs() < 1e-6);
        // t(0.975, 9) = 2.262157.
        let (lo, hi) = t_interval(10.0, 3.0, 10, 0.95);
        let half = 2.262_157 * 3.0 / 10f64.sqrt();
        assert!((lo - (10.0 - half)).abs() < 1e-5 && (hi - (10.0 + half)).abs() < 1e-5);
        assert!(t_interval(1.0, 0.0, 1, 0.95).0.is_nan());
    }
}
