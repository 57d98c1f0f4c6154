import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CxrError, InputFileError, describeError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { formatCsv, readCsv } from '../io/csv';
import { progress } from '../io/progress';
import { MANIFEST_NAME, manifestPath } from './manifest';

export const DEFAULT_BASE_URL = 'https://raw.githubusercontent.com';
/** Long side of the resized variants, as the shared data set was made. */
export const RESIZED_LONG_SIDE = 768;
/** Records what each completed file hashed to, so a resumed fetch can trust files already there. */
export const FETCH_JOURNAL = '.cxr-fetch.jsonl';

export interface FetchOptions {
  /** manifest.csv naming the files (`file`, `sha256`; for downloads also `source_repo`, `source_commit`, `source_path`, `original_sha256`, `variant`). */
  manifest: string;
  /** Folder to build; created if needed. */
  out: string;
  /** Copy from this local copy of the data set instead of downloading (checked against `sha256`). */
  from?: string;
  /** Where raw files live: `<baseUrl>/<repo>/<commit>/<path>`. Default raw.githubusercontent.com. */
  baseUrl?: string;
  /** Extra attempts per download after the first (default 4). */
  retries?: number;
  /** First retry delay in ms, doubling each time (default 1000). */
  retryDelayMs?: number;
  /** Downloads at once (default 4). */
  concurrency?: number;
  /** Per-request time limit in ms (default 120000). */
  timeoutMs?: number;
  /** Show a progress bar on stderr (default true). */
  showProgress?: boolean;
  /** Stop at the first failed file and throw an InputFileError naming it. */
  strict?: boolean;
}

export interface FetchReport {
  /** Files written by this run. */
  fetched: string[];
  /** Files already present and verified (resume). */
  present: string[];
  /** Resized copies whose bytes differ from the manifest's `sha256` (expected: the resampler and encoder differ; the original matched `original_sha256`). */
  hashDiffers: string[];
  failed: { file: string; reason: string }[];
  /** The manifest written into `out`, describing the files there. */
  manifest: string;
}

type Variant = 'copied_original' | 'resized_jpeg_q90' | 'resized_png';
const VARIANTS: readonly string[] = ['copied_original', 'resized_jpeg_q90', 'resized_png'];

interface Row {
  file: string;
  csv: Record<string, string>;
}

const sha256Of = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

class PermanentError extends Error {}

function readJournal(out: string): Map<string, string> {
  const known = new Map<string, string>();
  let text = '';
  try {
    text = fs.readFileSync(path.join(out, FETCH_JOURNAL), 'utf8');
  } catch {
    return known;
  }
  for (const line of text.split('\n')) {
    try {
      const { file, sha256 } = JSON.parse(line) as { file: string; sha256: string };
      if (typeof file === 'string' && typeof sha256 === 'string') known.set(file, sha256);
    } catch {
      // a line cut short by an interruption: that file is simply fetched again
    }
  }
  return known;
}

function rawUrl(base: string, row: Record<string, string>): string {
  const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  return `${base.replace(/\/+$/, '')}/${enc(row.source_repo)}/${encodeURIComponent(row.source_commit)}/${enc(row.source_path)}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function download(url: string, expected: string | undefined, opts: Required<Pick<FetchOptions, 'retries' | 'retryDelayMs' | 'timeoutMs'>>): Promise<Buffer> {
  let last = '';
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await sleep(opts.retryDelayMs * 2 ** (attempt - 1));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) });
      if (!res.ok) {
        const msg = `HTTP ${res.status} for ${url}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentError(msg);
        throw new Error(msg);
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (expected && sha256Of(body) !== expected) throw new Error(`downloaded bytes do not match original_sha256 (${body.length} bytes from ${url})`);
      return body;
    } catch (err) {
      if (err instanceof PermanentError) throw err;
      last = describeError(err);
    }
  }
  throw new Error(`${last} (after ${opts.retries + 1} attempts)`);
}

/** True when every pixel has R == G == B (such sources were saved as grey JPEG). */
async function colourChannelsEqual(img: Uint8Array): Promise<boolean> {
  const { data, info } = await sharp(img).raw().toBuffer({ resolveWithObject: true });
  if (info.channels < 3) return true;
  for (let i = 0; i < data.length; i += info.channels) {
    if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  }
  return true;
}

/**
 * Reproduces the shared set's transformation of an original: long side down to 768 px (Lanczos),
 * then JPEG q90 (grey when the colour channels are equal) or PNG. The bytes need not match the
 * manifest's `sha256`: the set was made with another resampler and encoder.
 */
