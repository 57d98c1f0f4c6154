/**
 * The page on a run whose inputs are cropped to the lungs (the de-confounded default): a tiny U-Net trained here
 * on synthetic chests, a tiny run trained with `prep.lungs` crop and format normalisation through it, then the
 * page in chromium segmenting in the browser with the run's own segmenter. Its lung boxes, labels and calibrated
 * probabilities must be `cxr predict --json`'s (boxes from the masks the command line cached).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { mulberry32 } from '../../lib/random';
import { lungBox } from '../../lib/segment/lungs';
import { fileSha256 } from '../../lib/segment/mask-cache';
import { maskCacheFile, readCachedMask } from '../../lib/segment/mask-file';
import { modelId, saveModel } from '../../lib/segment/store';
import { DEFAULT_SEGMENT_SETTINGS, trainSegmenter } from '../../lib/segment/train';
import { buildUnet } from '../../lib/segment/unet';
import { makeRunConfig, type PhaseConfig } from '../../lib/train/config';
import { readRunRecord, readRunSplit } from '../../lib/train/run-folder';
import { startRun } from '../../lib/train/run';
import { ellipseMask, lungEllipses } from '../segment/synth';
import { tempDir, tinySource } from '../train/helpers';
import { comparePage, oodThreshold, predictJson, servePage, type ServedPage } from './page-fixture';

const CLASSES = ['covid', 'viral', 'normal'] as const;
const MARGIN = 0.05;
let root: string;
let data: string;
let segDir: string;
let run: string;
let served: ServedPage;

/**
 * A synthetic chest the size of the shared X-rays (their lung box larger than the canonical 256 px): a bright body with two dark lungs whose
 * texture is the class (covid: a bright patch in each lung, viral: stripes, normal: plain).
 * @returns the grey image and its lung mask.
 */
function chest(label: (typeof CLASSES)[number], w: number, h: number, seed: number): { grey: Uint8Array; mask: Uint8Array } {
  const lungs = lungEllipses(w, h, seed);
  const mask = ellipseMask(w, h, lungs);
  const rand = mulberry32(seed);
  const grey = Uint8Array.from(mask, (m, p) => {
    const [x, y] = [p % w, Math.floor(p / w)];
    const patch = lungs.some((e) => (x - e.cx) ** 2 + (y - e.cy) ** 2 < (e.rx * 0.6) ** 2);
    const texture = label === 'covid' ? (patch ? 70 : 0) : label === 'viral' ? (Math.floor((10 * y) / h) % 2 ? 60 : 0) : 0;
    return Math.max(0, Math.min(255, (m ? 50 + texture : 170) + Math.round((rand() - 0.5) * 24)));
  });
  return { grey, mask };
}

const png = (px: Uint8Array, w: number, h: number, file: string) => sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);

/**
 * `perClass` chests of several sizes per class, written as a classification data folder and as the segmenter's
 * mask data (images/, masks/, manifest.csv) of the same images; with `seedBase` other than 0, images never seen.
 * @returns the classification images.
 */
async function writeChests(dir: string, maskDir: string | null, perClass: number, seedBase = 0): Promise<string[]> {
  const rows = ['file,mask,patient_id'];
  const files: string[] = [];
  for (const [k, label] of CLASSES.entries()) {
    fs.mkdirSync(path.join(dir, label), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const [w, h] = [480 + 16 * (i % 3), 432 + 16 * ((i + k) % 3)];
      const { grey, mask } = chest(label, w, h, seedBase + 100 * k + i);
      const name = `${label}_${String(seedBase + i).padStart(4, '0')}.png`;
      files.push(path.join(dir, label, name));
      await png(grey, w, h, files[files.length - 1]);
      if (!maskDir) continue;
      for (const sub of ['images', 'masks']) fs.mkdirSync(path.join(maskDir, sub), { recursive: true });
      await png(grey, w, h, path.join(maskDir, 'images', name));
      await png(mask, w, h, path.join(maskDir, 'masks', name));
      rows.push(`images/${name},masks/${name},${label}${i}`);
    }
  }
  if (maskDir) fs.writeFileSync(path.join(maskDir, 'manifest.csv'), rows.join('\n') + '\n');
  return files;
}

