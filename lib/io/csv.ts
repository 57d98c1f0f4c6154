import * as fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { InputFileError } from '../errors';
import { writeFileAtomic } from './atomic';

export type CsvRow = Record<string, string>;

/** Parses CSV text with a header row (RFC 4180 quoting, BOM tolerated). `name` is used in errors. */
export function parseCsv(text: string, name: string, requiredColumns: readonly string[] = []): CsvRow[] {
  let rows: CsvRow[];
  try {
    rows = parse(text, { columns: true, bom: true, skip_empty_lines: true, relax_column_count: false }) as CsvRow[];
  } catch (err) {
    throw new InputFileError(name, `not valid CSV (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  if (requiredColumns.length > 0) {
    const header = rows.length > 0 ? Object.keys(rows[0]) : readHeader(text);
    const missing = requiredColumns.filter((c) => !header.includes(c));
    if (missing.length > 0) throw new InputFileError(name, `missing column(s): ${missing.join(', ')}`);
  }
  return rows;
}

function readHeader(text: string): string[] {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return first.split(',').map((s) => s.trim().replace(/^"|"$/g, ''));
}

export function readCsv(file: string, requiredColumns: readonly string[] = []): CsvRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
  }
  return parseCsv(text, file, requiredColumns);
}

/** CSV text for rows, columns in the given order. */
export function formatCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  return stringify(rows.map((r) => columns.map((c) => formatCell(r[c]))), { header: true, columns: [...columns] });
}

function formatCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(8)));
  return String(v);
}

export function writeCsvAtomic(file: string, rows: readonly Record<string, unknown>[], columns: readonly string[]): void {
  writeFileAtomic(file, formatCsv(rows, columns));
}
