import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../../lib/backend';
import type { Label } from '../../lib/data/labels';
import { applyMask, insideBorder, LUNG_BOX, occlusionMask, occlusionTest, standardVariants } from '../../lib/eval/occlusion';
import { modelInput, runImageBatches, type RunModel } from '../../lib/train/run-model';
import { compileInference } from '../../lib/graph/inference';
import { makeRunConfig } from '../../lib/train/config';
import { Rng } from '../../lib/random';
import { taskSpec } from '../../lib/train/tasks';

const SIZE = 32;
let root: string;

before(async () => {
  await initBackend({ quiet: true });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-occlusion-'));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('masks: the lung box, the border frame and their complements, by pixel centre', () => {
  const [hidden, border, lungsOnly] = standardVariants().map((v) => occlusionMask(v, 20));
  const at = (m: Uint8Array, x: number, y: number) => m[y * 20 + x];
  // Lung box 0.15–0.85 of 20 px: pixel centres 3.5..16.5 → pixels 3..16 hidden.
  assert.equal(hidden.reduce((a, b) => a + b, 0), 14 * 14);
  assert.equal(at(hidden, 3, 3), 1);
  assert.equal(at(hidden, 2, 10), 0);
  assert.equal(at(hidden, 16, 16), 1);
  assert.equal(at(hidden, 17, 16), 0);
  // Border 10 % of 20 px: a 2-px frame kept.
  assert.equal(border.reduce((a, b) => a + b, 0), 16 * 16);
  assert.equal(at(border, 1, 1), 0);
  assert.equal(at(border, 2, 2), 1);
  for (let i = 0; i < hidden.length; i++) assert.equal(lungsOnly[i], 1 - hidden[i]);
  // Non-square sizes and custom boxes.
  const wide = occlusionMask({ name: 'left', description: '', box: { left: 0, top: 0, right: 0.5, bottom: 1 }, hide: 'inside' }, 4, 2);
  assert.deepEqual(Array.from(wide), [1, 1, 0, 0, 1, 1, 0, 0]);
  assert.throws(() => occlusionMask({ name: 'bad', description: '', box: { left: 0.6, top: 0, right: 0.5, bottom: 1 }, hide: 'inside' }, 4), /left < right/);
  assert.throws(() => insideBorder(0.5), /border/);
  assert.deepEqual(LUNG_BOX, { left: 0.15, top: 0.15, right: 0.85, bottom: 0.85 });
});

test('applyMask fills hidden pixels with each image’s channel means, or a constant', () => {
  // Two 2-pixel RGB images; the second pixel hidden.
  const x = new Float32Array([0, 10, 20, 100, 110, 120, 1, 1, 1, 3, 5, 7]);
  applyMask(x, 2, 3, new Uint8Array([0, 1]));
  assert.deepEqual(Array.from(x), [0, 10, 20, 50, 60, 70, 1, 1, 1, 2, 3, 4]);
  const y = applyMask(new Float32Array([5, 5, 5, 9, 9, 9]), 1, 3, new Uint8Array([1, 0]), 0);
  assert.deepEqual(Array.from(y), [0, 0, 0, 9, 9, 9]);
  assert.throws(() => applyMask(new Float32Array(5), 1, 3, new Uint8Array(2)), /5 values/);
});

type Where = 'corner' | 'centre';

/** covid: a bright mark (in the top-left corner, or in the middle); normal: none. Grey noise elsewhere. */
async function markedData(dir: string, where: Where, perClass: number, seed: number) {
  const samples: { file: string; path: string; label: Label; patientId: string }[] = [];
  for (const label of ['covid', 'normal'] as const) {
    fs.mkdirSync(path.join(dir, label), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const rng = new Rng(seed, label, i);
      const px = Buffer.alloc(SIZE * SIZE);
      const [mx, my] = where === 'corner' ? [0, 0] : [10 + rng.int(8), 10 + rng.int(8)];
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const mark = label === 'covid' && x >= mx && x < mx + 3 && y >= my && y < my + 3;
          px[y * SIZE + x] = mark ? 255 : 40 + Math.floor(rng.next() * 80);
        }
      }
      const file = `${label}/${label}_${i}.png`;
      await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(path.join(dir, file));
      samples.push({ file, path: path.join(dir, file), label, patientId: `${label}${i}` });
    }
  }
  return samples;
}