export async function makeVariant(original: Uint8Array, variant: string): Promise<Uint8Array> {
  if (variant === '' || variant === 'copied_original') return original;
  const resized = sharp(original).resize(RESIZED_LONG_SIDE, RESIZED_LONG_SIDE, { fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' });
  if (variant === 'resized_png') return resized.png().toBuffer();
  const grey = await colourChannelsEqual(original);
  return (grey ? resized.toColourspace('b-w') : resized).flatten({ background: '#000000' }).jpeg({ quality: 90 }).toBuffer();
}

function loadRows(manifest: string, needDownload: boolean): Row[] {
  const required = needDownload ? ['file', 'sha256', 'source_repo', 'source_commit', 'source_path'] : ['file', 'sha256'];
  const rows = readCsv(manifest, required);
  return rows.map((csv, i) => {
    const file = manifestPath(csv.file, manifest, i + 2);
    if (needDownload && !VARIANTS.includes(csv.variant ?? 'copied_original') && (csv.variant ?? '') !== '') {
      throw new InputFileError(manifest, `row ${i + 2}: unknown variant "${csv.variant}" for ${file}`);
    }
    return { file, csv };
  });
}

/**
 * Builds a data folder from a manifest: downloads each original from the public repository the
 * manifest names (checked against `original_sha256`) and reproduces its `variant`, or with `from`
 * copies from a local copy (checked against `sha256`). Files are written atomically; a file
 * already present and verified is kept, so an interrupted fetch resumes. Writes `out/manifest.csv`
 * describing what is there (hashes of reproduced files; the original value kept in
 * `reference_sha256`). Failures are collected in the report, not thrown.
 */
export async function fetchDataset(opts: FetchOptions): Promise<FetchReport> {
  const out = path.resolve(opts.out);
  const from = opts.from ? path.resolve(opts.from) : undefined;
  if (from && !fs.existsSync(from)) throw new InputFileError(from, 'no such folder');
  if (from && path.resolve(from) === out) throw new CxrError(`--from and --out are the same folder (${out})`);
  const rows = loadRows(opts.manifest, !from);
  fs.mkdirSync(out, { recursive: true });
  const journal = readJournal(out);
  const settings = { retries: opts.retries ?? 4, retryDelayMs: opts.retryDelayMs ?? 1000, timeoutMs: opts.timeoutMs ?? 120_000 };
  const baseUrl = opts.baseUrl ?? DEFAULT_BASE_URL;
  const report: FetchReport = { fetched: [], present: [], hashDiffers: [], failed: [], manifest: path.join(out, MANIFEST_NAME) };
  const actual = new Map<string, { sha256: string; bytes: number; width?: number; height?: number }>();
  const bar = progress({ label: from ? 'copy' : 'fetch', total: rows.length, unit: 'file', silent: opts.showProgress === false });

  const one = async (row: Row) => {
    const target = path.join(out, row.file);
    const expected = row.csv.sha256.toLowerCase();
    if (fs.existsSync(target)) {
      const have = sha256Of(fs.readFileSync(target));
      if (have === expected || have === journal.get(row.file)) {
        report.present.push(row.file);
        if (have !== expected) report.hashDiffers.push(row.file);
        actual.set(row.file, { sha256: have, bytes: fs.statSync(target).size });
        return;
      }
    }
    let bytes: Uint8Array;
    if (from) {
      const src = path.join(from, row.file);
      try {
        bytes = fs.readFileSync(src);
      } catch (err) {
        throw new Error(`cannot read ${src} (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`);
      }
      if (sha256Of(bytes) !== expected) throw new Error(`${src} does not match the manifest's sha256`);
    } else {
      const original = await download(rawUrl(baseUrl, row.csv), row.csv.original_sha256?.toLowerCase() || undefined, settings);
      try {
        bytes = await makeVariant(original, row.csv.variant ?? '');
      } catch (err) {
        throw new Error(`cannot reproduce ${row.csv.variant} (${describeError(err)})`);
      }
      if ((row.csv.variant ?? 'copied_original') === 'copied_original' && sha256Of(bytes) !== expected) {
        throw new Error("original does not match the manifest's sha256");
      }
    }
    writeFileAtomic(target, bytes);
    const sha = sha256Of(bytes);
    fs.appendFileSync(path.join(out, FETCH_JOURNAL), JSON.stringify({ file: row.file, sha256: sha }) + '\n');
    if (sha !== expected) report.hashDiffers.push(row.file);
    report.fetched.push(row.file);
    actual.set(row.file, { sha256: sha, bytes: bytes.length });
  };

  let next = 0;
  const worker = async () => {
    while (next < rows.length && !(opts.strict && report.failed.length > 0)) {
      const row = rows[next++];
      try {
        await one(row);
      } catch (err) {
        report.failed.push({ file: row.file, reason: describeError(err) });
      }
      bar.tick(1, report.failed.length ? `${report.failed.length} failed` : undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, rows.length)) }, worker));
  bar.done(`${report.fetched.length} fetched, ${report.present.length} already present, ${report.failed.length} failed`);

  await writeLocalManifest(out, rows, actual);
  if (opts.strict && report.failed.length > 0) {
    const first = report.failed[0];
    throw new InputFileError(path.join(out, first.file), `${first.reason} (--strict: stopped; run again to resume)`);
  }
  for (const list of [report.fetched, report.present, report.hashDiffers]) list.sort();
  report.failed.sort((a, b) => (a.file < b.file ? -1 : 1));
  return report;
}

/** The manifest of what is in `out`: present rows only, with their actual hash, size and dimensions. */
async function writeLocalManifest(out: string, rows: Row[], actual: Map<string, { sha256: string; bytes: number }>): Promise<void> {
  const columns = [...Object.keys(rows[0]?.csv ?? { file: '' })];
  if (!columns.includes('reference_sha256')) columns.push('reference_sha256');
  const kept: Record<string, string>[] = [];
  for (const row of rows) {
    const a = actual.get(row.file);
    if (!a) continue;
    const csv: Record<string, string> = { ...row.csv, reference_sha256: row.csv.reference_sha256 || row.csv.sha256, sha256: a.sha256, bytes: String(a.bytes) };
    if (columns.includes('width') || columns.includes('height')) {
      const meta = await sharp(fs.readFileSync(path.join(out, row.file))).metadata();
      csv.width = String(meta.width ?? '');
      csv.height = String(meta.height ?? '');
    }
    kept.push(csv);
  }
  writeFileAtomic(path.join(out, MANIFEST_NAME), formatCsv(kept, columns));
}
