// Numerics of the native TensorFlow backend (tfjs-node on the TensorFlow C library) against the pure-JS cpu
// backend, and a small CNN trained on it. These tests fail when the native backend is missing, because the
// project's set-up (`npm run setup:native`) provides it everywhere; CXR_SKIP_NATIVE_TESTS=1 skips them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { relErr, values } from './numerics';

const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

type Run = (inputs: tf.Tensor[]) => tf.Tensor[];

async function results(backend: string, shapes: number[][], fn: Run): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend), `cannot switch to ${backend}`);
  return tf.tidy(() => fn(shapes.map((s, i) => tf.tensor(values(s.reduce((a, b) => a * b, 1), 31 + i), s))).map((t) => t.dataSync() as Float32Array));
}

/** The op's value and its gradients with respect to every input, on native TensorFlow and on the cpu backend. */
async function compare(shapes: number[][], op: (...xs: tf.Tensor[]) => tf.Tensor, tol = 1e-4): Promise<void> {
  const fn: Run = (xs) => {
    const y = op(...xs);
    // A non-uniform upstream gradient, so that every position's weight matters.
    const w = tf.tensor(values(y.size, 7), y.shape);
    const grads = tf.grads((...ins: tf.Tensor[]) => op(...ins).mul(w).sum())(xs);
    return [y, ...grads];
  };
  const want = await results('cpu', shapes, fn);
  const got = await results('tensorflow', shapes, fn);
  got.forEach((g, i) => {
    const err = relErr(g, want[i]);
    assert.ok(err <= tol, `${i === 0 ? 'value' : `gradient ${i}`}: relative error ${err} > ${tol}`);
  });
}

test('the native TensorFlow backend loads', { skip }, async () => {
  const info = await initBackend({ backend: 'tensorflow', quiet: true });
  assert.equal(info.tfBackend, 'tensorflow');
  assert.match(info.runtimeVersion ?? '', /^TensorFlow \d+\.\d+/);
  // Whichever way oneDNN was decided, TensorFlow was loaded with that decision.
  assert.ok(info.oneDnn, 'the native backend records its oneDNN decision');
  assert.equal(process.env.TF_ENABLE_ONEDNN_OPTS, info.oneDnn.enabled ? '1' : '0');
});

const conv = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad);
const dw = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad);