function net(seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 10 + k });
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalMaxPooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** A model trained on the images exactly as the run pipeline feeds them. */
async function trainedRunModel(where: Where): Promise<{ rm: RunModel; test: Awaited<ReturnType<typeof markedData>> }> {
  const dir = path.join(root, where);
  const train = await markedData(path.join(dir, 'train'), where, 24, 1);
  const test = await markedData(path.join(dir, 'test'), where, 12, 2);
  const config = makeRunConfig({
    model: 'marked', task: 'binary', profile: 'tiny', data: [dir], recipe: 'study', weights: 'none', inputSize: SIZE, enhance: false,
    preprocess: 'tf', defaultInputSize: SIZE, workers: 0, limit: null,
  });
  const model = net(where === 'corner' ? 3 : 4);
  const task = taskSpec('binary');
  let inference = compileInference(model, { graph: false });
  const rm: RunModel = {
    dir, config, task, classes: [...task.classes], model,
    get inference() {
      return inference;
    },
    dispose: () => {
      inference.dispose();
      model.dispose();
    },
  };
  const xs: tf.Tensor4D[] = [];
  for await (const b of runImageBatches(rm, train.map((s) => s.path), { workers: 0, batchSize: 64 })) xs.push(modelInput(rm, b.x, b.n));
  const x = tf.concat(xs);
  const y = tf.tensor2d(train.map((s) => [s.label === 'covid' ? 1 : 0]));
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'binaryCrossentropy' });
  await model.fit(x, y, { epochs: 60, batchSize: 16, shuffle: false, verbose: 0 });
  tf.dispose([x, y, ...xs]);
  inference = compileInference(model); // a snapshot of the trained weights, as loadRunModel makes
  return { rm, test };
}

test('a model reading a corner mark survives with the border only and fails with the lungs only', { timeout: 120_000 }, async () => {
  const { rm, test: samples } = await trainedRunModel('corner');
  const r = await occlusionTest(rm, samples, { bootstrap: { resamples: 1000, seed: 1 }, workers: 0 });
  const acc = (name: string) => r.variants.find((v) => v.name === name)!.summary.accuracy.point;
  assert.equal(r.n, 24);
  assert.equal(r.chance, 0.5);
  assert.ok(r.intact.summary.accuracy.point >= 0.95, `intact ${r.intact.summary.accuracy.point}`);
  assert.ok(r.intact.summary.accuracy.ci, 'bootstrap CI present');
  assert.ok(acc('border-only') >= 0.95, `border-only ${acc('border-only')}`);
  assert.ok(acc('lungs-hidden') >= 0.95, `lungs-hidden ${acc('lungs-hidden')}`);
  assert.ok(acc('lungs-only') <= 0.6, `lungs-only ${acc('lungs-only')}`);
  const lungsOnly = r.variants.find((v) => v.name === 'lungs-only')!;
  assert.ok(Math.abs(lungsOnly.retained - acc('lungs-only') / r.intact.summary.accuracy.point) < 1e-12);
  assert.ok(lungsOnly.retainedAboveChance <= 0.25);
  assert.equal(lungsOnly.predictions.length, 24);
  rm.dispose();
});

test('a model reading a central mark fails when the centre is hidden', { timeout: 120_000 }, async () => {
  const { rm, test: samples } = await trainedRunModel('centre');
  const r = await occlusionTest(rm, samples, { bootstrap: false, workers: 0 });
  const acc = (name: string) => r.variants.find((v) => v.name === name)!.summary.accuracy.point;
  assert.ok(r.intact.summary.accuracy.point >= 0.95, `intact ${r.intact.summary.accuracy.point}`);
  assert.ok(acc('lungs-hidden') <= 0.6, `lungs-hidden ${acc('lungs-hidden')}`);
  assert.ok(acc('border-only') <= 0.6, `border-only ${acc('border-only')}`);
  assert.ok(acc('lungs-only') >= 0.95, `lungs-only ${acc('lungs-only')}`);
  assert.equal(r.intact.summary.accuracy.ci, undefined);
  rm.dispose();
});
