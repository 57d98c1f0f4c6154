/**
 * What the page tests share: `cxr serve` started as a user starts it, Debian chromium (headless, never
 * downloaded) on the page, an upload and the page's JSON result, and `cxr predict --json` on the same files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
/** The project's `cxr` command. */
export const cxr = path.resolve(__dirname, '..', '..', 'bin', 'cxr.js');

/** One result as the page or `cxr predict --json` gives it. */
export interface PredictionJson {
  file: string;
  label: string;
  probabilities: Record<string, number>;
  ood: boolean;
  /** Why the gate refused the image: `colour`, `distance`, or null. */
  refusal: 'colour' | 'distance' | null;
  /** Squared Mahalanobis distance of the pooled features (the gate refuses above its threshold). */
  distance: number;
  /** Share of coloured pixels in the decoded image (a colour picture is refused). */
  colour: number;
}

/** The page's result, with the backend it ran on and, for lung-cropped runs, the lung box. */
export interface PageResult extends PredictionJson {
  backend: string;
  lungBox?: { x: number; y: number; width: number; height: number };
}

/** A running `cxr serve` and the page open in chromium. */
export interface ServedPage {
  url: string;
  serve: ChildProcess;
  ctx: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Starts `cxr serve --run <run> --port 0` and opens its page in headless chromium (profile under `root`),
 * waiting until the model is loaded.
 */
export async function servePage(run: string, root: string): Promise<ServedPage> {
  const serve = spawn(process.execPath, [cxr, 'serve', '--run', run, '--port', '0'], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  serve.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    serve.on('exit', (code) => reject(new Error(`cxr serve exited with ${code}: ${err}`)));
  });
  const ctx = await chromium.launchPersistentContext(path.join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  return {
    url, serve, ctx, page,
    close: async () => {
      await ctx.close();
      serve.kill('SIGTERM');
    },
  };
}

/** The page's JSON result for one uploaded file (fails on the page's error result). */
export async function upload(page: Page, file: string): Promise<PageResult> {
  await page.evaluate(() => (document.querySelector('[data-testid=prediction]')!.textContent = ''));
  await page.setInputFiles('[data-testid=file]', file);
  await page.waitForFunction(() => document.querySelector('[data-testid=prediction]')!.textContent !== '', null, { timeout: 60_000 });
  const result = JSON.parse((await page.textContent('[data-testid=prediction]'))!);
  assert.equal(result.error, undefined, result.error);
  return result;
}

/** `cxr predict --run <run> --json` on `files`, one result per file. */
export function predictJson(run: string, files: string[]): PredictionJson[] {
  const r = spawnSync(process.execPath, [cxr, 'predict', '--run', run, '--json', ...files], { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

/**
 * Uploads each file and checks the page's label against `cli` (same order), and its out-of-distribution verdict
 * where `cxr predict`'s distance is not within 10 % of the gate's threshold: the pooled features differ a little
 * (the page's resize), and the Mahalanobis distance of a tiny test run's gate magnifies that enough to move an
 * image that lies on the threshold across it.
 * @returns the page's results, the largest probability difference and the images too near the threshold to compare.
 */
export async function comparePage(page: Page, files: readonly string[], cli: readonly PredictionJson[], threshold: number): Promise<{ results: PageResult[]; worst: number; borderline: number }> {
  let worst = 0;
  let borderline = 0;
  const results: PageResult[] = [];
  for (const [i, file] of files.entries()) {
    const p = await upload(page, file);
    assert.equal(p.file, path.basename(file));
    assert.ok(['webgpu', 'webgl', 'wasm', 'cpu'].includes(p.backend), p.backend);
    assert.equal(p.label, cli[i].label, file);
    if (Math.abs(cli[i].distance - threshold) > 0.1 * threshold) assert.equal(p.ood, cli[i].ood, `${file}: distance ${p.distance} on the page, ${cli[i].distance} by cxr predict, threshold ${threshold}`);
    else borderline++;
    for (const [c, v] of Object.entries(cli[i].probabilities)) worst = Math.max(worst, Math.abs(p.probabilities[c] - v));
    results.push(p);
  }
  return { results, worst, borderline };
}

/** The threshold of a run's out-of-distribution gate (its ood.json, written when the gate was fitted). */
export function oodThreshold(run: string): number {
  return (JSON.parse(fs.readFileSync(path.join(run, 'ood.json'), 'utf8')) as { threshold: number }).threshold;
}
