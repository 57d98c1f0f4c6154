/**
 * A clinical operating point: the decision threshold for one class (COVID) is fixed on the validation split for a
 * target sensitivity, then sensitivity and specificity are measured on test, where the threshold was never tuned,
 * with patient-bootstrap CIs; and what a positive or negative call would mean at other prevalences (PPV, NPV).
 */
import { CxrError } from '../errors';
import { bootstrapCis, type BootstrapOptions } from './bootstrap';
import { rocCurve } from './curves';
import type { Estimate, Prediction } from './types';

/** Prevalences at which PPV and NPV are reported unless others are asked for (screening to outbreak clinic). */
export const DEFAULT_PREVALENCES: readonly number[] = [0.01, 0.05, 0.2];

/** Options of {@link operatingPoint}. */
export interface OperatingPointOptions {
  /** Validation sensitivity the threshold must reach (default 0.95). */
  targetSensitivity?: number;
  /** Class index whose probability is thresholded (default 0, COVID in both tasks). */
  positiveClass?: number;
  prevalences?: readonly number[];
  /** Patient-bootstrap settings (default 2,000 resamples, seed 0), or false for point estimates only. */
  bootstrap?: BootstrapOptions | false;
}

/** A threshold and the sensitivity and specificity it gives where it was chosen. */
export interface ChosenThreshold {
  /** Scores ≥ threshold are called positive. */
  threshold: number;
  sensitivity: number;
  specificity: number;
}

/** PPV and NPV at one prevalence, from the test sensitivity and specificity by Bayes' rule. */
export interface PredictiveValues {
  prevalence: number;
  ppv: Estimate;
  npv: Estimate;
}

/** The operating point chosen on validation and measured on test. */
export interface OperatingPoint {
  positiveClass: number;
  targetSensitivity: number;
  threshold: number;
  val: ChosenThreshold & { n: number };
  test: { n: number; patients: number; tp: number; fn: number; tn: number; fp: number; sensitivity: Estimate; specificity: Estimate };
  predictiveValues: PredictiveValues[];
}

/**
 * The highest threshold whose sensitivity reaches `target` (so the most specific such threshold), among the
 * distinct scores, as read off sklearn's `roc_curve(drop_intermediate=False)`.
 * @param positive whether each image is of the positive class
 * @param scores the positive class's score of each image
 * @param target sensitivity to reach, in (0, 1]
 * @throws RangeError when `target` is outside (0, 1] or there are no positives
 * @example thresholdForSensitivity([true, true, false], [0.9, 0.6, 0.7], 1).threshold // 0.6
 */
export function thresholdForSensitivity(positive: readonly boolean[], scores: readonly number[], target: number): ChosenThreshold {
  if (!(target > 0 && target <= 1)) throw new RangeError(`target sensitivity must be in (0, 1], got ${target}`);
  if (!positive.some(Boolean)) throw new RangeError('no positive images to choose a threshold for');
  const roc = rocCurve(positive, scores, { dropIntermediate: false });
  // The tolerance keeps e.g. 19/20 from missing 0.95 by one rounding step.
  const i = roc.tpr.findIndex((t) => t >= target - 1e-12);
  const specificity = 1 - roc.fpr[i];
  return { threshold: roc.thresholds[i], sensitivity: roc.tpr[i], specificity: Number.isNaN(specificity) ? NaN : specificity };
}

/**
 * PPV and NPV of a test with the given sensitivity and specificity at prevalence `q` (Bayes' rule); NaN where
 * a ratio is 0/0 (e.g. no positive calls at all).
 * @example predictiveValuesAt(0.9, 0.8, 0.05).ppv // ≈ 0.191
 */
export function predictiveValuesAt(sensitivity: number, specificity: number, q: number): { ppv: number; npv: number } {
  const truePos = sensitivity * q;
  const falsePos = (1 - specificity) * (1 - q);
  const trueNeg = specificity * (1 - q);
  const falseNeg = (1 - sensitivity) * q;
  return { ppv: truePos / (truePos + falsePos), npv: trueNeg / (trueNeg + falseNeg) };
}

function counts(preds: readonly Prediction[], cls: number, threshold: number) {
  let tp = 0, fn = 0, tn = 0, fp = 0;
  for (const p of preds) {
    const called = p.probs[cls] >= threshold;
    if (p.label === cls) {
      if (called) tp++;
      else fn++;
    } else if (called) fp++;
    else tn++;
  }
  return { tp, fn, tn, fp, sensitivity: tp / (tp + fn), specificity: tn / (tn + fp) };
}

/**
 * Chooses the threshold of `positiveClass` on `val` for the target sensitivity and measures it on `test`.
 * @param val validation predictions (where the threshold is chosen)
 * @param test test predictions (where it is measured)
 * @throws CxrError when the validation predictions have no image of the positive class
 * @example operatingPoint(run.val, run.test, { targetSensitivity: 0.95 }).test.specificity
 */
export function operatingPoint(val: readonly Prediction[], test: readonly Prediction[], opts: OperatingPointOptions = {}): OperatingPoint {
  const cls = opts.positiveClass ?? 0;
  const target = opts.targetSensitivity ?? 0.95;
  const prevalences = opts.prevalences ?? DEFAULT_PREVALENCES;
  for (const q of prevalences) if (!(q > 0 && q < 1)) throw new RangeError(`prevalence must be in (0, 1), got ${q}`);
  const valPositive = val.map((p) => p.label === cls);
  if (!valPositive.some(Boolean)) throw new CxrError(`no validation image of class ${cls}: no threshold can be chosen for a target sensitivity`);
  if (test.length === 0) throw new CxrError('no test predictions to measure the operating point on');
  const chosen = thresholdForSensitivity(valPositive, val.map((p) => p.probs[cls]), target);
  const at = (s: readonly Prediction[]) => counts(s, cls, chosen.threshold);

  // Every metric of one resample shares its counts.
  let cached = { resample: NaN, c: at(test) };
  const of = (s: readonly Prediction[], b: number) => {
    if (cached.resample !== b) cached = { resample: b, c: at(s) };
    return cached.c;
  };
  const metrics: Record<string, (s: readonly Prediction[], b: number) => number> = {
    sensitivity: (s, b) => of(s, b).sensitivity,
    specificity: (s, b) => of(s, b).specificity,
  };
  prevalences.forEach((q, k) => {
    metrics[`ppv${k}`] = (s, b) => predictiveValuesAt(of(s, b).sensitivity, of(s, b).specificity, q).ppv;
    metrics[`npv${k}`] = (s, b) => predictiveValuesAt(of(s, b).sensitivity, of(s, b).specificity, q).npv;
  });
  const full = at(test);
  let estimate: (key: string) => Estimate;
  if (opts.bootstrap === false) {
    estimate = (key) => ({ point: metrics[key](test, -1) });
  } else {
    const cis = bootstrapCis(test, (p) => p.patientId, metrics, opts.bootstrap ?? {});
    estimate = (key) => ({ point: cis[key].point, ci: [cis[key].lo, cis[key].hi] });
  }
  return {
    positiveClass: cls,
    targetSensitivity: target,
    threshold: chosen.threshold,
    val: { ...chosen, n: val.length },
    test: {
      n: test.length,
      patients: new Set(test.map((p) => p.patientId)).size,
      tp: full.tp, fn: full.fn, tn: full.tn, fp: full.fp,
      sensitivity: estimate('sensitivity'),
      specificity: estimate('specificity'),
    },
    predictiveValues: prevalences.map((prevalence, k) => ({ prevalence, ppv: estimate(`ppv${k}`), npv: estimate(`npv${k}`) })),
  };
}
