import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../../lib/backend';
import { gradCamImages, lungMassFraction } from '../../lib/eval/gradcam';
import { LUNG_ATTENTION_FLOOR, lungAttention } from '../../lib/eval/lung-attention';
import { compileInference } from '../../lib/graph/inference';
import { lungAttentionBlocks } from '../../lib/report/lung-attention';
import { fileSha256 } from '../../lib/segment/mask-cache';
import { maskCacheFile, writeCachedMask } from '../../lib/segment/mask-file';
import { makeRunConfig } from '../../lib/train/config';
import { runLungMaskView, type RunModel } from '../../lib/train/run-model';
import { taskSpec } from '../../lib/train/tasks';
import { ellipseMask, lungEllipses } from '../segment/synth';

let tmp: string;

before(async () => {
  process.env.CXR_BACKEND = 'cpu';
  await initBackend({ quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-gradcam-lungs-'));
  process.env.CXR_CACHE = path.join(tmp, 'cache');
});

test('lungMassFraction: the share of a map on the mask, on maps with known answers', () => {
  const mask = Uint8Array.from([255, 255, 0, 0, 255, 0, 0, 0]);
  assert.equal(lungMassFraction(new Float32Array(8).fill(0.5), mask), 3 / 8);
  assert.equal(lungMassFraction(Float32Array.from(mask, (m) => (m ? 0.7 : 0)), mask), 1);
  assert.equal(lungMassFraction(Float32Array.from(mask, (m) => (m ? 0 : 1)), mask), 0);
  assert.equal(lungMassFraction(Float32Array.from([1, 0, 3, 0, 0, 0, 0, 0]), mask), 0.25);
  assert.ok(Number.isNaN(lungMassFraction(new Float32Array(8), mask)));
  assert.throws(() => lungMassFraction(new Float32Array(4), mask), RangeError);
});

test('lungAttention: per-class means with patient CIs, empty maps dropped, a model below half flagged', () => {
  const rec = (label: number, patient: string, fraction: number) => ({ label, patientId: patient, fraction });
  const records = [rec(0, 'a', 0.9), rec(0, 'a', 0.7), rec(0, 'b', 0.8), rec(1, 'c', 0.1), rec(1, 'd', 0.3), rec(1, 'e', NaN)];
  const a = lungAttention(records, ['covid', 'normal', 'viral'], { resamples: 1000, seed: 1 })!;
  assert.deepEqual(a.rows.map((r) => [r.label, r.n]), [['covid', 3], ['normal', 2]]);
  assert.ok(Math.abs(a.rows[0].mean.point - 0.8) < 1e-12 && Math.abs(a.rows[1].mean.point - 0.2) < 1e-12);
  assert.equal(a.rows[0].mean.patients, 2);
  for (const r of [...a.rows, a.overall]) assert.ok(r.mean.lo <= r.mean.point && r.mean.point <= r.mean.hi);
  assert.deepEqual([a.rows[0].flagged, a.rows[1].flagged], [false, true]);
  assert.ok(Math.abs(a.overall.mean.point - 0.56) < 1e-12);
  assert.equal(a.flagged, a.overall.mean.point < LUNG_ATTENTION_FLOOR);
  assert.equal(lungAttention([rec(0, 'a', NaN)], ['covid']), null);

  const low = lungAttention([rec(0, 'a', 0.2), rec(0, 'b', 0.4)], ['covid'], { resamples: 1000 })!;
  const blocks = lungAttentionBlocks([
    { label: 'ResNet-50 binary', lungs: { segmenter: 'unet-x', attention: low } },
    { label: 'old run', lungs: undefined },
    { label: 'no seg', lungs: { unavailable: 'no lung segmenter is cached' } },
  ]);
  const table = blocks.find((b) => b.kind === 'table');
  assert.ok(table && table.kind === 'table');
  assert.deepEqual(table.rows.map((r) => [r[0], r[1], r[2], r[4]]), [['ResNet-50 binary', 'covid', '2', 'below 50 %'], ['ResNet-50 binary', 'all', '2', 'below 50 %']]);
  const text = blocks.filter((b) => b.kind === 'paragraph').map((b) => (b as { text: string }).text).join('\n');
  assert.match(text, /Flagged: .*ResNet-50 binary \(30\.0 %\)/);
  assert.match(text, /no seg: lungs not scored — no lung segmenter is cached/);
  assert.match(text, /old run: lungs not scored/);
});

/**
 * A network whose Grad-CAM is known: a 1×1 convolution passing the red channel (ReLU of the 'tf'-scaled
 * value, so only bright pixels), pooled, one sigmoid unit with a positive weight. The map of class 0 is then
 * the image's bright part.
 */
function brightNet(size: number): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  const conv = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation: 'relu', name: 'conv1', weights: [tf.tensor4d([1, 0, 0], [1, 1, 3, 1]), tf.zeros([1])] });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(conv.apply(input)) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'head_output', weights: [tf.ones([1, 1]), tf.zeros([1])] }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

test('gradCamImages scores each map against its lung mask on the network view: bright lungs ≈ 1, bright body ≈ 0', { timeout: 60_000 }, async () => {
  const [w, h, size] = [80, 64, 32];
  const lungs = ellipseMask(w, h, lungEllipses(w, h, 2));
  const files: Record<string, string> = {};
  const masks = new Map<string, string>();
  for (const [name, pixels] of [['lungs', lungs], ['body', lungs.map((v) => 255 - v)], ['flat', new Uint8Array(w * h).fill(200)]] as const) {
    const file = path.join(tmp, `${name}.png`);
    await sharp(pixels, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
    const maskFile = maskCacheFile('unet-synthetic', fileSha256(file));
    await writeCachedMask(maskFile, lungs, w, h);
    files[name] = file;
    masks.set(file, maskFile);
  }
  const config = makeRunConfig({
    model: 'bright', task: 'binary', profile: 'tiny', data: [tmp], recipe: 'study', weights: 'none', inputSize: size, enhance: false,
    preprocess: 'tf', defaultInputSize: size, workers: 0,
  });
  const model = brightNet(size);
  const task = taskSpec('binary');
  const rm: RunModel = { dir: tmp, config, task, classes: [...task.classes], model, inference: compileInference(model, { graph: false }), dispose: () => model.dispose() };
  const samples = Object.entries(files).map(([name, file]) => ({ file: name, path: file, label: 'covid' as const, patientId: name }));
  const items = await gradCamImages(rm, samples, { explain: 'label', lungMasks: masks, workers: 0 });
  const share = new Map(items.map((it) => [it.file, it.lungMass!]));
  assert.ok(share.get('lungs')! > 0.9, `lungs ${share.get('lungs')}`);
  assert.ok(share.get('body')! < 0.1, `body ${share.get('body')}`);
  // A flat image gives a flat map: its share is the lungs' share of the view.
  const view = await runLungMaskView(rm, files.flat, masks.get(files.flat)!);
  const area = view.filter((v) => v > 0).length / view.length;
  assert.ok(Math.abs(share.get('flat')! - area) < 0.02, `flat ${share.get('flat')} vs area ${area}`);
  const plain = await gradCamImages(rm, samples.slice(0, 1), { explain: 'label', workers: 0 });
  assert.equal(plain[0].lungMass, undefined);
  rm.dispose();
});
