/**
 * ROC and precision–recall curves with scikit-learn's exact definitions (tied scores form one threshold),
 * so the numbers match `roc_curve`, `roc_auc_score`, `precision_recall_curve` and `average_precision_score`.
 */

/** Counts at each distinct score threshold, highest first (sklearn's `confusion_matrix_at_thresholds`). */
interface ThresholdCounts {
  fps: number[];
  tps: number[];
  thresholds: number[];
}

/** A ROC curve. `thresholds[0]` is `Infinity` (the (0, 0) corner); fpr/tpr are NaN when a class is missing. */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

/** A precision–recall curve, recall decreasing, ending at (recall 0, precision 1) which has no threshold. */
export interface PrCurve {
  precision: number[];
  recall: number[];
  thresholds: number[];
}

/** One-vs-rest scores for each class, and their macro and prevalence-weighted means. */
export interface OvrScores {
  perClass: number[];
  /** NaN when any class's score is undefined (class absent or the only one present). */
  macro: number;
  /** Weighted by class prevalence; absent classes weigh nothing. */
  weighted: number;
}

function checkInputs(positive: readonly boolean[], scores: readonly number[]): void {
  if (positive.length !== scores.length) throw new RangeError(`${positive.length} labels but ${scores.length} scores`);
  if (scores.length === 0) throw new RangeError('no scores');
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`score[${i}] = ${scores[i]} is not finite`);
  }
}

function thresholdCounts(positive: readonly boolean[], scores: readonly number[]): ThresholdCounts {
  checkInputs(positive, scores);
  // Native numeric sorts (no comparator) of all scores and of the positives' scores: the bootstrap calls this
  // thousands of times. Walking both from the top gives the counts at each distinct score.
  const all = Float64Array.from(scores).sort();
  const pos = Float64Array.from(scores.filter((_, i) => positive[i])).sort();
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let p = pos.length;
  for (let j = all.length - 1; j >= 0; j--) {
    const v = all[j];
    if (j > 0 && all[j - 1] === v) continue; // not yet the lowest of this tie group
    while (p > 0 && pos[p - 1] >= v) p--;
    const above = all.length - j;
    const tp = pos.length - p;
    tps.push(tp);
    fps.push(above - tp);
    thresholds.push(v);
  }
  return { fps, tps, thresholds };
}

/**
 * ROC curve of `scores` for the positive class. With `dropIntermediate` (default, as sklearn) points collinear
 * with their neighbours are dropped; they do not change the curve or its area.
 */
export function rocCurve(
  positive: readonly boolean[],
  scores: readonly number[],
  options: { dropIntermediate?: boolean } = {},
): RocCurve {
  let { fps, tps, thresholds } = thresholdCounts(positive, scores);
  if ((options.dropIntermediate ?? true) && fps.length > 2) {
    const keep = fps.map(
      (_, i) =>
        i === 0 ||
        i === fps.length - 1 ||
        fps[i + 1] - 2 * fps[i] + fps[i - 1] !== 0 ||
        tps[i + 1] - 2 * tps[i] + tps[i - 1] !== 0,
    );
    fps = fps.filter((_, i) => keep[i]);
    tps = tps.filter((_, i) => keep[i]);
    thresholds = thresholds.filter((_, i) => keep[i]);
  }
  fps = [0, ...fps];
  tps = [0, ...tps];
  const nNeg = fps[fps.length - 1];
  const nPos = tps[tps.length - 1];
  return {
    fpr: fps.map((v) => (nNeg > 0 ? v / nNeg : NaN)),
    tpr: tps.map((v) => (nPos > 0 ? v / nPos : NaN)),
    thresholds: [Infinity, ...thresholds],
  };
}

/** Area under a curve by the trapezoidal rule; `x` must be monotonic (either direction, as sklearn's `auc`). */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`${x.length} x values but ${y.length} y values`);
  let area = 0;
  let rising = true;
  let falling = true;
  for (let i = 1; i < x.length; i++) {
    const dx = x[i] - x[i - 1];
    if (dx < 0) rising = false;
    if (dx > 0) falling = false;
    area += (dx * (y[i] + y[i - 1])) / 2;
  }
  if (!rising && !falling) throw new RangeError('x is neither increasing nor decreasing');
  return rising ? area : -area;
}

