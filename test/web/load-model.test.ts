/**
 * The page's model loader on a model of many large weight shards, as a ResNet-50 run's (23 × 4 MB): plain
 * `tf.loadLayersModel` never finished in chromium there (six HTTP/1.1 connections, bodies left unread while later
 * shards wait), the loader must, with the weights node reads.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { loadModel, saveModel } from '../../lib/models/io';
import { bundlePage } from '../../lib/web/bundle';
import { CSP, listen, type Asset, type Listening } from '../../lib/web/server';

let root: string;
let server: Listening;
let expected: number[];
let shards: number;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-load-model-'));
  // 2,000 × 4,096 float32 weights: 32.8 MB, 8 shards of 4 MB, more shards than connections and each over
  // chromium's pipe to the page.
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2000], units: 4096, kernelInitializer: 'randomUniform' }), tf.layers.dense({ units: 3 })] });
  const dir = path.join(root, 'model');
  await saveModel(model, dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const names = manifest.weightsManifest.flatMap((g) => g.paths);
  shards = names.length;
  expected = Array.from((model.predict(tf.ones([1, 2000])) as tf.Tensor).dataSync());
  const assets = new Map<string, Asset>([
    ['/index.html', { type: 'text/html; charset=utf-8', body: '<!doctype html><title>t</title><pre id="out"></pre><script src="/t.js"></script>' }],
    ['/t.js', { type: 'text/javascript', body: (await bundlePage(path.join(__dirname, 'fixtures', 'load-model-entry.ts'))).js }],
    ['/model/model.json', { type: 'application/json', file: path.join(dir, 'model.json') }],
    ...names.map((n): [string, Asset] => [`/model/${n}`, { type: 'application/octet-stream', file: path.join(dir, n) }]),
  ]);
  server = await listen(assets, '127.0.0.1', 0);
  // What node reads back is what the browser must give.
  assert.deepEqual(Array.from(((await loadModel(dir)).predict(tf.ones([1, 2000])) as tf.Tensor).dataSync()), expected);
});

after(async () => {
  await server?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('a model of 8 weight shards of 4 MB loads in chromium, with progress, and predicts what node predicts', async () => {
  assert.ok(shards >= 8, `${shards} shards`);
  assert.match(CSP, /connect-src 'self'/);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.getElementById('out')!.textContent !== '', null, { timeout: 60_000 });
    const r = JSON.parse((await page.textContent('#out'))!) as { y?: number[]; progress?: string[]; error?: string };
    assert.equal(r.error, undefined);
    assert.equal(r.progress!.length, shards + 1);
    assert.equal(r.progress!.at(-1), `${shards + 1}/${shards + 1}`);
    r.y!.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-3 * Math.max(1, Math.abs(expected[i])), `output ${i}: ${v} vs ${expected[i]}`));
  } finally {
    await browser.close();
  }
});
