import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CxrError, InputFileError } from '../errors';
import type { EnhanceFileOptions } from './file';

/** One image to enhance: its absolute path and its path relative to the data root (`/` separators). */
export interface FolderItem {
  path: string;
  file: string;
}

export interface EnhanceFolderOptions extends EnhanceFileOptions {
  /** Worker threads; default: one per core. */
  jobs?: number;
  /** Stop at the first bad file (InputFileError) instead of skipping and reporting it. */
  strict?: boolean;
  /** Called after each file. */
  onProgress?: (done: number, total: number) => void;
}

export interface EnhanceFolderResult {
  /** Relative output paths written, in input order. */
  written: string[];
  /** Files that could not be enhanced, and why. */
  failed: { file: string; reason: string }[];
}

/**
 * Output names mirroring the inputs' relative paths with a `.png` extension. When two inputs would
 * map to the same name (`a.jpg` and `a.png`), both keep their original extension before `.png`.
 */
export function outputNames(files: readonly string[]): string[] {
  const base = files.map((f) => f.slice(0, f.length - path.posix.extname(f).length) + '.png');
  const count = new Map<string, number>();
  for (const b of base) count.set(b, (count.get(b) ?? 0) + 1);
  return files.map((f, i) => (count.get(base[i])! > 1 ? f + '.png' : base[i]));
}

// Workers run TypeScript: register tsx in the thread, then load the worker module.
const WORKER_BOOT = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(path.join(__dirname, 'folder-worker.ts'))});`;

/**
 * Enhances every item into `outDir` (class subfolders mirrored, each PNG written atomically), in
 * parallel worker threads. Inputs are only read. Bad files are reported in `failed`, or with `strict`
 * stop the run with an InputFileError naming the first one.
 */
export async function enhanceFolder(items: readonly FolderItem[], outDir: string, opts: EnhanceFolderOptions): Promise<EnhanceFolderResult> {
  const names = outputNames(items.map((it) => it.file));
  const jobs = Math.max(1, Math.min(opts.jobs ?? os.availableParallelism(), items.length));
  const workerData: EnhanceFileOptions = { size: opts.size, enhance: opts.enhance };
  const failed: { file: string; reason: string; index: number }[] = [];
  const done: boolean[] = new Array(items.length).fill(false);
  let next = 0;
  let finished = 0;
  const workers: Worker[] = [];

  await new Promise<void>((resolve, reject) => {
    let stopped = false;
    const stop = (err?: unknown) => {
      if (stopped) return;
      stopped = true;
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve();
    };
    const feed = (w: Worker) => {
      if (stopped) return;
      if (next >= items.length) {
        void w.terminate();
        return;
      }
      const id = next++;
      w.postMessage({ id, input: items[id].path, output: path.join(outDir, ...names[id].split('/')) });
    };
    if (items.length === 0) return stop();
    for (let j = 0; j < jobs; j++) {
      const w = new Worker(WORKER_BOOT, { eval: true, workerData });
      workers.push(w);
      w.on('message', (msg: { id: number; ok: boolean; reason?: string }) => {
        if (msg.ok) done[msg.id] = true;
        else {
          if (opts.strict) return stop(new InputFileError(items[msg.id].path, msg.reason!));
          failed.push({ file: items[msg.id].file, reason: msg.reason!, index: msg.id });
        }
        finished++;
        opts.onProgress?.(finished, items.length);
        if (finished === items.length) return stop();
        feed(w);
      });
      w.on('error', (err) => stop(new CxrError(`enhancement worker failed: ${err.message}`, { cause: err })));
      feed(w);
    }
  });
  return {
    written: names.filter((_, i) => done[i]),
    failed: failed.sort((a, b) => a.index - b.index).map(({ file, reason }) => ({ file, reason })),
  };
}
