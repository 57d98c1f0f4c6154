/** Tables of paired comparisons and operating points, for `cxr compare` and the report (pure; no I/O). */
import type { PairwiseComparison } from './compare';
import type { OperatingPoint } from './operating-point';
import { formatEstimate, formatPercent } from './report-table';

/** A table as header and rows of cells, ready for `markdownTable` or a report block. */
export interface TableLines {
  header: string[];
  rows: string[][];
}

/**
 * A p value for people: three significant decimals, "< 0.001" below that; "n/a" when undefined.
 * @example formatP(0.04321) // "0.043"
 */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

const auc = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/**
 * One row per pair of models: both AUCs of the headline class with DeLong's p, McNemar's discordant counts and
 * exact p, both accuracies and their difference with its paired CI. For 3 classes the AUCs are COVID-vs-rest
 * and the other classes' DeLong p values (Holm-adjusted) follow in one column.
 * @example pairwiseTable(pairwiseComparisons(models, classes)).rows[0][0] // "ResNet-50 vs NASNetMobile"
 */
export function pairwiseTable(pairs: readonly PairwiseComparison[]): TableLines {
  const perClass = pairs.some((c) => c.delongPerClass.length > 1);
  const header = [
    'A vs B',
    'Images (patients)',
    'AUC A / B',
    'DeLong p',
    ...(perClass ? ['DeLong p per class (Holm)'] : []),
    'McNemar b / c',
    'McNemar p',
    'Accuracy A / B',
    'A − B (95 % CI)',
  ];
  const rows = pairs.map((c) => [
    `${c.names[0]} vs ${c.names[1]}`,
    `${c.n} (${c.patients})`,
    `${auc(c.delong.auc[0])} / ${auc(c.delong.auc[1])}${perClass ? ` (${c.delong.class})` : ''}`,
    formatP(c.delong.p),
    ...(perClass ? [c.delongPerClass.map((d) => `${d.class} ${formatP(d.pHolm)}`).join(', ')] : []),
    `${c.mcnemar.b} / ${c.mcnemar.c}`,
    formatP(c.mcnemar.p),
    `${formatPercent(c.accuracy[0])} / ${formatPercent(c.accuracy[1])}`,
    formatEstimate(c.accuracyDiff),
  ]);
  return { header, rows };
}

/**
 * One row per model: the threshold chosen on validation for the target sensitivity, what it gave there, the
 * test sensitivity and specificity with CIs, and PPV / NPV at each prevalence.
 */
export function operatingPointTable(points: readonly { name: string; point: OperatingPoint }[]): TableLines {
  const prevalences = points[0]?.point.predictiveValues.map((v) => v.prevalence) ?? [];
  const header = [
    'Model',
    'Threshold (val)',
    'Val sensitivity / specificity',
    'Test sensitivity (95 % CI)',
    'Test specificity (95 % CI)',
    ...prevalences.map((q) => `PPV / NPV at ${formatPercent(q, 0)}`),
  ];
  const rows = points.map(({ name, point: o }) => [
    name,
    o.threshold.toPrecision(3),
    `${formatPercent(o.val.sensitivity)} / ${formatPercent(o.val.specificity)}`,
    formatEstimate(o.test.sensitivity),
    formatEstimate(o.test.specificity),
    ...o.predictiveValues.map((v) => `${formatPercent(v.ppv.point)} / ${formatPercent(v.npv.point)}`),
  ]);
  return { header, rows };
}
