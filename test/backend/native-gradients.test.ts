// The native ReLU and frozen batch-norm gradients (lib/backend/native-gradients) on tfjs-node, against TF.js's
// stock gradients on the pure-JS cpu backend. Like native.test.ts these need the native backend, which the
// project's set-up provides; CXR_SKIP_NATIVE_TESTS=1 skips them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { batchNormInference } from '../../lib/backend/native-gradients';
import { FrozenBatchNormalization, frozenBatchNorm } from '../../lib/models/layers-bn';
import { relErr, values } from './numerics';

const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

const tensor = (shape: number[], seed: number) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);

/** Value and gradients of `sum(op(inputs) · w)` for a fixed non-uniform w, on `backend`. */
async function valueAndGrads(backend: string, shapes: number[][], op: (...xs: tf.Tensor[]) => tf.Tensor): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend), `cannot switch to ${backend}`);
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => tensor(s, 41 + i));
    const y = op(...xs);
    const w = tf.tensor(values(y.size, 7), y.shape);
    const grads = tf.grads((...ins: tf.Tensor[]) => op(...ins).mul(w).sum())(xs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** Runs `op` on native TensorFlow (counting the kernels it runs) and on cpu with the stock `reference`. */
async function assertMatchesStock(shapes: number[][], op: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor,
  nativeKernel: string): Promise<void> {
  await initBackend({ backend: 'tensorflow', quiet: true });
  const want = await valueAndGrads('cpu', shapes, reference);
  const before = tf.memory().numTensors;
  let got: Float32Array[] = [];
  const prof = await tf.profile(async () => {
    got = await valueAndGrads('tensorflow', shapes, op);
  });
  assert.equal(tf.memory().numTensors, before, 'native gradients leak tensors');
  assert.ok(prof.kernelNames.includes(nativeKernel), `${nativeKernel} did not run (kernels: ${prof.kernelNames.join(', ')})`);
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const err = relErr(g, want[i]);
    assert.ok(err <= 1e-4, `${i === 0 ? 'value' : `gradient ${i}`}: relative error ${err} > 1e-4`);
  });
}

// The references use max(x, 0): once registered, the Relu gradient on cpu is this module's copy of the stock
// formula, so tf.relu on cpu would not be an independent reference. (No input is exactly 0, where they differ.)
test('native ReLU gradient matches the stock gradient on cpu', { skip }, async () => {
  await assertMatchesStock([[2, 7, 5, 6]], (x) => tf.relu(x), (x) => tf.maximum(x, 0), 'CxrNativeReluGrad');
});

// tf.fused.conv2d applies its activation unfused (the Relu kernel) whenever gradients are being recorded.
test('native ReLU gradient through a conv2d with fused relu (as trained by tf.layers.conv2d) matches cpu', { skip }, async () => {
  const op = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' });
  const reference = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => tf.maximum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').add(b), 0);
  await assertMatchesStock([[2, 6, 6, 3], [3, 3, 3, 4], [4]], op, reference, 'CxrNativeReluGrad');
});

// x, mean, variance (made positive), offset, scale: the op's gradients with respect to all five.
const BN_SHAPES = [[2, 5, 4, 6], [6], [6], [6], [6]];
const positive = (v: tf.Tensor) => v.abs().add(0.5);

test('frozen batch norm: value and gradients (x, mean, variance, offset, scale) match tf.batchNorm on cpu', { skip }, async () => {
  await assertMatchesStock(BN_SHAPES,
    (x, m, v, o, s) => batchNormInference(x, m, positive(v), o, s, 1.001e-5),
    (x, m, v, o, s) => tf.batchNorm(x as tf.Tensor4D, m as tf.Tensor1D, positive(v) as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, 1.001e-5),
    'CxrFrozenBatchNormGrad');
});

