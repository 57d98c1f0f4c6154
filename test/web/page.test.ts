/**
 * `cxr serve` end to end: a tiny run trained here, the server started as a user starts it, Debian chromium
 * (headless, never downloaded) uploading images: the page's label and calibrated probabilities equal
 * `cxr predict --json`'s (within 0.02), and images that are not chest X-rays are refused.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { syntheticData, tempDir, trainTinyRun } from '../report/run-fixture';
import { readRunSplit } from '../../lib/train/run-folder';
import { mulberry32 } from '../../lib/random';

const CHROMIUM = '/usr/bin/chromium';
const cxr = path.resolve(__dirname, '..', '..', 'bin', 'cxr.js');
let root: string;
let run: string;
let data: string;
let serve: ChildProcess;
let url: string;
let ctx: BrowserContext;
let page: Page;

/** Images that are not chest X-rays: colour photos (gradients, noise, shapes), a document, a greyscale photo. */
async function nonCxrImages(dir: string): Promise<Record<string, string>> {
  fs.mkdirSync(dir, { recursive: true });
  const rand = mulberry32(11);
  const w = 96;
  const h = 80;
  const colour = Buffer.alloc(w * h * 3);
  const grey = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      const inSun = (x - 70) ** 2 + (y - 20) ** 2 < 150;
      const sky = y < h / 2;
      colour[o] = inSun ? 250 : sky ? 60 + y : 40 + rand() * 60;
      colour[o + 1] = inSun ? 220 : sky ? 120 + y : 120 + rand() * 80;
      colour[o + 2] = inSun ? 40 : sky ? 230 : 30 + rand() * 40;
      const g = Math.round(128 + 90 * Math.sin(x / 5 + y / 9) * (rand() > 0.9 ? -1 : 1));
      grey[o] = grey[o + 1] = grey[o + 2] = g;
    }
  }
  const files = { colour: path.join(dir, 'photo.jpg'), document: path.join(dir, 'document.png'), grey: path.join(dir, 'grey-photo.png') };
  await sharp(colour, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(files.colour);
  await sharp(grey, { raw: { width: w, height: h, channels: 3 } }).png().toFile(files.grey);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="100"><rect width="120" height="100" fill="white"/>${[14, 30, 46, 62, 78, 94]
    .map((y) => `<text x="6" y="${y}" font-family="sans-serif" font-size="11" fill="black">Invoice no. ${y * 37} total</text>`).join('')}</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(files.document);
  return files;
}

before(async () => {
  root = tempDir('cxr-page-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  data = await syntheticData(root, 12);
  run = await trainTinyRun(data, path.join(root, 'runs'), 'tiny', 'multiclass');
  serve = spawn(process.execPath, [cxr, 'serve', '--run', run, '--port', '0'], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  serve.stderr!.on('data', (d) => (err += d));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout!.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    serve.on('exit', (code) => reject(new Error(`cxr serve exited with ${code}: ${err}`)));
  });
  ctx = await chromium.launchPersistentContext(path.join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
});

after(async () => {
  await ctx?.close();
  serve?.kill('SIGTERM');
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The page's JSON result for one uploaded file. */
async function upload(file: string): Promise<{ file: string; label: string; probabilities: Record<string, number>; ood: boolean; backend: string }> {
  await page.evaluate(() => (document.querySelector('[data-testid=prediction]')!.textContent = ''));
  await page.setInputFiles('[data-testid=file]', file);
  await page.waitForFunction(() => document.querySelector('[data-testid=prediction]')!.textContent !== '', null, { timeout: 60_000 });
  const result = JSON.parse((await page.textContent('[data-testid=prediction]'))!);
  assert.equal(result.error, undefined, result.error);
  return result;
}

function predictJson(files: string[]): { file: string; label: string; probabilities: Record<string, number>; ood: boolean }[] {
  const r = spawnSync(process.execPath, [cxr, 'predict', '--run', run, '--json', ...files], { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

test('the page gives cxr predict --json\'s label and calibrated probabilities (within 0.02) on the test X-rays', { timeout: 120_000 }, async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:/);
  const files = readRunSplit(run).filter((r) => r.split === 'test').map((r) => path.join(data, r.file));
  assert.ok(files.length >= 3);
  const cli = predictJson(files);
  let worst = 0;
  for (const [i, file] of files.entries()) {
    const p = await upload(file);
    assert.equal(p.file, path.basename(file));
    assert.ok(['webgpu', 'webgl', 'wasm', 'cpu'].includes(p.backend), p.backend);
    assert.equal(p.label, cli[i].label, file);
    assert.equal(p.ood, cli[i].ood, file);
    for (const [c, v] of Object.entries(cli[i].probabilities)) worst = Math.max(worst, Math.abs(p.probabilities[c] - v));
  }
  assert.ok(worst < 0.02, `largest probability difference ${worst}`);
  console.log(`page vs cxr predict: ${files.length} test images, largest |Δp| ${worst.toExponential(2)}`);
  assert.match((await page.textContent('[data-testid=disclaimer]'))!, /Research use only/);
  assert.equal(await page.locator('[data-testid=overlay]').evaluate((c: HTMLCanvasElement) => c.width > 0), true);
});

test('images that are not chest X-rays are refused', { timeout: 120_000 }, async () => {
  const files = await nonCxrImages(path.join(root, 'non-cxr'));
  const cli = predictJson(Object.values(files));
  const results: Record<string, boolean> = {};
  for (const [i, [kind, file]] of Object.entries(files).entries()) {
    const p = await upload(file);
    assert.equal(p.ood, cli[i].ood, `${kind}: page and cxr predict agree`);
    results[kind] = p.ood;
  }
  console.log(`refused: ${JSON.stringify(results)}`);
  assert.equal(results.colour, true, 'a colour photo is refused');
  assert.equal(await page.locator('[data-testid=refusal]').isVisible(), results.grey);
});
