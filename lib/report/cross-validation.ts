/**
 * The report's cross-validation section: for each backbone and task trained with `cxr study --cv K`, the test
 * accuracy and AUC of every fold, their mean ± sd and a 95 % t-interval over folds. One split's test score
 * depends on which patients fell into it; K folds show how much.
 */
import type { EvaluationSummary } from '../eval/summary';
import { BACKBONE_DISPLAY, TASK_DISPLAY } from './study-numbers';

type SectionBlock = { kind: 'heading'; level: 2 | 3; text: string } | { kind: 'paragraph'; text: string } | { kind: 'table'; header: string[]; rows: string[][] };

/** What the section needs of a run: its model, task, fold and test summary. */
export interface FoldRun {
  model: string;
  task: string;
  fold?: { k: number; index: number };
  test: Pick<EvaluationSummary, 'accuracy' | 'auc' | 'n'>;
}

/** Two-sided 97.5 % quantiles of Student's t for 1–30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/**
 * Mean, sample sd and 95 % t-interval of the mean of per-fold values.
 * @example overFolds([0.9, 0.92, 0.88]) // { mean: 0.9, sd: 0.02, ci: [0.850, 0.950] }
 */
export function overFolds(values: readonly number[]): { mean: number; sd: number; ci: [number, number] } {
  const k = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / k;
  const sd = k > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (k - 1)) : NaN;
  const t = T975[Math.min(k - 1, T975.length) - 1] ?? 1.96;
  const half = (t * sd) / Math.sqrt(k);
  return { mean, sd, ci: [mean - half, mean + half] };
}

const pct = (x: number) => (100 * x).toFixed(1);

/** The section's blocks; empty when no run belongs to a complete set of folds. */
export function crossValidationSection(runs: readonly FoldRun[]): SectionBlock[] {
  const sets = new Map<string, FoldRun[]>();
  for (const r of runs) {
    if (!r.fold) continue;
    const key = `${r.model}\n${r.task}\n${r.fold.k}`;
    sets.set(key, [...(sets.get(key) ?? []), r]);
  }
  const rows: string[][] = [];
  for (const set of sets.values()) {
    const { k } = set[0].fold!;
    if (new Set(set.map((r) => r.fold!.index)).size !== k) continue; // unfinished: no summary over a partial set
    set.sort((a, b) => a.fold!.index - b.fold!.index);
    const acc = overFolds(set.map((r) => r.test.accuracy.point));
    const auc = overFolds(set.map((r) => r.test.auc.point));
    rows.push([
      `${BACKBONE_DISPLAY[set[0].model] ?? set[0].model} · ${TASK_DISPLAY[set[0].task] ?? set[0].task}`,
      String(k),
      set.map((r) => pct(r.test.accuracy.point)).join(', '),
      `${pct(acc.mean)} ± ${pct(acc.sd)} (${pct(acc.ci[0])}–${pct(acc.ci[1])})`,
      `${auc.mean.toFixed(3)} ± ${auc.sd.toFixed(3)}`,
    ]);
  }
  if (rows.length === 0) return [];
  return [
    { kind: 'heading', level: 2, text: 'Cross-validation' },
    {
      kind: 'paragraph',
      text: 'Patient-grouped, stratified K-fold cross-validation (each patient in exactly one fold; the folds are in runs/cv<K>-folds.csv): each fold is the test set of one run trained on the other folds. Mean ± sd over folds, with a 95 % t-interval of the mean.',
    },
    { kind: 'table', header: ['model', 'K', 'test accuracy % per fold', 'accuracy % mean ± sd (95 % CI)', 'AUC mean ± sd'], rows },
  ];
}
