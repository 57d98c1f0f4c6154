import type { ConfusionMatrix } from './types';

/** Per-class scores. Undefined ratios (0/0) are 0, as scikit-learn's default `zero_division`. */
export interface ClassScores {
  precision: number;
  /** Recall = sensitivity = TP / (TP + FN). */
  recall: number;
  /** TN / (TN + FP). */
  specificity: number;
  f1: number;
  /** Number of true instances of the class. */
  support: number;
}

/** Averages of the per-class scores (support omitted). */
export type AveragedScores = Omit<ClassScores, 'support'>;

/** Everything that follows from true and predicted labels. */
export interface ClassificationMetrics {
  n: number;
  accuracy: number;
  perClass: ClassScores[];
  /** Unweighted mean over all classes (classes absent from both truth and prediction count as 0). */
  macro: AveragedScores;
  /** Mean weighted by support. */
  weighted: AveragedScores;
  confusion: ConfusionMatrix;
  /** Each row divided by its total; rows with no true instances are all 0. */
  confusionNormalised: ConfusionMatrix;
}

function checkLabels(labels: readonly number[], nClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= nClasses) {
      throw new RangeError(`${what}[${i}] = ${l} is not a class index in 0..${nClasses - 1}`);
    }
  }
}

/** Counts `m[true][pred]` over `nClasses` classes. */
export function confusionMatrix(yTrue: readonly number[], yPred: readonly number[], nClasses: number): ConfusionMatrix {
  if (yTrue.length !== yPred.length) throw new RangeError(`${yTrue.length} true labels but ${yPred.length} predictions`);
  checkLabels(yTrue, nClasses, 'yTrue');
  checkLabels(yPred, nClasses, 'yPred');
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/** Rows divided by their sums (recall on the diagonal); empty rows stay 0, as sklearn's `normalize='true'`. */
export function normaliseRows(m: ConfusionMatrix): ConfusionMatrix {
  return m.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total > 0 ? v / total : 0));
  });
}

const ratio = (num: number, den: number): number => (den > 0 ? num / den : 0);

/** Per-class scores read off a confusion matrix. */
export function classScores(m: ConfusionMatrix): ClassScores[] {
  const k = m.length;
  let n = 0;
  for (const row of m) for (const v of row) n += v;
  return m.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += m[r][c];
    const fn = support - tp;
    const fp = predicted - tp;
    const tn = n - tp - fn - fp;
    return {
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, tp + fn),
      specificity: ratio(tn, tn + fp),
      // sklearn's form: defined whenever the class occurs in truth or prediction
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      support,
    };
  });
}

const KEYS = ['precision', 'recall', 'specificity', 'f1'] as const;

function average(scores: readonly ClassScores[], weights: readonly number[]): AveragedScores {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = { precision: 0, recall: 0, specificity: 0, f1: 0 };
  if (total <= 0) return out;
  for (const key of KEYS) {
    let s = 0;
    for (let c = 0; c < scores.length; c++) s += scores[c][key] * weights[c];
    out[key] = s / total;
  }
  return out;
}

/** Accuracy, per-class and averaged scores, and confusion matrices for labels in `0..nClasses-1`. */
export function classificationMetrics(
  yTrue: readonly number[],
  yPred: readonly number[],
  nClasses: number,
): ClassificationMetrics {
  const confusion = confusionMatrix(yTrue, yPred, nClasses);
  const perClass = classScores(confusion);
  let correct = 0;
  for (let c = 0; c < nClasses; c++) correct += confusion[c][c];
  const n = yTrue.length;
  return {
    n,
    accuracy: ratio(correct, n),
    perClass,
    macro: average(perClass, perClass.map(() => 1)),
    weighted: average(perClass, perClass.map((s) => s.support)),
    confusion,
    confusionNormalised: normaliseRows(confusion),
  };
}

/** Fraction of equal labels (0 for no labels). */
export function accuracy(yTrue: readonly number[], yPred: readonly number[]): number {
  if (yTrue.length !== yPred.length) throw new RangeError(`${yTrue.length} true labels but ${yPred.length} predictions`);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return ratio(correct, yTrue.length);
}
