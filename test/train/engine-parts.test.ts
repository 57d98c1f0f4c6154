import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { EarlyStopping, ReduceLrOnPlateau } from '../../lib/train/callbacks';
import { FeatureStore } from '../../lib/train/feature-cache';
import { cutModel, setTrainableLayers, trainableVariables } from '../../lib/models/cut';
import { attachHead, HEAD_POOL_LAYER, SeededDropout, STUDY_HEAD } from '../../lib/train/head';
import { hashSeed, mulberry32, Rng, withSeededMathRandom } from '../../lib/random';
import { taskSpec } from '../../lib/train/tasks';
import { tempDir } from './helpers';
import { tinyBackbone } from './tiny-backbone';

const logs = (val_accuracy: number, val_loss = 1) => ({ loss: 1, accuracy: 0.5, val_loss, val_accuracy });

test('Rng streams are fixed by their parts and differ between parts', () => {
  const a = new Rng(42, 'shuffle', 0, 3);
  const b = new Rng(42, 'shuffle', 0, 3);
  const c = new Rng(42, 'shuffle', 0, 4);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.nextUint32()), xs);
  assert.notEqual(hashSeed(1, 23), hashSeed(12, 3));
  const mean = Array.from({ length: 10000 }, () => a.next()).reduce((s, v) => s + v, 0) / 10000;
  assert.ok(Math.abs(mean - 0.5) < 0.02);
  assert.deepEqual(new Rng(1).shuffle([1, 2, 3, 4, 5, 6]).sort(), [1, 2, 3, 4, 5, 6]);
});

test('both generators draw the values recorded runs, splits and intervals were made with', () => {
  // Pinned from the two modules this one replaced (lib/random.ts, lib/train/rng.ts): a change here
  // changes every split, bootstrap interval and training run of a given seed.
  const m = mulberry32(42);
  assert.deepEqual([m(), m(), m()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  const r = new Rng(42, 'shuffle', 1, 2);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [2912611917, 788143890, 2649560484]);
  assert.equal(hashSeed(42, 'x', 1.5), 847056065);
});

test('withSeededMathRandom makes unseeded TF.js initializers repeatable and restores Math.random', () => {
  const original = Math.random;
  // Weights are created when a layer is built into a model, so the whole build runs in the scope.
  const build = () => withSeededMathRandom(9, () => tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] }));
  const w = (m: tf.Sequential) => Array.from(m.getWeights()[0].dataSync());
  assert.deepEqual(w(build()), w(build()));
  assert.equal(Math.random, original);
});

test('EarlyStopping follows Keras: strict improvement, stop after patience, best epoch kept', () => {
  const es = new EarlyStopping({ monitor: 'val_accuracy', patience: 2, restoreBest: true });
  assert.deepEqual(es.update(0, logs(0.5)), { improved: true, stop: false });
  assert.deepEqual(es.update(1, logs(0.5)), { improved: false, stop: false }); // equal is not better
  assert.deepEqual(es.update(2, logs(0.4)), { improved: false, stop: true });
  assert.equal(es.bestEpoch, 0);
  const resumed = new EarlyStopping(es.cfg, JSON.parse(JSON.stringify(es.state())));
  assert.equal(resumed.best, 0.5);
  assert.equal(resumed.wait, 2);
});

test('ReduceLROnPlateau follows Keras: factor after patience, floor at min_lr, min_delta', () => {
  const r = new ReduceLrOnPlateau({ monitor: 'val_loss', factor: 0.1, patience: 2, minLr: 2e-6, minDelta: 1e-4 });
  let lr = 1e-3;
  lr = r.update(logs(0, 1.0), lr);
  lr = r.update(logs(0, 0.99995), lr); // within min_delta: no improvement
  assert.equal(lr, 1e-3);
  lr = r.update(logs(0, 1.0), lr);
  assert.ok(Math.abs(lr - 1e-4) < 1e-12);
  for (let i = 0; i < 10; i++) lr = r.update(logs(0, 2), lr);
  assert.equal(lr, 2e-6);
});

