/**
 * Notebook tables as danfo.js DataFrames (`danfojs-node`, running on the project's own tfjs-node build),
 * shown as HTML with a Markdown fallback. Importing this module loads native TensorFlow: notebooks only,
 * never the command line (which must still start on wasm or cpu).
 */
import { DataFrame } from 'danfojs-node';
import { CxrError } from '../errors';
import { showTable, type Tabular } from '../plots/display';
import { formatNumber } from '../plots/figure';

/** A value a table cell may hold. */
type Cell = string | number | boolean | null | undefined;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const escapeMarkdown = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Numbers to three significant digits (integers whole), missing values blank. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? '' : formatNumber(v);
  return String(v);
}

/**
 * One DataFrame from rows given as objects, the columns in the first row's key order. Unlike
 * `new DataFrame(rows)`, no rows give an empty frame with those columns instead of none.
 * @param rows One object per row (any interface: its own enumerable keys are the columns).
 * @param columns The column names when there may be no rows.
 * @throws CxrError when a column would hide a DataFrame member (see {@link tableFrame}).
 * @example frame([{ label: 'covid', n: 3 }, { label: 'normal', n: 8 }]).shape // [2, 2]
 */
export function frame(rows: readonly object[], columns?: readonly string[]): DataFrame {
  const names = columns ?? Object.keys(rows[0] ?? {});
  return tableFrame(names, rows.map((r) => names.map((c) => (r as Record<string, Cell>)[c])));
}

/**
 * One DataFrame from a header and rows of cells, such as a report table block.
 * @param header Column names.
 * @param rows One array of cells per row, in header order.
 * @throws CxrError when a column is named like a DataFrame member (`values`, `index`, `sum`, …): danfo.js
 *   makes every column a property of the frame, which would hide that member and break the frame.
 * @example tableFrame(['Task', 'Accuracy'], [['binary', '99.6']])
 */
export function tableFrame(header: readonly string[], rows: readonly (readonly Cell[])[]): DataFrame {
  const clash = header.find((c) => c in DataFrame.prototype);
  if (clash !== undefined) throw new CxrError(`table column "${clash}" is also a DataFrame member (danfo.js would hide df.${clash}): rename the column`);
  return new DataFrame(rows.map((r) => r.map((v) => v ?? null)), { columns: [...header] });
}

/**
 * A DataFrame as something `showTable` renders: the header row, then at most `limit` rows (a last line says
 * how many were left out); numbers to three significant digits.
 * @param df The table.
 * @param opts.index Show the row labels as a first, unnamed column (describe()'s statistic names).
 * @example showTable(frameTable(df.describe(), { index: true }))
 */
export function frameTable(df: DataFrame, opts: { index?: boolean } = {}): Tabular {
  const header = [...(opts.index ? [''] : []), ...df.columns];
  const values = df.values as unknown[][];
  const index = df.index;
  const rows = (limit = Infinity) => values.slice(0, limit).map((r, i) => [...(opts.index ? [index[i]] : []), ...r].map(cellText));
  const more = (limit = Infinity) => (values.length > limit ? `… ${values.length - limit} more row(s)` : '');
  return {
    toHTML: ({ limit } = {}) => {
      const note = more(limit);
      return (
        `<table><thead><tr>${header.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>` +
        rows(limit).map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('') +
        `</tbody></table>${note ? `<p>${note}</p>` : ''}`
      );
    },
    toMarkdown: ({ limit } = {}) =>
      [header, header.map(() => '---'), ...rows(limit)].map((r) => `| ${r.map(escapeMarkdown).join(' | ')} |`).join('\n') +
      (more(limit) ? `\n\n${more(limit)}` : ''),
  };
}

/**
 * Shows a DataFrame in a tslab notebook.
 * @param df The table.
 * @param opts.limit Rows shown at most (default 100).
 * @param opts.index Show the row labels as a first column.
 * @throws CxrError outside a notebook run by the tslab kernel.
 * @example showFrame(samples.groupby(['label', 'source']).col(['file']).count())
 */
export function showFrame(df: DataFrame, opts: { limit?: number; index?: boolean } = {}): void {
  showTable(frameTable(df, opts), { limit: opts.limit });
}
