/**
 * The headline evaluation of one model on one split: accuracy, macro F1 and AUC with patient-bootstrap CIs,
 * per-class sensitivity and specificity (with CIs), and the confusion matrix.
 */
import { bootstrapCis, type BootstrapOptions } from './bootstrap';
import { taskAuc, rocAucOvr } from './curves';
import { classificationMetrics } from './metrics';
import { argmax, type ConfusionMatrix, type Estimate, type Prediction } from './types';

/** Per-class results. */
export interface ClassSummary {
  sensitivity: Estimate;
  specificity: Estimate;
  precision: number;
  f1: number;
  support: number;
  /** One-vs-rest ROC AUC (NaN when the class is absent). */
  auc: number;
}

/** Everything a results table needs for one model on one split. */
export interface EvaluationSummary {
  classes: string[];
  n: number;
  patients: number;
  accuracy: Estimate;
  macroF1: Estimate;
  /** Binary: ROC AUC of class 1; otherwise macro one-vs-rest AUC. */
  auc: Estimate;
  perClass: Record<string, ClassSummary>;
  confusion: ConfusionMatrix;
  confusionNormalised: ConfusionMatrix;
  /** Bootstrap settings used (absent when no CIs were computed). */
  bootstrap?: { resamples: number; seed: number; level: number };
}

/** A prediction with its argmax computed once. */
type Scored = Prediction & { predicted: number };

function metricsOf(preds: readonly Scored[], k: number) {
  return classificationMetrics(
    preds.map((p) => p.label),
    preds.map((p) => p.predicted),
    k,
  );
}

/**
 * Summarises predictions for `classes` (label i is `classes[i]`). With `bootstrap` (default on: 2,000
 * resamples, seed 0) every {@link Estimate} carries a 95 % CI from resampling patients.
 */
export function summarise(
  preds: readonly Prediction[],
  classes: readonly string[],
  options: { bootstrap?: BootstrapOptions | false } = {},
): EvaluationSummary {
  if (preds.length === 0) throw new RangeError('no predictions to evaluate');
  const k = classes.length;
  for (const p of preds) {
    if (p.probs.length !== k) throw new RangeError(`${p.file}: ${p.probs.length} probabilities for ${k} classes`);
  }
  const scored: Scored[] = preds.map((p) => ({ ...p, predicted: argmax(p.probs) }));
  const m = metricsOf(scored, k);
  const labels = preds.map((p) => p.label);
  const probs = preds.map((p) => p.probs);
  const aucPerClass = rocAucOvr(labels, probs, k).perClass;

  // The metrics below share one confusion matrix per resample.
  let cached = { resample: NaN, metrics: m };
  const metricsFor = (s: readonly Scored[], resample: number) => {
    if (cached.resample !== resample) cached = { resample, metrics: metricsOf(s, k) };
    return cached.metrics;
  };
  const fns: Record<string, (s: readonly Scored[], resample: number) => number> = {
    accuracy: (s, b) => metricsFor(s, b).accuracy,
    macroF1: (s, b) => metricsFor(s, b).macro.f1,
    auc: (s) =>
      taskAuc(
        s.map((p) => p.label),
        s.map((p) => p.probs),
        k,
      ),
  };
  classes.forEach((_, c) => {
    // A resample without the class has no sensitivity (or without other classes, no specificity): NaN, not 0.
    fns[`sens${c}`] = (s, b) => (metricsFor(s, b).perClass[c].support > 0 ? metricsFor(s, b).perClass[c].recall : NaN);
    fns[`spec${c}`] = (s, b) =>
      s.length - metricsFor(s, b).perClass[c].support > 0 ? metricsFor(s, b).perClass[c].specificity : NaN;
  });

  const boot = options.bootstrap === false ? null : { resamples: 2000, seed: 0, level: 0.95, ...options.bootstrap };
  const cis = boot ? bootstrapCis(scored, (p) => p.patientId, fns, boot) : null;
  const est = (key: string, point: number): Estimate =>
    cis ? { point, ci: [cis[key].lo, cis[key].hi] } : { point };

  const perClass: Record<string, ClassSummary> = {};
  classes.forEach((name, c) => {
    const s = m.perClass[c];
    perClass[name] = {
      sensitivity: est(`sens${c}`, s.support > 0 ? s.recall : NaN),
      specificity: est(`spec${c}`, m.n - s.support > 0 ? s.specificity : NaN),
      precision: s.precision,
      f1: s.f1,
      support: s.support,
      auc: aucPerClass[c],
    };
  });
  return {
    classes: [...classes],
    n: m.n,
    patients: new Set(preds.map((p) => p.patientId)).size,
    accuracy: est('accuracy', m.accuracy),
    macroF1: est('macroF1', m.macro.f1),
    auc: est('auc', taskAuc(labels, probs, k)),
    perClass,
    confusion: m.confusion,
    confusionNormalised: m.confusionNormalised,
    ...(boot ? { bootstrap: { resamples: boot.resamples, seed: boot.seed, level: boot.level } } : {}),
  };
}

/**
 * The one-line JSON shape of `cxr evaluate --json`:
 * `{"accuracy", "ci", "n", "per_class": {name: {sensitivity, sensitivity_ci, specificity, specificity_ci, support}}}`.
 */
export function summaryJson(s: EvaluationSummary): Record<string, unknown> {
  const perClass: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(s.perClass)) {
    perClass[name] = {
      sensitivity: c.sensitivity.point,
      sensitivity_ci: c.sensitivity.ci ?? null,
      specificity: c.specificity.point,
      specificity_ci: c.specificity.ci ?? null,
      precision: c.precision,
      f1: c.f1,
      auc: c.auc,
      support: c.support,
    };
  }
  return {
    accuracy: s.accuracy.point,
    ci: s.accuracy.ci ?? null,
    n: s.n,
    patients: s.patients,
    auc: s.auc.point,
    auc_ci: s.auc.ci ?? null,
    macro_f1: s.macroF1.point,
    per_class: perClass,
    confusion: s.confusion,
  };
}
