import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '../../lib/backend/wasm-gradients';
import { relErr, values } from './numerics';

registerWasmGradients();

type Shape = number[];
type Run = (inputs: tf.Tensor[]) => tf.Tensor;

/** Runs `fn` on the named backend with fresh tensors; returns the flat result. */
async function on(backend: string, shapes: Shape[], fn: Run): Promise<Float32Array> {
  assert.ok(await tf.setBackend(backend));
  return tf.tidy(() => fn(shapes.map((s, i) => tf.tensor(values(s.reduce((a, b) => a * b, 1), 17 + i), s))).dataSync() as Float32Array);
}

async function assertMatchesCpu(shapes: Shape[], fn: Run): Promise<void> {
  const want = await on('cpu', shapes, fn);
  const before = tf.memory().numTensors;
  const got = await on('wasm', shapes, fn);
  assert.equal(tf.memory().numTensors, before, 'wasm gradient kernels leak tensors');
  const err = relErr(got, want);
  assert.ok(err <= 1e-4, `relative error ${err} > 1e-4`);
}

const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) =>
  tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;

type Case = { x: Shape; k: number; out: number; stride: number; pad: 'same' | 'valid' | number };
const CONV_CASES: Case[] = [
  { x: [2, 9, 9, 3], k: 3, out: 4, stride: 1, pad: 'same' },
  { x: [2, 9, 8, 3], k: 3, out: 5, stride: 2, pad: 'same' },
  { x: [1, 10, 10, 2], k: 3, out: 3, stride: 2, pad: 'valid' },
  { x: [2, 7, 7, 4], k: 1, out: 6, stride: 1, pad: 'valid' },
  { x: [1, 15, 15, 3], k: 7, out: 4, stride: 2, pad: 'same' },
  { x: [1, 8, 8, 2], k: 3, out: 2, stride: 1, pad: 1 },
];

for (const c of CONV_CASES) {
  test(`Conv2DBackpropFilter on wasm matches cpu: x ${c.x} k${c.k} s${c.stride} ${c.pad}`, async () => {
    const w: Shape = [c.k, c.k, c.x[3], c.out];
    await assertMatchesCpu([c.x, w], ([x, f]) => tf.grad((ff: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, ff as tf.Tensor4D, c.stride, c.pad).square().sum())(f));
  });
}

type DwCase = Case & { mult: number };
const DW_CASES: DwCase[] = [
  { x: [2, 9, 9, 3], k: 3, out: 0, mult: 1, stride: 1, pad: 'same' },
  { x: [2, 9, 8, 3], k: 3, out: 0, mult: 2, stride: 2, pad: 'same' },
  { x: [1, 10, 11, 4], k: 5, out: 0, mult: 1, stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 2], k: 3, out: 0, mult: 3, stride: 1, pad: 'valid' },
];

for (const c of DW_CASES) {
  const label = `x ${c.x} k${c.k} m${c.mult} s${c.stride} ${c.pad}`;
  const w: Shape = [c.k, c.k, c.x[3], c.mult];
  const d = 1;
  const outShape = (x: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad as 'same', 'NHWC', d).shape;
  test(`DepthwiseConv2dNativeBackpropFilter on wasm matches cpu: ${label}`, async () => {
    await assertMatchesCpu([c.x, w], ([x, f]) => {
      const dy = tf.tensor(values(outShape(x, f).reduce((a, b) => a * b, 1), 5), outShape(x, f));
      return kernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: c.stride, dilations: d, pad: c.pad, filterShape: w });
    });
  });
  test(`DepthwiseConv2dNativeBackpropInput on wasm matches cpu: ${label}`, async () => {
    await assertMatchesCpu([c.x, w], ([x, f]) => {
      const dy = tf.tensor(values(outShape(x, f).reduce((a, b) => a * b, 1), 5), outShape(x, f));
      return kernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { strides: c.stride, dilations: d, pad: c.pad, inputShape: c.x });
    });
  });
}

test('dilated depthwise gradients are refused on wasm, as everywhere else', async () => {
  assert.ok(await tf.setBackend('wasm'));
  const x = tf.zeros([1, 9, 9, 2]);
  const dy = tf.zeros([1, 9, 9, 2]);
  assert.throws(() => kernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, dilations: 2, pad: 'same', filterShape: [3, 3, 2, 1] }), /dilation 1/);
  tf.dispose([x, dy]);
});

test('a small CNN (conv, depthwise conv, batch norm) trains on wasm: the loss falls', async () => {
  assert.ok(await tf.setBackend('wasm'));
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2 }),
      tf.layers.conv2d({ filters: 8, kernelSize: 1, activation: 'relu' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  // Two classes a CNN separates easily: a bright square in the top-left vs bottom-right quadrant.
  const n = 32;
  const xs = tf.tidy(() => {
    const imgs = new Float32Array(n * 256);
    for (let i = 0; i < n; i++) {
      const [oy, ox] = i % 2 === 0 ? [2, 2] : [10, 10];
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) imgs[i * 256 + (oy + y) * 16 + ox + x] = 1;
    }
    return tf.tensor4d(imgs, [n, 16, 16, 1]).add(tf.randomNormal([n, 16, 16, 1], 0, 0.1, 'float32', 3));
  });
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32'), 2);
  const hist = await model.fit(xs, ys, { epochs: 15, batchSize: 8, verbose: 0, shuffle: false });
  const loss = hist.history.loss as number[];
  assert.ok(loss.at(-1)! < loss[0] * 0.6, `loss did not fall enough: ${loss[0]} -> ${loss.at(-1)}`);
  tf.dispose([xs, ys]);
  model.dispose();
});