test('frozen batch norm: gradients of x, gamma and beta through the layer match the cpu backend', { skip }, async () => {
  await initBackend({ backend: 'tensorflow', quiet: true });
  for (const args of [{}, { scale: false }, { center: false }]) {
    const run = async (backend: string) => {
      assert.ok(await tf.setBackend(backend));
      const layer = frozenBatchNorm({ epsilon: 1e-3, ...args });
      layer.apply(tf.input({ shape: [4, 5, 6] }));
      // Statistics and parameters away from 0 and 1, so each of them matters.
      layer.setWeights(layer.weights.map((w, i) => {
        const v = tensor([6], 60 + i);
        return w.originalName.endsWith('moving_variance') ? positive(v) : v;
      }));
      const x = tensor([3, 4, 5, 6], 70);
      const w = tensor([3, 4, 5, 6], 71);
      const f = () => (layer.apply(x) as tf.Tensor).mul(w).sum() as tf.Scalar;
      // LayerVariable.read() is the tf.Variable itself, which variableGrads needs.
      const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const { grads } = tf.variableGrads(f, vars);
      const dx = tf.grad((xx: tf.Tensor) => (layer.apply(xx) as tf.Tensor).mul(w).sum())(x);
      const out = [dx, ...vars.map((v) => grads[v.name])];
      const data = out.map((t) => t.dataSync() as Float32Array);
      tf.dispose([x, w, dx, ...Object.values(grads)]);
      layer.dispose();
      return data;
    };
    const want = await run('cpu');
    const got = await run('tensorflow');
    assert.equal(got.length, want.length);
    assert.equal(got.length, 1 + (args.scale === false || args.center === false ? 1 : 2), JSON.stringify(args));
    got.forEach((g, i) => {
      const err = relErr(g, want[i]);
      assert.ok(err <= 1e-4, `${JSON.stringify(args)} gradient ${i}: relative error ${err} > 1e-4`);
    });
  }
});

// Compared with the formula rather than the cpu backend, whose batchNorm kernel indexes the parameters as if the
// channel axis were last.
test('frozen batch norm with the channel axis not last still normalises per channel on native TensorFlow', { skip }, async () => {
  await initBackend({ backend: 'tensorflow', quiet: true });
  assert.ok(await tf.setBackend('tensorflow'));
  const layer = frozenBatchNorm({ axis: 1, epsilon: 1e-3 });
  layer.apply(tf.input({ shape: [3, 4, 5] }));
  const params = [0, 1, 2, 3].map((i) => tensor([3], 80 + i));
  params[3] = positive(params[3]);
  layer.setWeights(params);
  const [gamma, beta, mean, variance] = params.map((p) => p.reshape([1, 3, 1, 1]));
  const formula = (x: tf.Tensor) => x.sub(mean).mul(tf.rsqrt(variance.add(1e-3))).mul(gamma).add(beta);
  const x = tensor([2, 3, 4, 5], 90);
  const w = tensor([2, 3, 4, 5], 91);
  const dx = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad((xx: tf.Tensor) => f(xx).mul(w).sum())(x);
  const viaLayer = (xx: tf.Tensor) => layer.apply(xx) as tf.Tensor;
  for (const [got, want] of [[viaLayer(x), formula(x)], [dx(viaLayer), dx(formula)]]) {
    const err = relErr(got.dataSync() as Float32Array, want.dataSync() as Float32Array);
    assert.ok(err <= 1e-5, `relative error ${err} > 1e-5`);
  }
  layer.dispose();
});

test('FrozenBatchNormalization trains on native TensorFlow: gamma and beta change, moving statistics do not', { skip }, async () => {
  await initBackend({ backend: 'tensorflow', quiet: true });
  assert.ok(await tf.setBackend('tensorflow'));
  const input = tf.input({ shape: [6, 6, 3] });
  const bn = frozenBatchNorm({ name: 'bn' });
  let y = bn.apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(input)) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 1 }).apply(tf.layers.flatten().apply(y)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y });
  assert.ok(bn instanceof FrozenBatchNormalization);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
  const x = tf.randomUniform([8, 6, 6, 3], -2, 2, 'float32', 3);
  const t = tf.randomUniform([8, 1], 0, 1, 'float32', 4);
  await model.fit(x, t, { epochs: 2, batchSize: 4, verbose: 0 });
  const prof = await tf.profile(() => model.trainOnBatch(x, t));
  for (const k of ['CxrFrozenBatchNorm', 'CxrFrozenBatchNormGrad', 'CxrNativeReluGrad']) assert.ok(prof.kernelNames.includes(k), `${k} not used`);
  assert.ok(!prof.kernelNames.includes('Step'), 'the ReLU gradient still goes through Step');
  const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
  assert.notDeepEqual(after[0], before[0], 'gamma trains');
  assert.notDeepEqual(after[1], before[1], 'beta trains');
  assert.deepEqual(after.slice(2), before.slice(2), 'moving statistics unchanged');
  tf.dispose([x, t]);
  model.dispose();
});