before(async () => {
  root = tempDir('cxr-page-lungs-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  data = path.join(root, 'data');
  const maskDir = path.join(root, 'lungmasks');
  await writeChests(data, maskDir, 10);
  segDir = path.join(root, 'segmenter');
  const settings = { ...DEFAULT_SEGMENT_SETTINGS, unet: { size: 32, channels: [4, 8, 16], bnMomentum: 0.7 }, epochs: 8, batchSize: 4, learningRate: 1e-2, valFraction: 0.25 };
  const { record } = await trainSegmenter({ dataDir: maskDir, outDir: segDir, settings, quiet: true });
  assert.ok(record && record.val.dice.point > 0.8, `segmenter val Dice ${record?.val.dice.point}`);
  const phases: PhaseConfig[] = [
    { epochs: 30, learningRate: 3e-2, batchSize: 8, trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, earlyStopping: null, reduceLr: null },
    { epochs: 3, learningRate: 3e-3, batchSize: 8, trainAfter: 'block1_out', frozen: 'cache', views: 0, augment: false, earlyStopping: null, reduceLr: null },
  ];
  const config = makeRunConfig({
    // Input 128: the canonical 256 px image is reduced less than 2× as for the real backbones' 224 (no box shrink).
    model: 'tiny', task: 'multiclass', profile: 'tiny', data: [data], recipe: 'study', weights: 'none', seed: 3, inputSize: 128, preprocess: 'tf',
    defaultInputSize: 32, workers: 0, phases, limit: null, overrides: { prep: { border: 0, normalise: true, lungs: { mode: 'crop', margin: MARGIN } } },
  });
  run = (await startRun(config, { out: path.join(root, 'runs'), id: 'lungs', backbone: tinySource(), quiet: true, segmenterDir: segDir })).dir;
  served = await servePage(run, root);
});

after(async () => {
  await served?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('a lung-cropped run: the page segments with the run\'s segmenter, crops to cxr predict\'s lung box and gives its label and probabilities (within 0.02)', { timeout: 120_000 }, async () => {
  const record = readRunRecord(run);
  assert.equal(record.runtime.segmenter?.id, modelId(segDir));
  assert.match((await served.page.textContent('[data-testid=run]'))!, new RegExp(`lungs crop.*segmenter ${record.runtime.segmenter!.id}`));
  // The test split and images never seen (not the val split: the gate's threshold is its top quantile).
  const tests = readRunSplit(run).filter((r) => r.split === 'test').map((r) => path.join(data, r.file));
  const files = [...tests, ...(await writeChests(path.join(root, 'fresh'), null, 1, 1000))];
  const cli = predictJson(run, files);
  const { results, worst, borderline } = await comparePage(served.page, files, cli, oodThreshold(run));
  for (const [i, file] of files.entries()) {
    const { width, height } = await sharp(file).metadata();
    const mask = await readCachedMask(maskCacheFile(record.runtime.segmenter!.id, fileSha256(file)), width!, height!);
    const box = lungBox(mask, width!, height!, MARGIN);
    assert.ok(box.width < width! && box.height < height!, `${file}: the lungs are a part of the image (${JSON.stringify(box)})`);
    assert.deepEqual(results[i].lungBox, box, `${file}: the page's lung box is cxr predict's`);
  }
  assert.ok(worst < 0.02, `largest probability difference ${worst}`);
  console.log(`lung-cropped run, page vs cxr predict: ${files.length} images, the same lung box on all, largest |Δp| ${worst.toExponential(2)}, ${borderline} near the gate's threshold`);
});

test('cxr serve refuses a lung-cropped run whose recorded segmenter folder now holds another model', { timeout: 60_000 }, async () => {
  await saveModel(segDir, buildUnet({ size: 32, channels: [4, 8] }, 9));
  const r = spawnSync(process.execPath, [path.resolve(__dirname, '..', '..', 'bin', 'cxr.js'), 'serve', '--run', run, '--port', '0'], { encoding: 'utf8', env: process.env, timeout: 50_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /lung segmenter unet-[0-9a-f]+ is not the one the run recorded/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'one line, no stack trace');
});
