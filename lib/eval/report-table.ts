/** Text formatting of evaluation results for the report and notebooks (pure; no I/O). */
import type { EvaluationSummary } from './summary';
import type { ConfusionMatrix, Estimate } from './types';

/** How to print a value: as a percentage of a fraction (default) or as a plain number. */
export interface NumberFormat {
  /** Print `x` as `100·x %` (default true). */
  percent?: boolean;
  /** Decimals (default 1 for percentages, 3 otherwise). */
  digits?: number;
}

const NA = 'n/a';

function fmt(x: number, f: NumberFormat): string {
  if (!Number.isFinite(x)) return NA;
  const percent = f.percent ?? true;
  return (percent ? x * 100 : x).toFixed(f.digits ?? (percent ? 1 : 3));
}

/** `0.9314` → `"93.1 %"`; NaN → `"n/a"`. */
export function formatPercent(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${fmt(x, { percent: true, digits })} %` : NA;
}

/** `formatCi(0.931, [0.902, 0.956])` → `"93.1 % (90.2–95.6)"`; with `{percent: false}` → `"0.931 (0.902–0.956)"`. */
export function formatCi(point: number, ci: readonly [number, number] | undefined, format: NumberFormat = {}): string {
  if (!Number.isFinite(point)) return NA;
  const percent = format.percent ?? true;
  const head = percent ? `${fmt(point, format)} %` : fmt(point, format);
  if (!ci) return head;
  return `${head} (${fmt(ci[0], format)}–${fmt(ci[1], format)})`;
}

/** An {@link Estimate} with its interval, if any. */
export function formatEstimate(e: Estimate, format: NumberFormat = {}): string {
  return formatCi(e.point, e.ci, format);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table: header line, separator, one line per row (cells have `|` escaped). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  for (const r of rows) {
    if (r.length !== header.length) throw new RangeError(`table row has ${r.length} cells, header has ${header.length}`);
  }
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)];
}

/** Column titles matching {@link summaryCells} for `classes`, after the caller's leading columns. */
export function summaryHeader(classes: readonly string[]): string[] {
  return [
    'n',
    'Patients',
    'Accuracy (95 % CI)',
    'Macro F1',
    'AUC',
    ...classes.map((c) => `Sensitivity ${c}`),
    ...classes.map((c) => `Specificity ${c}`),
  ];
}

/** One results row: counts, accuracy, macro F1, AUC, and per-class sensitivity and specificity, with CIs. */
export function summaryCells(s: EvaluationSummary): string[] {
  return [
    String(s.n),
    String(s.patients),
    formatEstimate(s.accuracy),
    formatEstimate(s.macroF1),
    formatEstimate(s.auc, { percent: false }),
    ...s.classes.map((c) => formatEstimate(s.perClass[c].sensitivity)),
    ...s.classes.map((c) => formatEstimate(s.perClass[c].specificity)),
  ];
}

/**
 * A results table with one row per labelled summary, e.g. `[{label: ['ResNet-50', '3-class'], summary}]`
 * under `leading = ['Model', 'Task']`. All summaries must share the same classes.
 */
export function summaryTable(
  leading: readonly string[],
  entries: readonly { label: readonly string[]; summary: EvaluationSummary }[],
): string[] {
  if (entries.length === 0) return markdownTable([...leading], []);
  const classes = entries[0].summary.classes;
  for (const e of entries) {
    if (e.summary.classes.join() !== classes.join()) {
      throw new RangeError(`summaries with different classes (${classes.join(', ')} vs ${e.summary.classes.join(', ')})`);
    }
  }
  return markdownTable(
    [...leading, ...summaryHeader(classes)],
    entries.map((e) => [...e.label, ...summaryCells(e.summary)]),
  );
}

/** A confusion matrix as a Markdown table (rows: true class, columns: predicted class). */
export function confusionTable(m: ConfusionMatrix, classes: readonly string[], format?: NumberFormat): string[] {
  const value = (v: number) => (format ? formatCi(v, undefined, format) : String(v));
  return markdownTable(
    ['true / predicted', ...classes],
    m.map((row, i) => [classes[i], ...row.map(value)]),
  );
}