test('tasks: binary and categorical cross-entropy and accuracy as Keras computes them', () => {
  const bin = taskSpec('binary');
  assert.deepEqual(bin.classes, ['covid', 'not-covid']);
  assert.deepEqual(bin.target('covid'), [1]);
  assert.deepEqual(bin.target('viral'), [0]);
  const yt = tf.tensor2d([[1], [0]]);
  const yp = tf.tensor2d([[0.8], [0.3]]);
  const expected = -(Math.log(0.8) + Math.log(0.7)) / 2;
  assert.ok(Math.abs(bin.loss(yt, yp).dataSync()[0] - expected) < 1e-6);
  assert.deepEqual(Array.from(bin.correct(yt, tf.tensor2d([[0.8], [0.6]])).dataSync()), [1, 0]);
  const multi = taskSpec('multiclass');
  assert.deepEqual(multi.target('viral'), [0, 1, 0]);
  const l = multi.loss(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[0.2, 0.5, 0.3]])).dataSync()[0];
  assert.ok(Math.abs(l + Math.log(0.5)) < 1e-6);
});

test('cutting a model: prefix then suffix equals the full model, and the suffix shares its weights', () => {
  const model = attachHead(tinyBackbone(32, 3), taskSpec('multiclass'), STUDY_HEAD, 11);
  const x = tf.randomUniform([3, 32, 32, 3], -1, 1, 'float32', 7);
  const full = model.predict(x) as tf.Tensor;
  for (const after of ['stem_relu', 'block1_out', HEAD_POOL_LAYER]) {
    const cut = cutModel(model, after);
    const y = cut.suffix.predict(cut.prefix!.predict(x)) as tf.Tensor;
    assert.ok(tf.sub(y, full).abs().max().dataSync()[0] < 1e-5, after);
  }
  assert.deepEqual(cutModel(model, 'block1_out').boundary, [[16, 16, 8]]);
  assert.throws(() => cutModel(model, 'nope'), /no such layer/);
  // Training the suffix changes the full model.
  const cut = cutModel(model, 'block1_out');
  setTrainableLayers(model, cut.suffixLayers);
  const vars = trainableVariables(cut.suffixLayers);
  assert.ok(vars.length > 0 && model.getLayer('stem_conv').trainableWeights.length === 0);
  vars.forEach((v) => v.assign(v.mul(0.5)));
  assert.ok(tf.sub(model.predict(x) as tf.Tensor, full).abs().max().dataSync()[0] > 1e-4);
});

test('SeededDropout: masks depend on (seed, step) only, inverted scaling, identity at inference', () => {
  const d = new SeededDropout({ rate: 0.5, seed: 3 });
  const x = tf.ones([4, 1000]);
  const a = d.apply(x, { training: true, noiseStep: 1 }) as tf.Tensor;
  const b = d.apply(x, { training: true, noiseStep: 1 }) as tf.Tensor;
  const c = d.apply(x, { training: true, noiseStep: 2 }) as tf.Tensor;
  assert.deepEqual(a.dataSync(), b.dataSync());
  assert.notDeepEqual(a.dataSync(), c.dataSync());
  const values = new Set(Array.from(a.dataSync()));
  assert.deepEqual([...values].sort(), [0, 2]);
  const kept = Array.from(a.dataSync()).filter((v) => v > 0).length / 4000;
  assert.ok(Math.abs(kept - 0.5) < 0.05);
  assert.deepEqual((d.apply(x, { training: false }) as tf.Tensor).dataSync(), x.dataSync());
});

test('FeatureStore round-trips entries, tells what is cached, and refuses a folder of other features', () => {
  const root = tempDir('cxr-feat-');
  const key = { model: 'tiny', weightsId: 'w', inputSize: 32, fit: 'stretch', preprocess: 'tf', enhance: 'none', cut: 'block1_out' };
  const store = new FeatureStore(key, [[2, 2], [3]], root);
  assert.equal(store.length, 7);
  assert.equal(store.has('abc'), false);
  store.write('abc', null, Float32Array.from([1, 2, 3, 4, 5, 6, 7]));
  store.write('abc', 2, Float32Array.from([7, 6, 5, 4, 3, 2, 1]));
  const out = new Float32Array(9);
  store.readInto('abc', null, out, 1);
  assert.deepEqual(Array.from(out), [0, 1, 2, 3, 4, 5, 6, 7, 0]);
  assert.ok(store.has('abc', 2) && !store.has('abc', 1));
  assert.equal(new FeatureStore({ ...key }, [[2, 2], [3]], root).dir, store.dir);
  assert.notEqual(new FeatureStore({ ...key, enhance: 'wb1' }, [[2, 2], [3]], root).dir, store.dir);
  assert.throws(() => store.readInto('missing', null, out, 0), /cached features missing/);
});
