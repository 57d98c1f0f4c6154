/**
 * Metrics per group of images (per source, age group or dataset). A model that scores well overall can still
 * fail on the one hospital or age group it saw only with one class; a per-group table shows that, and each
 * group's intervals resample that group's own patients.
 */
import type { Sample } from '../data/types';
import { ageGroupOf } from '../data/provenance';
import { UsageError } from '../errors';
import type { BootstrapOptions } from './bootstrap';
import { summarise } from './summary';
import type { Estimate, Prediction } from './types';

/** What images can be grouped by. */
export type GroupKey = 'source' | 'age_group' | 'dataset';
export const GROUP_KEYS: readonly GroupKey[] = ['source', 'age_group', 'dataset'];

/** One class's one-vs-rest scores within a group (NaN point where undefined: no such image, or no other). */
export interface GroupClassScores {
  /** Images of the class in the group. */
  n: number;
  /** Recall of the class; NaN when the group holds none of it. */
  sensitivity: Estimate;
  /** Of the group's other images, the fraction not called this class; NaN when the group holds only this class. */
  specificity: Estimate;
}

/** The metrics of one group. */
export interface GroupMetrics {
  group: string;
  n: number;
  patients: number;
  accuracy: Estimate;
  /** ROC AUC as the task reports it (NaN when the group lacks a class it needs). */
  auc: Estimate;
  /** Of the positive class (the first: covid), as in `perClass`. */
  sensitivity: Estimate;
  specificity: Estimate;
  perClass: Record<string, GroupClassScores>;
}

/** Options of {@link groupMetrics}. */
export interface GroupMetricsOptions {
  /** Class names; label i is `classes[i]`, and `classes[0]` is the positive class (covid). */
  classes: readonly string[];
  /** Patient bootstrap within each group (default 2,000 resamples, seed 0), or false for point estimates. */
  bootstrap?: BootstrapOptions | false;
}

/**
 * Accuracy, AUC and every class's sensitivity and specificity per group, with patient-bootstrap CIs
 * resampling the group's own patients. Groups come sorted by name.
 * @param groupOf the group of a prediction, e.g. its image's source
 * @throws RangeError when there are no predictions or a prediction has the wrong number of probabilities
 * @example groupMetrics(preds, (p) => sourceByFile.get(p.file)!, { classes: ['covid', 'not-covid'] })
 */
export function groupMetrics(
  predictions: readonly Prediction[],
  groupOf: (p: Prediction) => string,
  opts: GroupMetricsOptions,
): GroupMetrics[] {
  if (predictions.length === 0) throw new RangeError('no predictions to group');
  const groups = new Map<string, Prediction[]>();
  for (const p of predictions) {
    const g = groupOf(p);
    (groups.get(g) ?? groups.set(g, []).get(g)!).push(p);
  }
  return [...groups.keys()].sort().map((group) => {
    const s = summarise(groups.get(group)!, opts.classes, { bootstrap: opts.bootstrap });
    const perClass: Record<string, GroupClassScores> = {};
    for (const c of opts.classes) {
      const k = s.perClass[c];
      perClass[c] = { n: k.support, sensitivity: k.sensitivity, specificity: k.specificity };
    }
    const positive = perClass[opts.classes[0]];
    return {
      group, n: s.n, patients: s.patients, accuracy: s.accuracy, auc: s.auc,
      sensitivity: positive.sensitivity, specificity: positive.specificity, perClass,
    };
  });
}

/**
 * The value of `key` for a sample: its source, its dataset (data folder), or its canonical age group.
 * @example groupValue(sample, 'age_group') // 'adult'
 */
export function groupValue(sample: Pick<Sample, 'source' | 'dataset' | 'ageGroup'>, key: GroupKey): string {
  if (key === 'source') return sample.source;
  if (key === 'dataset') return sample.dataset;
  return ageGroupOf(sample.ageGroup);
}

/**
 * Parses `--by` values: repeatable and comma-separated, duplicates dropped, order kept.
 * @example parseGroupKeys(['source,age_group', 'source']) // ['source', 'age_group']
 * @throws UsageError naming an unknown key and the known ones
 */
export function parseGroupKeys(values: readonly string[] | undefined): GroupKey[] {
  const keys: GroupKey[] = [];
  for (const item of (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    if (!(GROUP_KEYS as readonly string[]).includes(item)) {
      throw new UsageError(`--by '${item}': expected one of ${GROUP_KEYS.join(', ')} (repeatable or comma-separated)`);
    }
    if (!keys.includes(item as GroupKey)) keys.push(item as GroupKey);
  }
  return keys;
}
