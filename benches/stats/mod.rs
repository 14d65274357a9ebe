//! The one definition of a percentile behind every figure in docs/benchmarks.md (the Python
//! side, bench/stats.py, is the same definition): linear interpolation between the closest
//! ranks, Hyndman & Fan's type 7 (the default of R and NumPy; Python's
//! `statistics.quantiles(method="inclusive")`). For sorted `x[0..n]`, the p-th percentile sits
//! at rank `h = (n - 1) * p / 100`: `x[⌊h⌋] + (h - ⌊h⌋) * (x[⌊h⌋ + 1] - x[⌊h⌋])`. The median is
//! the 50th percentile: the middle value, or the mean of the two middle values.
//! Shared by `benches/live.rs` and tested by `tests/bench_stats.rs` (which includes this file).
#![allow(dead_code)]

/// The p-th percentile (0..=100) of `sorted` (ascending); None when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * (p.clamp(0.0, 100.0) / 100.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Count, spread and centre of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// None for an empty sample.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let q = |p| percentile(&v, p);
    Some(Summary {
        n: v.len(),
        min: *v.first()?,
        p25: q(25.0)?,
        median: q(50.0)?,
        p75: q(75.0)?,
        p95: q(95.0)?,
        p99: q(99.0)?,
        max: *v.last()?,
        mean: v.iter().sum::<f64>() / v.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn median_is_the_true_median() {
        // the switchover case of issue 9: four samples, the median is between the middle two
        let s = super::summarize(&[18.3, 1.2, 5.34, 0.9]).unwrap();
        assert!(close(s.median, (1.2 + 5.34) / 2.0), "{s:?}");
        assert!(close(
            super::summarize(&[3.0, 1.0, 2.0]).unwrap().median,
            2.0
        ));
        assert!(close(super::summarize(&[7.0]).unwrap().median, 7.0));
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        // 1..=10: R's quantile(1:10, c(.25, .75, .95, .99)) = 3.25 7.75 9.55 9.91
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = super::summarize(&v).unwrap();
        assert!(close(s.p25, 3.25), "{s:?}");
        assert!(close(s.median, 5.5), "{s:?}");
        assert!(close(s.p75, 7.75), "{s:?}");
        assert!(close(s.p95, 9.55), "{s:?}");
        assert!(close(s.p99, 9.91), "{s:?}");
        assert_eq!((s.n, s.min, s.max), (10, 1.0, 10.0));
        assert!(close(s.mean, 5.5));
        // numpy.super::percentile([15, 20, 35, 40, 50], 40) = 29.0
        assert!(close(
            super::percentile(&[15.0, 20.0, 35.0, 40.0, 50.0], 40.0).unwrap(),
            29.0
        ));
    }

    #[test]
    fn empty_and_unsorted_input() {
        assert_eq!(super::summarize(&[]), None);
        assert_eq!(super::percentile(&[], 50.0), None);
        let s = super::summarize(&[5.0, f64::NAN, 1.0]).unwrap();
        assert_eq!((s.n, s.min, s.max), (2, 1.0, 5.0));
    }
}
