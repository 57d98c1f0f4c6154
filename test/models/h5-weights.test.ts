import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CxrError, InputFileError } from '../../lib/errors';
import { listH5Weights, loadKerasH5Weights, saveKerasH5Weights } from '../../lib/models/h5-weights';
import { frozenBatchNorm } from '../../lib/models/layers-bn';

function tiny(filters = 4, seed = 1): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3], name: 'in' });
  let x = tf.layers.conv2d({ filters, kernelSize: 3, name: 'c1', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = frozenBatchNorm({ name: 'b1', scale: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'r1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'p' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2, name: 'd', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-h5-'));
const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('legacy Keras .h5 round trip: names, shapes, values, in layer order', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'w.h5');
  const a = tiny();
  a.getLayer('b1').setWeights([tf.fill([4], 0.2), tf.fill([4], -0.5), tf.fill([4], 3)]);
  await saveKerasH5Weights(a, file);
  assert.deepEqual(await listH5Weights(file), [
    { layer: 'c1', weights: [{ name: 'c1/kernel:0', shape: [3, 3, 3, 4] }, { name: 'c1/bias:0', shape: [4] }] },
    { layer: 'b1', weights: [{ name: 'b1/beta:0', shape: [4] }, { name: 'b1/moving_mean:0', shape: [4] }, { name: 'b1/moving_variance:0', shape: [4] }] },
    { layer: 'd', weights: [{ name: 'd/kernel:0', shape: [4, 2] }, { name: 'd/bias:0', shape: [2] }] },
  ]);
  const b = tiny(4, 7);
  assert.notDeepEqual(values(b), values(a));
  await loadKerasH5Weights(b, file);
  assert.deepEqual(values(b), values(a));
  fs.rmSync(dir, { recursive: true });
});

test('shape or layer-count mismatches name the layer and shapes and leave the model unchanged', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'w.h5');
  await saveKerasH5Weights(tiny(4), file);
  const other = tiny(5);
  const before = values(other);
  await assert.rejects(loadKerasH5Weights(other, file), (err: Error) =>
    err instanceof CxrError && /layer #0 "c1" has shape \[3,3,3,4\] but model weight "c1\/kernel" of layer "c1" has shape \[3,3,3,5\]/.test(err.message));
  assert.deepEqual(values(other), before);

  const input = tf.input({ shape: [8, 8, 3] });
  const single = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 4, kernelSize: 3 }).apply(input) as tf.SymbolicTensor });
  await assert.rejects(loadKerasH5Weights(single, file), /holds weights for 3 layers but model .* has 1 layers with weights/);
  fs.rmSync(dir, { recursive: true });
});

test('missing and non-HDF5 files are reported with their path', async () => {
  const dir = tmpDir();
  await assert.rejects(loadKerasH5Weights(tiny(), path.join(dir, 'none.h5')), (e: Error) => e instanceof InputFileError && /none\.h5: weights file not found/.test(e.message));
  const bogus = path.join(dir, 'bogus.h5');
  fs.writeFileSync(bogus, 'not hdf5 at all');
  await assert.rejects(listH5Weights(bogus), (e: Error) => e instanceof InputFileError && e.message.startsWith(bogus));
  fs.rmSync(dir, { recursive: true });
});
