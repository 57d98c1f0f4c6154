/**
 * `cxr serve` end to end: a tiny run trained here, the server started as a user starts it, Debian chromium
 * (headless, never downloaded) uploading images: the page's label and calibrated probabilities equal
 * `cxr predict --json`'s (within 0.02), and images that are not chest X-rays are refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { syntheticData, tempDir, trainTinyRun } from '../report/run-fixture';
import { readRunSplit } from '../../lib/train/run-folder';
import { mulberry32 } from '../../lib/random';
import { CANARIES, makeDicomFixtures, noPython } from '../data/dicom-fixtures';
import { comparePage, cxr, oodThreshold, predictJson, servePage, upload, type ServedPage } from './page-fixture';

let root: string;
let run: string;
let data: string;
let served: ServedPage;

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
  served = await servePage(run, root);
});

after(async () => {
  await served?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('the page gives cxr predict --json\'s label and calibrated probabilities (within 0.02) on the test X-rays', { timeout: 120_000 }, async () => {
  assert.match(served.url, /^http:\/\/127\.0\.0\.1:/);
  const files = readRunSplit(run).filter((r) => r.split === 'test').map((r) => path.join(data, r.file));
  assert.ok(files.length >= 3);
  const { worst } = await comparePage(served.page, files, predictJson(run, files), oodThreshold(run));
  assert.ok(worst < 0.02, `largest probability difference ${worst}`);
  console.log(`page vs cxr predict: ${files.length} test images, largest |Δp| ${worst.toExponential(2)}`);
  assert.match((await served.page.textContent('[data-testid=disclaimer]'))!, /Research use only/);
  assert.equal(await served.page.locator('[data-testid=overlay]').evaluate((c: HTMLCanvasElement) => c.width > 0), true);
});

test('images that are not chest X-rays are refused', { timeout: 120_000 }, async () => {
  const files = await nonCxrImages(path.join(root, 'non-cxr'));
  const cli = predictJson(run, Object.values(files));
  const results: Record<string, string | null> = {};
  for (const [i, [kind, file]] of Object.entries(files).entries()) {
    const p = await upload(served.page, file);
    assert.equal(p.ood, cli[i].ood, `${kind}: page and cxr predict agree`);
    assert.equal(p.refusal, cli[i].refusal, `${kind}: for the same reason`);
    assert.ok(Math.abs(p.colour - cli[i].colour) < 0.02, `${kind}: colour share ${p.colour} on the page, ${cli[i].colour} by cxr predict`);
    results[kind] = p.refusal;
  }
  console.log(`refused: ${JSON.stringify(results)}`);
  assert.equal(results.colour, 'colour', 'a colour photo is refused as one');
  assert.equal(await served.page.locator('[data-testid=refusal]').isVisible(), results.grey !== null);
});

test('DICOM in the page: the same display pipeline and codecs as cxr predict, a lateral view refused by both', { timeout: 180_000, skip: noPython }, async () => {
  const fixtures = await makeDicomFixtures();
  try {
    const names = ['mono1-12bit-window-linear', 'signed-16bit-rescale-window', 'rle-8bit-mono1', 'jpegls-12bit-window', 'j2k-16bit-window', 'jpeg-lossless-12bit-mono1'];
    const files = names.map((n) => path.join(fixtures.dir, `${n}.dcm`));
    // One without an extension: the preamble decides, not the name.
    const bare = path.join(fixtures.dir, 'no-extension');
    fs.copyFileSync(files[3], bare);
    files.push(bare);
    const { worst } = await comparePage(served.page, files, predictJson(run, files), oodThreshold(run));
    assert.ok(worst < 0.02, `largest probability difference ${worst}`);
    console.log(`page vs cxr predict on ${files.length} DICOM files (native, RLE, JPEG-LS, JPEG 2000, JPEG lossless): largest |Δp| ${worst.toExponential(2)}`);

    const lateral = path.join(fixtures.dir, 'data', 'normal', 'lateral.dcm');
    const cli = spawnSync(process.execPath, [cxr, 'predict', '--run', run, '--json', lateral], { encoding: 'utf8' });
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /lateral\.dcm: lateral view/);
    await served.page.evaluate(() => (document.querySelector('[data-testid=prediction]')!.textContent = ''));
    await served.page.setInputFiles('[data-testid=file]', lateral);
    await served.page.waitForFunction(() => document.querySelector('[data-testid=prediction]')!.textContent !== '');
    const shown = JSON.parse((await served.page.textContent('[data-testid=prediction]'))!) as { error?: string; label?: string };
    assert.equal(shown.label, undefined);
    assert.match(shown.error ?? '', /lateral\.dcm: lateral view/);
    const text = await served.page.textContent('body');
    for (const canary of CANARIES) assert.ok(!text!.includes(canary), `${canary} on the page`);
  } finally {
    fixtures.cleanup();
  }
});
