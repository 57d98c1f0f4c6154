/**
 * DeLong's test for two correlated ROC AUCs (two models scored on the same images), with the fast midrank
 * algorithm of Sun & Xu (2014, IEEE Signal Processing Letters 21:1389): O(N log N) per model instead of the
 * O(m·n) pairwise comparisons of DeLong, DeLong & Clarke-Pearson (1988), with identical results (ties count ½).
 */
import { twoSidedNormalP } from './distributions';

/** AUCs of several models on the same images and the DeLong covariance matrix of those AUCs. */
export interface DelongCovariance {
  aucs: number[];
  /** `covariance[r][s]` = Cov(AUC_r, AUC_s) = S10[r][s]/m + S01[r][s]/n; NaN with fewer than 2 positives or negatives. */
  covariance: number[][];
  positives: number;
  negatives: number;
}

/** The paired test of two AUCs. */
export interface DelongTest {
  auc: [number, number];
  /** Variances of the two AUCs. */
  variance: [number, number];
  covariance: number;
  /**
   * (AUC_A − AUC_B) / √Var(AUC_A − AUC_B). When that variance is 0 (e.g. both models separate the classes
   * perfectly) z is 0 for equal AUCs and ±Infinity otherwise.
   */
  z: number;
  /** Two-sided p value of z under the standard normal. */
  p: number;
}

/**
 * Midranks (1-based ranks, ties get the mean of the ranks they span), as `scipy.stats.rankdata`.
 * @example midranks([0.3, 0.1, 0.3]) // Float64Array [2.5, 1, 2.5]
 */
export function midranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    const mid = (i + j - 1) / 2 + 1;
    for (let k = i; k < j; k++) ranks[order[k]] = mid;
    i = j;
  }
  return ranks;
}

function checkScores(positive: readonly boolean[], scores: readonly (readonly number[])[]): void {
  if (scores.length === 0) throw new RangeError('DeLong needs the scores of at least one model');
  scores.forEach((s, r) => {
    if (s.length !== positive.length) throw new RangeError(`model ${r}: ${s.length} scores for ${positive.length} labels`);
    s.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new RangeError(`model ${r}: score[${i}] = ${v} is not finite`);
    });
  });
}

/** Sample covariance matrix (divisor count − 1) of rows `v[r]` (one row per model). */
function covarianceMatrix(v: readonly Float64Array[]): number[][] {
  const count = v[0].length;
  const means = v.map((row) => row.reduce((a, b) => a + b, 0) / count);
  return v.map((ri, r) =>
    v.map((rj, s) => {
      let acc = 0;
      for (let i = 0; i < count; i++) acc += (ri[i] - means[r]) * (rj[i] - means[s]);
      return count > 1 ? acc / (count - 1) : NaN;
    }),
  );
}

/**
 * AUCs and their DeLong covariance for several models scored on the same images (Sun & Xu's algorithm).
 * The structural components come from three midrankings per model: of the positives' scores, of the negatives',
 * and of all together; a positive's placement V10 is the share of negatives scored below it (ties ½), a negative's
 * V01 the share of positives scored above it.
 * @param positive whether each image belongs to the positive class
 * @param scores one array per model, the score of each image (higher = more likely positive)
 * @throws RangeError when lengths differ or a score is not finite
 * @example delongCovariance([true, false, true, false], [[0.9, 0.2, 0.6, 0.4]]).aucs // [1]
 */
export function delongCovariance(positive: readonly boolean[], scores: readonly (readonly number[])[]): DelongCovariance {
  checkScores(positive, scores);
  const posIdx: number[] = [];
  const negIdx: number[] = [];
  positive.forEach((p, i) => (p ? posIdx : negIdx).push(i));
  const m = posIdx.length;
  const n = negIdx.length;
  if (m === 0 || n === 0) {
    return { aucs: scores.map(() => NaN), covariance: scores.map(() => scores.map(() => NaN)), positives: m, negatives: n };
  }
  const v10: Float64Array[] = [];
  const v01: Float64Array[] = [];
  const aucs = scores.map((s) => {
    const x = posIdx.map((i) => s[i]);
    const y = negIdx.map((i) => s[i]);
    const tx = midranks(x);
    const ty = midranks(y);
    const tz = midranks([...x, ...y]);
    const place10 = new Float64Array(m);
    const place01 = new Float64Array(n);
    let rankSum = 0;
    for (let i = 0; i < m; i++) {
      rankSum += tz[i];
      place10[i] = (tz[i] - tx[i]) / n;
    }
    for (let j = 0; j < n; j++) place01[j] = 1 - (tz[m + j] - ty[j]) / m;
    v10.push(place10);
    v01.push(place01);
    return rankSum / (m * n) - (m + 1) / (2 * n);
  });
  const s10 = covarianceMatrix(v10);
  const s01 = covarianceMatrix(v01);
  const covariance = s10.map((row, r) => row.map((v, s) => v / m + s01[r][s] / n));
  return { aucs, covariance, positives: m, negatives: n };
}

/**
 * Paired DeLong test of H0: AUC_A = AUC_B, both models scored on the same images.
 * @param positive whether each image belongs to the positive class
 * @param scoresA model A's score of each image
 * @param scoresB model B's score of each image
 * @returns both AUCs, their (co)variances, z and the two-sided p value (NaN when a class is missing or has one image)
 * @throws RangeError when lengths differ or a score is not finite
 * @example delongTest([true, true, false, false], [0.9, 0.4, 0.5, 0.1], [0.6, 0.7, 0.2, 0.7]).p // ≈ 0.864
 */
export function delongTest(positive: readonly boolean[], scoresA: readonly number[], scoresB: readonly number[]): DelongTest {
  const { aucs, covariance: c } = delongCovariance(positive, [scoresA, scoresB]);
  const diff = aucs[0] - aucs[1];
  const variance = c[0][0] + c[1][1] - 2 * c[0][1];
  let z: number;
  if (!Number.isFinite(variance)) z = NaN;
  else if (variance <= 0) z = diff === 0 ? 0 : Math.sign(diff) * Infinity;
  else z = diff / Math.sqrt(variance);
  return { auc: [aucs[0], aucs[1]], variance: [c[0][0], c[1][1]], covariance: c[0][1], z, p: twoSidedNormalP(z) };
}
