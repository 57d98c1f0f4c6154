/** Per-group metrics as aligned text tables and as JSON (pure; no I/O). */
import type { GroupKey, GroupMetrics } from './groups';
import type { Estimate } from './types';

/** What an undefined metric prints as (a group without the class, or with nothing else). */
const UNDEFINED = '—';

/**
 * A percentage with its interval and no unit, for table cells.
 * @example percentCell({ point: 0.95, ci: [0.912, 0.981] }) // '95.0 (91.2–98.1)'
 */
export function percentCell(e: Estimate): string {
  if (!Number.isFinite(e.point)) return UNDEFINED;
  const head = (100 * e.point).toFixed(1);
  if (!e.ci || !e.ci.every(Number.isFinite)) return head;
  return `${head} (${(100 * e.ci[0]).toFixed(1)}–${(100 * e.ci[1]).toFixed(1)})`;
}

/**
 * Rows padded into columns two spaces apart: the first column left-aligned, the others right-aligned.
 * @throws RangeError when a row has another number of cells than the header
 */
export function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  for (const r of rows) {
    if (r.length !== header.length) throw new RangeError(`table row has ${r.length} cells, header has ${header.length}`);
  }
  // Code points, not UTF-16 units, so that '–' and '—' count as one column each.
  const len = (s: string) => [...s].length;
  const widths = header.map((h, c) => Math.max(len(h), ...rows.map((r) => len(r[c]))));
  const pad = (s: string, c: number) => (c === 0 ? s + ' '.repeat(widths[c] - len(s)) : ' '.repeat(widths[c] - len(s)) + s);
  return [header, ...rows].map((cells) => cells.map(pad).join('  ').trimEnd());
}

/**
 * One group table: n, patients, accuracy, then sensitivity and specificity of the positive class for two
 * classes, or of every class (one-vs-rest) for more. Values in %, 95 % CIs in parentheses.
 * @param classes the task's classes; the first is the positive one
 */
export function groupTable(key: GroupKey, rows: readonly GroupMetrics[], classes: readonly string[]): string[] {
  const shown = classes.length === 2 ? [classes[0]] : classes;
  const header = [key, 'n', 'patients', 'accuracy', ...shown.map((c) => `sens ${c}`), ...shown.map((c) => `spec ${c}`)];
  return alignedTable(
    header,
    rows.map((r) => [
      r.group,
      String(r.n),
      String(r.patients),
      percentCell(r.accuracy),
      ...shown.map((c) => percentCell(r.perClass[c].sensitivity)),
      ...shown.map((c) => percentCell(r.perClass[c].specificity)),
    ]),
  );
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** `{point, ci}` with undefined values as null. */
export function estimateJson(e: Estimate): { point: number | null; ci: [number | null, number | null] | null } {
  return { point: finite(e.point), ci: e.ci && Number.isFinite(e.point) ? [finite(e.ci[0]), finite(e.ci[1])] : null };
}

/**
 * Per-group metrics as JSON: `{source: [{group, n, patients, accuracy: {point, ci}, auc, sensitivity,
 * specificity, perClass: {name: {n, sensitivity, specificity}}}]}`; undefined values are null.
 */
export function groupsJson(by: Partial<Record<GroupKey, readonly GroupMetrics[]>>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [key, rows] of Object.entries(by) as [GroupKey, readonly GroupMetrics[]][]) {
    out[key] = rows.map((r) => ({
      group: r.group,
      n: r.n,
      patients: r.patients,
      accuracy: estimateJson(r.accuracy),
      auc: estimateJson(r.auc),
      sensitivity: estimateJson(r.sensitivity),
      specificity: estimateJson(r.specificity),
      perClass: Object.fromEntries(
        Object.entries(r.perClass).map(([c, k]) => [c, { n: k.n, sensitivity: estimateJson(k.sensitivity), specificity: estimateJson(k.specificity) }]),
      ),
    }));
  }
  return out;
}
