/**
 * Patient-grouped, stratified K-fold cross-validation folds: each patient (and each set of identical images) in
 * exactly one fold, every fold with about the same share of each class. Fold i is the test set of round i; the
 * other folds give its training and validation sets, again grouped by patient.
 */
import { UsageError } from '../errors';
import { mulberry32 } from '../random';
import { LABELS, type Label } from './labels';
import { leakageGroups, splitDataset } from './split';
import type { Sample, Split } from './types';

/** Columns of a folds CSV: one row per image. */
export const FOLD_CSV_COLUMNS = ['file', 'label', 'patient_id', 'fold'] as const;

/** K folds of a data set. */
export interface Folds {
  k: number;
  seed: number;
  /** `folds[i]`: the images of fold i, sorted by file. */
  folds: Sample[][];
}

function majority(group: readonly Sample[]): Label {
  const counts = LABELS.map((l) => group.filter((s) => s.label === l).length);
  return LABELS[counts.indexOf(Math.max(...counts))];
}

/**
 * Splits samples into `k` patient-grouped folds, stratified by class. Groups (a patient's images, joined through
 * identical images) are shuffled per class with a seeded PRNG, taken largest first, and each goes to the fold
 * holding the fewest images of its class (then the fewest images overall, then the lowest index). Deterministic
 * for a seed, whatever the order of `samples`.
 * @param samples the data set's samples
 * @param opts `k` (at least 2) and the shuffle's `seed` (default 42)
 * @throws UsageError when k is not an integer ≥ 2 or exceeds the number of groups
 * @example kFolds(dataset.samples, { k: 5 }).folds.map((f) => f.length)
 */
export function kFolds(samples: readonly Sample[], opts: { k: number; seed?: number }): Folds {
  const { k } = opts;
  const seed = opts.seed ?? 42;
  if (!Number.isInteger(k) || k < 2) throw new UsageError(`cross-validation needs an integer number of folds ≥ 2, got ${k}`);
  if (!Number.isInteger(seed)) throw new UsageError(`seed must be an integer (got ${seed})`);
  const groups = leakageGroups(samples);
  if (groups.length < k) throw new UsageError(`${k} folds need at least ${k} patients, the data has ${groups.length}`);
  const random = mulberry32(seed);
  const folds: Sample[][] = Array.from({ length: k }, () => []);
  const perClass = LABELS.map(() => new Array<number>(k).fill(0));
  for (const [c, label] of LABELS.entries()) {
    const stratum = groups.filter((g) => majority(g) === label);
    for (let i = stratum.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [stratum[i], stratum[j]] = [stratum[j], stratum[i]];
    }
    // Largest first (stable, so equal sizes keep the shuffled order): the small groups then even out the counts.
    stratum.sort((a, b) => b.length - a.length);
    for (const g of stratum) {
      let best = 0;
      for (let f = 1; f < k; f++) {
        const fewer = perClass[c][f] - perClass[c][best] || folds[f].length - folds[best].length;
        if (fewer < 0) best = f;
      }
      perClass[c][best] += g.length;
      folds[best].push(...g);
    }
  }
  for (const f of folds) f.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { k, seed, folds };
}

/**
 * Round `i` of the cross-validation: fold i is the test set; the remaining folds are split into training and
 * validation sets by the usual patient-grouped split (validation share `valFraction` of them, default 0.15).
 * `fractions` are the shares found, of all images.
 * @throws RangeError when `i` is not a fold index
 */
export function foldSplit(f: Folds, i: number, valFraction = 0.15): Split {
  if (!Number.isInteger(i) || i < 0 || i >= f.k) throw new RangeError(`fold ${i} of ${f.k}`);
  const rest = f.folds.filter((_, j) => j !== i).flat();
  const inner = splitDataset(rest, { seed: f.seed, fractions: { train: 1 - valFraction, val: valFraction, test: 0 } });
  const test = [...f.folds[i]];
  const total = rest.length + test.length;
  const fractions = { train: inner.train.length / total, val: inner.val.length / total, test: test.length / total };
  return { seed: f.seed, fractions, train: inner.train, val: inner.val, test };
}

/** Rows for the folds CSV (`file,label,patient_id,fold`, fold 0-based), fold by fold. */
export function foldsToCsvRows(f: Folds): Record<(typeof FOLD_CSV_COLUMNS)[number], string>[] {
  return f.folds.flatMap((fold, i) => fold.map((s) => ({ file: s.file, label: s.label, patient_id: s.patientId, fold: String(i) })));
}