const CASES: [string, number[][], (...xs: tf.Tensor[]) => tf.Tensor][] = [
  ['conv2d 3x3 same', [[2, 9, 9, 3], [3, 3, 3, 8]], conv(1, 'same')],
  ['conv2d 3x3 stride 2 same', [[2, 10, 9, 4], [3, 3, 4, 6]], conv(2, 'same')],
  ['conv2d 7x7 stride 2 same', [[1, 17, 17, 3], [7, 7, 3, 4]], conv(2, 'same')],
  ['conv2d 3x3 valid', [[2, 8, 8, 2], [3, 3, 2, 5]], conv(1, 'valid')],
  // The 1x1 convolution that crashes TensorFlow 2.21's oneDNN kernels with SIGFPE.
  ['conv2d 1x1 64->256', [[2, 7, 7, 64], [1, 1, 64, 256]], conv(1, 'valid')],
  ['depthwise conv 3x3 same', [[2, 9, 9, 4], [3, 3, 4, 1]], dw(1, 'same')],
  ['depthwise conv 3x3 stride 2 same x2', [[2, 9, 10, 3], [3, 3, 3, 2]], dw(2, 'same')],
  ['depthwise conv 5x5 valid', [[1, 11, 11, 2], [5, 5, 2, 1]], dw(1, 'valid')],
  ['batch norm', [[2, 5, 5, 6], [6], [6], [6], [6]],
    (x, m, v, o, s) => tf.batchNorm(x as tf.Tensor4D, m as tf.Tensor1D, v.abs().add(0.5) as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3)],
  ['max pool 3x3 stride 2 same', [[2, 9, 9, 3]], (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same')],
  ['max pool 2x2 valid', [[2, 8, 8, 3]], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')],
  ['avg pool 2x2 valid', [[2, 8, 8, 3]], (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid')],
];

for (const [name, shapes, op] of CASES) {
  test(`native ${name} and its gradients match the cpu backend`, { skip }, async () => {
    await initBackend({ backend: 'tensorflow', quiet: true });
    await compare(shapes, op);
  });
}

/**
 * Average pooling with 'same' padding as TensorFlow defines it (padding is not counted), and its gradient for the
 * upstream gradient `w`: the reference for the case where the cpu backend's gradient is wrong (it divides by the
 * full window size).
 */
function avgPoolSameReference(x: Float32Array, [b, h, wd, c]: number[], k: number, s: number, w: Float32Array) {
  const oh = Math.ceil(h / s);
  const ow = Math.ceil(wd / s);
  const top = Math.floor(Math.max((oh - 1) * s + k - h, 0) / 2);
  const left = Math.floor(Math.max((ow - 1) * s + k - wd, 0) / 2);
  const y = new Float32Array(b * oh * ow * c);
  const dx = new Float32Array(x.length);
  for (let n = 0; n < b; n++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let ch = 0; ch < c; ch++) {
    const r0 = Math.max(i * s - top, 0), r1 = Math.min(i * s - top + k, h);
    const c0 = Math.max(j * s - left, 0), c1 = Math.min(j * s - left + k, wd);
    const count = (r1 - r0) * (c1 - c0);
    const o = ((n * oh + i) * ow + j) * c + ch;
    let sum = 0;
    for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) {
      const at = ((n * h + r) * wd + q) * c + ch;
      sum += x[at];
      dx[at] += w[o] / count;
    }
    y[o] = sum / count;
  }
  return [y, dx];
}

test('native avg pool 3x3 stride 2 same and its gradient match TensorFlow\'s definition', { skip }, async () => {
  await initBackend({ backend: 'tensorflow', quiet: true });
  const shape = [2, 9, 9, 3];
  const xv = values(2 * 9 * 9 * 3, 31);
  const wv = values(2 * 5 * 5 * 3, 7);
  const want = avgPoolSameReference(xv, shape, 3, 2, wv);
  const got = await results('tensorflow', [shape], ([x]) => {
    const pool = (t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, 3, 2, 'same');
    const w = tf.tensor(wv, [2, 5, 5, 3]);
    return [pool(x), tf.grad((t: tf.Tensor) => pool(t).mul(w).sum())(x)];
  });
  got.forEach((g, i) => assert.ok(relErr(g, want[i]) <= 1e-5, `${i ? 'gradient' : 'value'}: relative error ${relErr(g, want[i])}`));
});

test('a small CNN trains on the native backend: the loss falls', { skip }, async () => {
  await initBackend({ backend: 'tensorflow', quiet: true });
  assert.ok(await tf.setBackend('tensorflow'));
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2 }),
      tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const n = 32;
  const imgs = new Float32Array(n * 256);
  for (let i = 0; i < n; i++) {
    const [oy, ox] = i % 2 === 0 ? [2, 2] : [10, 10];
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) imgs[i * 256 + (oy + y) * 16 + ox + x] = 1;
  }
  const noise = values(n * 256, 9).map((v) => v * 0.1);
  const xs = tf.tensor4d(imgs.map((v, i) => v + noise[i]), [n, 16, 16, 1]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32'), 2);
  const hist = await model.fit(xs, ys, { epochs: 15, batchSize: 8, verbose: 0, shuffle: false });
  const loss = hist.history.loss as number[];
  assert.ok(loss.at(-1)! < loss[0] * 0.6, `loss did not fall enough: ${loss[0]} -> ${loss.at(-1)}`);
  tf.dispose([xs, ys]);
  model.dispose();
});
