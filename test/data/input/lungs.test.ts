import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadTrainingImage, lungMaskView, type ImageJob, type InputPrep } from '../../../lib/data/input/images';
import { DEFAULT_ENHANCE } from '../../../lib/enhance/pipeline';
import { InputFileError } from '../../../lib/errors';
import { applyLungs, cropGrey, lungBox } from '../../../lib/segment/lungs';
import { dice } from '../../../lib/segment/mask';
import { fileSha256, openMaskSource } from '../../../lib/segment/mask-cache';
import { maskCacheFile, readCachedMask, scaleMask, writeCachedMask } from '../../../lib/segment/mask-file';
import { makeRunConfig } from '../../../lib/train/config';
import { runImageBatches, type RunModel } from '../../../lib/train/run-model';
import { taskSpec } from '../../../lib/train/tasks';
import { chestImage, ellipseMask, lungEllipses } from '../../segment/synth';

const [W, H] = [120, 96];
const SEG = 'unet-synthetic';
let tmp: string;
let full: string;
let maskFile: string;
let truth: Uint8Array;
let grey: Uint8Array;

/** A chest with two ellipse lungs and a bright marker in the top-left corner (outside the lungs). */
before(async () => {
  process.env.CXR_BACKEND = 'cpu';
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-input-lungs-'));
  process.env.CXR_CACHE = path.join(tmp, 'cache');
  truth = ellipseMask(W, H, lungEllipses(W, H, 7));
  grey = chestImage(W, H, truth, 7);
  for (let y = 3; y < 12; y++) for (let x = 3; x < 15; x++) grey[y * W + x] = 250;
  full = path.join(tmp, 'full.png');
  await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).png().toFile(full);
  // Masks injected into the cache as a segmenter would have left them.
  maskFile = maskCacheFile(SEG, fileSha256(full));
  await writeCachedMask(maskFile, truth, W, H);
});

const job = (file: string, prep: InputPrep, lungMask?: string): ImageJob => ({ path: file, inputSize: 32, fit: 'stretch', enhance: DEFAULT_ENHANCE, augment: null, prep, lungMask });

test('the lung step crops or masks the full decoded image before enhancement, exactly as a pre-restricted file', async () => {
  const cached = await readCachedMask(maskFile, W, H);
  for (const mode of ['crop', 'mask'] as const) {
    const restricted = applyLungs(grey, W, H, cached, mode, 0.05);
    const file = path.join(tmp, `restricted-${mode}.png`);
    await sharp(restricted.data, { raw: { width: restricted.width, height: restricted.height, channels: 1 } }).png().toFile(file);
    const viaLungs = await loadTrainingImage(job(full, { border: 0, normalise: false, lungs: { mode, margin: 0.05 } }, maskFile));
    const direct = await loadTrainingImage(job(file, { border: 0, normalise: false }));
    assert.deepEqual(viaLungs.data, direct.data, mode);
    const plain = await loadTrainingImage(job(full, { border: 0, normalise: false }));
    assert.notDeepEqual(viaLungs.data, plain.data, `${mode} changes the input`);
  }
  const box = lungBox(cached, W, H, 0.05);
  assert.ok(box.x > 15 && box.y > 12 && box.width < W - 20, 'the marker lies outside the lung box');
  await assert.rejects(
    loadTrainingImage(job(full, { border: 0, normalise: false, lungs: { mode: 'crop', margin: 0.05 } })),
    (e: unknown) => e instanceof InputFileError && e.message.includes('full.png') && /no lung mask/.test(e.message),
  );
});

test("a run's images read through runImageBatches (inline and in a worker) equal the training input, lungs applied", async () => {
  for (const mode of ['crop', 'mask'] as const) {
    const config = makeRunConfig({
      model: 'tiny', task: 'binary', profile: 'tiny', data: [tmp], recipe: 'study', weights: 'none', preprocess: 'tf', defaultInputSize: 32, inputSize: 32,
      overrides: { prep: { border: 0, normalise: false, lungs: { mode, margin: 0.05 } } },
    });
    const lungs = await openMaskSource({ recorded: { id: SEG, dir: path.join(tmp, 'no-segmenter') }, quiet: true });
    const rm = { dir: tmp, config, task: taskSpec('binary'), classes: ['covid', 'other'], model: null, inference: null, lungs, dispose: () => undefined } as unknown as RunModel;
    const training = await loadTrainingImage({ path: full, inputSize: 32, fit: config.fit, enhance: config.enhance, augment: null, prep: config.prep, lungMask: maskFile });
    assert.equal(training.channels, 1);
    const unrestricted = await loadTrainingImage({ path: full, inputSize: 32, fit: config.fit, enhance: config.enhance, augment: null, prep: { ...config.prep, lungs: null } });
    assert.notDeepEqual(training.data, unrestricted.data);
    for (const workers of [0, 1]) {
      const batches: { x: Float32Array }[] = [];
      for await (const b of runImageBatches(rm, [full], { workers })) batches.push(b);
      assert.equal(batches.length, 1);
      const channel0 = Float32Array.from({ length: 32 * 32 }, (_, p) => batches[0].x[3 * p]);
      assert.deepEqual(channel0, training.data, `${mode}, ${workers} workers`);
    }
    // An image the run has no mask for: made by the run's own segmenter, which is gone here, so it says where.
    const other = path.join(tmp, 'other.png');
    await sharp(grey.map((v) => 255 - v), { raw: { width: W, height: H, channels: 1 } }).png().toFile(other);
    await assert.rejects(async () => {
      for await (const _ of runImageBatches(rm, [other], { workers: 0 })) void _;
    }, /no-segmenter/);
  }
});

test('lungMaskView: the mask on the network view, through the same lung crop, border crop and resize', async () => {
  const cached = await readCachedMask(maskFile, W, H);
  const plainView = await lungMaskView(job(full, { border: 0, normalise: false }), maskFile);
  assert.ok(plainView.every((v) => v === 0 || v === 255));
  assert.ok(dice(plainView, scaleMask(cached, W, H, 32, 32)) > 0.9);
  // Cropped to the lung box, the lungs fill the view about as much as they fill the box.
  const box = lungBox(cached, W, H, 0.05);
  const inBox = cropGrey(cached, W, H, box);
  const share = (m: Uint8Array) => m.filter((v) => v > 0).length / m.length;
  const cropView = await lungMaskView(job(full, { border: 0, normalise: false, lungs: { mode: 'crop', margin: 0.05 } }), maskFile);
  assert.ok(Math.abs(share(cropView) - share(inBox.data)) < 0.03, `${share(cropView)} vs ${share(inBox.data)}`);
  assert.ok(share(cropView) > share(plainView) + 0.1);
  assert.ok(dice(cropView, scaleMask(inBox.data, inBox.width, inBox.height, 32, 32)) > 0.9);
  // Masking does not move anything: the view is the plain one.
  assert.deepEqual(await lungMaskView(job(full, { border: 0, normalise: false, lungs: { mode: 'mask', margin: 0.05 } }), maskFile), plainView);
  // A border crop of 20 % brings the lungs closer to the edges: a larger share of the view.
  const borderView = await lungMaskView(job(full, { border: 0.2, normalise: false }), maskFile);
  assert.ok(share(borderView) > share(plainView) + 0.1);
});
