/**
 * Paired comparison of two models scored on the same images, as a reviewer asks for it: DeLong's test of the
 * AUCs, the exact McNemar test of correctness, and the accuracy difference with a paired patient-bootstrap CI.
 */
import { CxrError } from '../errors';
import { bootstrapCi, type BootstrapOptions } from './bootstrap';
import { delongTest, type DelongTest } from './delong';
import { mcnemarExact, type McNemarTest } from './mcnemar';
import { holm } from './multiple-testing';
import { argmax, type Estimate, type Prediction } from './types';

/** One image with both models' probabilities. */
export interface PairedPrediction {
  file: string;
  patientId: string;
  label: number;
  a: number[];
  b: number[];
}

/** DeLong's test of one class, one-vs-rest, with its Holm-adjusted p over the classes tested. */
export interface ClassDelong extends DelongTest {
  class: string;
  pHolm: number;
}

/** Two models compared on the same images. */
export interface PairwiseComparison {
  /** Names of model A and model B. */
  names: [string, string];
  classes: string[];
  n: number;
  patients: number;
  /**
   * The headline DeLong test: the COVID class (index 0) — the positive class of the binary task, and the
   * COVID-vs-rest AUC of the 3-class task; all classes are in `delongPerClass`.
   */
  delong: ClassDelong;
  /** Binary: the positive class only. 3-class: every class one-vs-rest, p Holm-adjusted over the classes. */
  delongPerClass: ClassDelong[];
  mcnemar: McNemarTest;
  accuracy: [number, number];
  /** Accuracy of A minus accuracy of B, with a CI from resampling patients (both models on the same draws). */
  accuracyDiff: Estimate;
  bootstrap?: { resamples: number; seed: number; level: number };
}

/** Options of {@link comparePredictions}. */
export interface CompareOptions {
  names?: [string, string];
  /** Patient-bootstrap settings of the accuracy difference (default 2,000 resamples, seed 0), or false. */
  bootstrap?: BootstrapOptions | false;
}

/**
 * Joins two models' predictions image by image (by file).
 * @throws CxrError when the two sets hold different images, or one image has two labels
 */
export function pairPredictions(a: readonly Prediction[], b: readonly Prediction[], names: [string, string] = ['A', 'B']): PairedPrediction[] {
  const byFile = new Map(b.map((p) => [p.file, p]));
  if (byFile.size !== b.length || new Set(a.map((p) => p.file)).size !== a.length) throw new CxrError('a file occurs twice among the predictions of one model');
  if (a.length !== b.length) throw new CxrError(`${names[0]} has ${a.length} predictions but ${names[1]} has ${b.length}: a paired comparison needs the same images`);
  return a.map((pa) => {
    const pb = byFile.get(pa.file);
    if (!pb) throw new CxrError(`${pa.file} is scored by ${names[0]} but not by ${names[1]}: a paired comparison needs the same images`);
    if (pb.label !== pa.label) throw new CxrError(`${pa.file}: label ${pa.label} for ${names[0]} but ${pb.label} for ${names[1]}`);
    if (pa.probs.length !== pb.probs.length) throw new CxrError(`${pa.file}: ${pa.probs.length} classes for ${names[0]} but ${pb.probs.length} for ${names[1]} (different tasks?)`);
    return { file: pa.file, patientId: pa.patientId, label: pa.label, a: pa.probs, b: pb.probs };
  });
}

/** DeLong per class, one-vs-rest (binary: the positive class 0 only), with Holm-adjusted p values. */
function delongByClass(paired: readonly PairedPrediction[], classes: readonly string[]): ClassDelong[] {
  const tested = classes.length === 2 ? [0] : classes.map((_, k) => k);
  const tests = tested.map((k) => {
    const positive = paired.map((r) => r.label === k);
    return delongTest(positive, paired.map((r) => r.a[k]), paired.map((r) => r.b[k]));
  });
  const adjusted = holm(tests.map((t) => t.p));
  return tests.map((t, i) => ({ class: classes[tested[i]], ...t, pHolm: adjusted[i] }));
}