/** Area under the ROC curve; NaN when only one class is present (sklearn returns NaN with a warning). */
export function rocAuc(positive: readonly boolean[], scores: readonly number[]): number {
  const nPos = positive.filter(Boolean).length;
  if (nPos === 0 || nPos === positive.length) {
    checkInputs(positive, scores);
    return NaN;
  }
  const { fpr, tpr } = rocCurve(positive, scores);
  return trapezoidArea(fpr, tpr);
}

/** Precision–recall curve (all thresholds, as sklearn's default `drop_intermediate=False`). */
export function precisionRecallCurve(positive: readonly boolean[], scores: readonly number[]): PrCurve {
  const { fps, tps, thresholds } = thresholdCounts(positive, scores);
  const nPos = tps[tps.length - 1];
  const precision = tps.map((tp, i) => (tp + fps[i] !== 0 ? tp / (tp + fps[i]) : 0));
  // sklearn: with no positives recall is 1 at every threshold
  const recall = tps.map((tp) => (nPos === 0 ? 1 : tp / nPos));
  return {
    precision: [...precision.reverse(), 1],
    recall: [...recall.reverse(), 0],
    thresholds: [...thresholds].reverse(),
  };
}

/** Average precision: the step-function integral Σ (R_n − R_{n−1}) P_n, without interpolation. */
export function averagePrecision(positive: readonly boolean[], scores: readonly number[]): number {
  const { precision, recall } = precisionRecallCurve(positive, scores);
  let s = 0;
  for (let i = 0; i + 1 < recall.length; i++) s += (recall[i + 1] - recall[i]) * precision[i];
  return Math.max(0, -s);
}

/** The one-vs-rest problem for `cls`: is each label that class, and its probability column. */
export function oneVsRest(
  labels: readonly number[],
  probs: readonly (readonly number[])[],
  cls: number,
): { positive: boolean[]; scores: number[] } {
  if (labels.length !== probs.length) throw new RangeError(`${labels.length} labels but ${probs.length} probability rows`);
  return { positive: labels.map((l) => l === cls), scores: probs.map((p) => p[cls]) };
}

function ovr(
  labels: readonly number[],
  probs: readonly (readonly number[])[],
  nClasses: number,
  score: (positive: readonly boolean[], scores: readonly number[]) => number,
): OvrScores {
  const perClass: number[] = [];
  const prevalence: number[] = [];
  for (let c = 0; c < nClasses; c++) {
    const { positive, scores } = oneVsRest(labels, probs, c);
    perClass.push(score(positive, scores));
    prevalence.push(positive.filter(Boolean).length);
  }
  const total = prevalence.reduce((a, b) => a + b, 0);
  return {
    perClass,
    macro: perClass.reduce((a, b) => a + b, 0) / nClasses,
    // A class with no instances weighs 0 even when its score is NaN (as sklearn).
    weighted: perClass.reduce((a, v, c) => (prevalence[c] > 0 ? a + v * prevalence[c] : a), 0) / total,
  };
}

/** One-vs-rest ROC AUC per class; macro is sklearn's `roc_auc_score(multi_class='ovr', average='macro')`. */
export function rocAucOvr(labels: readonly number[], probs: readonly (readonly number[])[], nClasses: number): OvrScores {
  return ovr(labels, probs, nClasses, rocAuc);
}

/** One-vs-rest average precision per class; macro as sklearn's `average_precision_score(average='macro')`. */
export function averagePrecisionOvr(
  labels: readonly number[],
  probs: readonly (readonly number[])[],
  nClasses: number,
): OvrScores {
  return ovr(labels, probs, nClasses, averagePrecision);
}

/**
 * The single AUC to report for a task: for two classes the ROC AUC of class 1's probability,
 * otherwise the macro one-vs-rest AUC.
 */
export function taskAuc(labels: readonly number[], probs: readonly (readonly number[])[], nClasses: number): number {
  if (nClasses === 2) {
    const { positive, scores } = oneVsRest(labels, probs, 1);
    return rocAuc(positive, scores);
  }
  return rocAucOvr(labels, probs, nClasses).macro;
}
