//! A small seedable generator (SplitMix64). Written out here rather than taken
//! from a crate so that the output for a (size, seed) pair can never change
//! with a dependency's version.

/// SplitMix64's finaliser: a bijection on `u64`.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for one purpose (`stream`) of one seed.
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        Rng(mix64(
            seed ^ mix64(stream.wrapping_add(0x5DEE_CE66_D1CE_4E5B)),
        ))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// An index drawn with the given weights (not all zero).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut r = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// A Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// A sampler of ranks `0..n` with Zipf-like weights `1 / (rank + 1)^s`.
#[derive(Debug, Clone)]
pub(crate) struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub(crate) fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                acc += 1.0 / ((r + 1) as f64).powf(s);
                acc
            })
            .collect();
        Zipf { cumulative }
    }

    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let u = rng.unit() * total;
        self.cumulative
            .partition_point(|c| *c <= u)
            .min(self.cumulative.len() - 1)
    }
}

/// Splits `total` into parts proportional to `weights`, each at least `min` and at most `cap`
/// (largest remainders get the leftovers). Requires `min * n <= total <= cap * n`.
pub(crate) fn apportion(total: usize, weights: &[f64], min: usize, cap: usize) -> Vec<usize> {
    let n = weights.len();
    assert!(n > 0 && min * n <= total && total <= cap.saturating_mul(n));
    let mut out = vec![min; n];
    let mut open: Vec<bool> = vec![true; n];
    let mut left = total - min * n;
    while left > 0 {
        let w: f64 = (0..n).filter(|i| open[*i]).map(|i| weights[i]).sum();
        let mut shares: Vec<(usize, f64)> = (0..n)
            .filter(|i| open[*i])
            .map(|i| (i, left as f64 * weights[i] / w))
            .collect();
        let mut given = 0;
        for (i, share) in &shares {
            let add = (share.floor() as usize).min(cap - out[*i]);
            out[*i] += add;
            given += add;
        }
        left -= given;
        // Largest remainders first, one each.
        shares.sort_by(|a, b| {
            (b.1 - b.1.floor())
                .total_cmp(&(a.1 - a.1.floor()))
                .then(a.0.cmp(&b.0))
        });
        for (i, _) in &shares {
            if left == 0 {
                break;
            }
            if out[*i] < cap {
                out[*i] += 1;
                left -= 1;
            }
        }
        for i in 0..n {
            if out[i] >= cap {
                open[i] = false;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_and_respects_bounds() {
        let w = [10.0, 1.0, 1.0, 0.5];
        let parts = apportion(100, &w, 5, 40);
        assert_eq!(parts.iter().sum::<usize>(), 100);
        assert!(parts.iter().all(|p| (5..=40).contains(p)));
        assert_eq!(parts[0], 40);
    }

    #[test]
    fn zipf_is_skewed() {
        let z = Zipf::new(50, 1.1);
        let mut rng = Rng::new(1, 2);
        let mut hits = [0usize; 50];
        for _ in 0..10_000 {
            hits[z.sample(&mut rng)] += 1;
        }
        assert!(hits[0] > hits[10] * 5);
    }
}
