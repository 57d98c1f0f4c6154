/**
 * Tail probabilities of the two distributions the paired tests need: the standard normal (DeLong's z) and the
 * Binomial(n, ½) (exact McNemar). Plain numbers, no dependencies.
 */

/**
 * Complementary error function, fractional error below 1.2e-7 everywhere (the Chebyshev-fitted form of
 * Numerical Recipes' `erfcc`): enough for p values, including those of order 1e-10.
 * @param x any real number
 * @example erfc(0) // 1
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/**
 * Two-sided p value of a standard normal statistic, P(|Z| ≥ |z|); NaN stays NaN.
 * @example twoSidedNormalP(1.959964) // ≈ 0.05
 */
export function twoSidedNormalP(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/**
 * Exact two-sided p value of `k` successes in `n` trials under Binomial(n, ½): the probability of an outcome at
 * least as far from n/2, i.e. min(1, 2·P(X ≤ min(k, n−k))) — what `scipy.stats.binomtest(k, n, 0.5)` gives, since
 * the distribution is symmetric. Each term is built in log space, so n in the thousands works (the far-tail
 * terms that underflow to 0 are below any p value's precision).
 * @param k successes, an integer in 0..n
 * @param n trials, a non-negative integer (n = 0 gives 1)
 * @throws RangeError when k or n is not such an integer
 * @example binomialHalfTwoSidedP(5, 5) // 0.0625
 */
export function binomialHalfTwoSidedP(k: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0 || k > n) {
    throw new RangeError(`binomial test needs integers 0 ≤ k ≤ n, got k = ${k}, n = ${n}`);
  }
  const low = Math.min(k, n - k);
  if (2 * low === n) return 1;
  // log C(n, i) − n·ln 2, built up term by term: C(n, i) = C(n, i−1)·(n − i + 1)/i.
  let logTerm = -n * Math.LN2;
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= low; i++) {
    logTerm += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, 2 * sum);
}
