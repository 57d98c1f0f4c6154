/**
 * Decision-curve analysis (Vickers & Elkin 2006): the net benefit of acting on a model's calls across the
 * threshold probabilities a clinician might choose, against acting on everyone or on no one.
 */

/** Net benefit of one model and of "treat all" at each threshold probability ("treat none" is 0 throughout). */
export interface DecisionCurve {
  thresholds: number[];
  netBenefit: number[];
  treatAll: number[];
  /** Share of positives in the data. */
  prevalence: number;
}

/** Threshold probabilities 0.01, 0.02, …, 0.99. */
export function defaultThresholds(): number[] {
  return Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
}

/**
 * Net benefit TP/N − FP/N · pt/(1 − pt) at each threshold probability pt, calling scores ≥ pt positive: a
 * false positive costs pt/(1 − pt) true positives, the exchange rate a threshold pt implies.
 * @param positive whether each image is of the positive class
 * @param scores predicted probability of the positive class, image by image
 * @param thresholds threshold probabilities in (0, 1) (default 0.01…0.99)
 * @throws RangeError on empty or mismatched input, or a threshold outside (0, 1)
 * @example decisionCurve([true, false], [0.8, 0.3], [0.5]).netBenefit // [0.5]
 */
export function decisionCurve(positive: readonly boolean[], scores: readonly number[], thresholds: readonly number[] = defaultThresholds()): DecisionCurve {
  if (positive.length !== scores.length) throw new RangeError(`${positive.length} labels but ${scores.length} scores`);
  if (positive.length === 0) throw new RangeError('decision curve of no images');
  for (const t of thresholds) if (!(t > 0 && t < 1)) throw new RangeError(`threshold probability must be in (0, 1), got ${t}`);
  const n = positive.length;
  const prevalence = positive.filter(Boolean).length / n;
  const odds = (t: number) => t / (1 - t);
  const netBenefit = thresholds.map((t) => {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (scores[i] >= t) {
        if (positive[i]) tp++;
        else fp++;
      }
    }
    return tp / n - (fp / n) * odds(t);
  });
  const treatAll = thresholds.map((t) => prevalence - (1 - prevalence) * odds(t));
  return { thresholds: [...thresholds], netBenefit, treatAll, prevalence };
}
