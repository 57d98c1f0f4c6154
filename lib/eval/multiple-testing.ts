/** Corrections of p values for testing several hypotheses at once. */

/**
 * Holm's step-down adjusted p values (as `statsmodels.stats.multitest.multipletests(method='holm')`): the i-th
 * smallest of m p values becomes max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎). Rejecting where the adjusted p is
 * below α controls the family-wise error rate at α. Undefined (NaN) p values are left out of the family and stay
 * NaN, so an absent class does not make the others look more significant.
 * @param pValues raw p values, in any order
 * @returns adjusted p values in the same order
 * @example holm([0.01, 0.04, 0.03]) // [0.03, 0.06, 0.06]
 */
export function holm(pValues: readonly number[]): number[] {
  const finite = pValues.map((p, i) => ({ p, i })).filter((x) => Number.isFinite(x.p));
  finite.sort((a, b) => a.p - b.p || a.i - b.i);
  const out = pValues.map(() => NaN);
  let running = 0;
  finite.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (finite.length - rank) * p));
    out[i] = running;
  });
  return out;
}