const accuracyOf = (rows: readonly PairedPrediction[], side: 'a' | 'b') =>
  rows.reduce((n, r) => n + (argmax(r[side]) === r.label ? 1 : 0), 0) / rows.length;

/**
 * Compares model A with model B on the same images (predicted class = argmax, as every other metric here).
 * @param a model A's predictions
 * @param b model B's predictions of the same images (any order)
 * @param classes class names in probability order (2 classes: index 0 is the positive class)
 * @throws CxrError when the predictions are not of the same images and labels
 * @example comparePredictions(runA.test, runB.test, ['covid', 'not-covid']).delong.p
 */
export function comparePredictions(
  a: readonly Prediction[],
  b: readonly Prediction[],
  classes: readonly string[],
  opts: CompareOptions = {},
): PairwiseComparison {
  const names = opts.names ?? ['A', 'B'];
  const paired = pairPredictions(a, b, names);
  if (paired.length === 0) throw new CxrError('no predictions to compare');
  const delongPerClass = delongByClass(paired, classes);
  const mcnemar = mcnemarExact(
    paired.map((r) => argmax(r.a) === r.label),
    paired.map((r) => argmax(r.b) === r.label),
  );
  const diff = (rows: readonly PairedPrediction[]) => accuracyOf(rows, 'a') - accuracyOf(rows, 'b');
  let accuracyDiff: Estimate = { point: diff(paired) };
  let bootstrap: PairwiseComparison['bootstrap'];
  if (opts.bootstrap !== false) {
    const settings = { resamples: 2000, seed: 0, level: 0.95, ...opts.bootstrap };
    const ci = bootstrapCi(paired, (r) => r.patientId, diff, settings);
    accuracyDiff = { point: ci.point, ci: [ci.lo, ci.hi] };
    bootstrap = settings;
  }
  return {
    names,
    classes: [...classes],
    n: paired.length,
    patients: new Set(paired.map((r) => r.patientId)).size,
    delong: delongPerClass[0],
    delongPerClass,
    mcnemar,
    accuracy: [accuracyOf(paired, 'a'), accuracyOf(paired, 'b')],
    accuracyDiff,
    bootstrap,
  };
}

/** Every pair (i < j) of several models' predictions of the same images. */
export function pairwiseComparisons(
  models: readonly { name: string; predictions: readonly Prediction[] }[],
  classes: readonly string[],
  opts: Omit<CompareOptions, 'names'> = {},
): PairwiseComparison[] {
  const out: PairwiseComparison[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      out.push(comparePredictions(models[i].predictions, models[j].predictions, classes, { ...opts, names: [models[i].name, models[j].name] }));
    }
  }
  return out;
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * The comparison as JSON (snake_case, NaN and ±Infinity as null): `delong` {auc, z, p} is the COVID class (the
 * positive class of the binary task, COVID-vs-rest for 3 classes), `mcnemar` {b, c, p}, `accuracy_diff` = A − B;
 * extra fields: the runs, n, each model's accuracy, the difference's CI, and per-class DeLong with Holm's p.
 */
export function comparisonJson(c: PairwiseComparison): Record<string, unknown> {
  const delong = (d: ClassDelong) => ({
    class: d.class,
    auc: d.auc.map(finiteOrNull),
    z: finiteOrNull(d.z),
    p: finiteOrNull(d.p),
    p_holm: finiteOrNull(d.pHolm),
  });
  return {
    runs: c.names,
    n: c.n,
    patients: c.patients,
    delong: delong(c.delong),
    delong_per_class: c.delongPerClass.map(delong),
    mcnemar: c.mcnemar,
    accuracy: c.accuracy,
    accuracy_diff: c.accuracyDiff.point,
    accuracy_diff_ci: c.accuracyDiff.ci ?? null,
    bootstrap: c.bootstrap ?? null,
  };
}
