import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { FrozenBatchNormalization, frozenBatchNorm } from '../../lib/models/layers-bn';

function tinyModel(bnArgs: { scale?: boolean; center?: boolean }): { model: tf.LayersModel; bn: FrozenBatchNormalization } {
  const input = tf.input({ shape: [6, 6, 3] });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
  const bn = frozenBatchNorm({ epsilon: 1.001e-5, name: 'bn', ...bnArgs });
  let x = bn.apply(conv.apply(input)) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  // Non-trivial statistics, so "used the moving stats" and "used the batch stats" differ.
  bn.setWeights(bn.weights.map((w) => {
    const n = w.shape[0] as number;
    const base = w.originalName.endsWith('moving_variance') ? 2 : w.originalName.endsWith('gamma') ? 1.5 : 0.3;
    return tf.add(tf.fill([n], base), tf.linspace(0, 0.1 * n, n));
  }));
  return { model, bn };
}

const data = () => ({ x: tf.randomUniform([8, 6, 6, 3], -2, 2, 'float32', 3), y: tf.randomUniform([8, 1], 0, 1, 'float32', 4) });

test('FrozenBatchNormalization gives the same output with training=true and training=false', () => {
  const { model } = tinyModel({});
  const { x } = data();
  const inference = model.predict(x) as tf.Tensor;
  const training = model.apply(x, { training: true }) as tf.Tensor;
  assert.deepEqual(Array.from(training.dataSync()), Array.from(inference.dataSync()));
  // A stock BatchNormalization would normalise with the batch statistics here and differ.
  const stock = tf.layers.batchNormalization({});
  const convOut = tf.randomNormal([8, 4, 4, 4], 5, 3, 'float32', 5);
  const a = stock.apply(convOut, { training: true }) as tf.Tensor;
  const b = stock.apply(convOut, { training: false }) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] > 0.1);
});

test('fit() leaves moving statistics unchanged and still trains gamma and beta', async () => {
  const { model, bn } = tinyModel({});
  const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
  const { x, y } = data();
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
  const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
  const names = bn.weights.map((w) => w.originalName.split('/').pop());
  assert.deepEqual(names, ['gamma', 'beta', 'moving_mean', 'moving_variance']);
  assert.notDeepEqual(after[0], before[0], 'gamma trains');
  assert.notDeepEqual(after[1], before[1], 'beta trains');
  assert.deepEqual(after[2], before[2], 'moving_mean unchanged');
  assert.deepEqual(after[3], before[3], 'moving_variance unchanged');
});

test('scale=false BatchNorm (InceptionResNetV2) trains beta only; trainable=false freezes everything', async () => {
  const { model, bn } = tinyModel({ scale: false });
  assert.deepEqual(bn.weights.map((w) => w.originalName.split('/').pop()), ['beta', 'moving_mean', 'moving_variance']);
  const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
  const { x, y } = data();
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
  assert.notDeepEqual(after[0], before[0]);
  assert.deepEqual(after.slice(1), before.slice(1));

  bn.trainable = false;
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  assert.deepEqual(bn.getWeights().map((w) => Array.from(w.dataSync())), after);
  // Order is kept when frozen too (Keras loads weights in this order).
  assert.deepEqual(bn.weights.map((w) => w.originalName.split('/').pop()), ['beta', 'moving_mean', 'moving_variance']);
});
