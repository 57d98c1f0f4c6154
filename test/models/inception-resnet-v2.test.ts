import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { weightedLayers } from '../../lib/models/assign-weights';
import { inceptionResNetV2, inceptionResNetV2Spec } from '../../lib/models/inception-resnet-v2';
import { CustomScaleLayer, customScale } from '../../lib/models/layers';
import { getBackbone } from '../../lib/models/registry';
import { assertKerasParity, ensureParityFixture, relativeDiff } from './parity';

const TOLERANCE = 1e-4;

type Config = Record<string, unknown>;

test('InceptionResNetV2 at 299 px keeps Keras details: parameters, conv2d_bn, scaled residuals, names', () => {
  const model = inceptionResNetV2({ pooling: 'none' });
  try {
    assert.equal(model.countParams(), 54_336_736);
    assert.equal(model.layers.length, 780);
    assert.equal(weightedLayers(model).length, 448);
    assert.deepEqual(model.outputs[0].shape, [null, 8, 8, 1536]);
    assert.equal(model.layers[model.layers.length - 1].name, inceptionResNetV2Spec.lastConvLayer);
    assert.deepEqual(model.layers.slice(0, 5).map((l) => l.name),
      ['input_layer', 'conv2d', 'batch_normalization', 'activation', 'conv2d_1']);
    for (const name of ['mixed_5b', 'mixed_6a', 'mixed_7a', 'block35_1_mixed', 'block35_1_conv', 'block35_1_ac',
      'block17_20_ac', 'block8_9_ac', 'block8_10_conv', 'conv_7b', 'conv_7b_bn', 'conv_7b_ac']) {
      assert.ok(model.getLayer(name), name);
    }
    assert.throws(() => model.getLayer('block8_10_ac'), /No such layer/);
    // conv2d_bn: no conv bias, BatchNorm without gamma (scale=False), Keras default epsilon.
    for (const l of model.layers.filter((x) => x.getClassName() === 'FrozenBatchNormalization')) {
      const c = l.getConfig() as Config;
      assert.deepEqual([c.scale, c.center, c.epsilon, c.momentum], [false, true, 1e-3, 0.99], l.name);
      assert.equal(l.weights.length, 3, l.name);
    }
    assert.equal((model.getLayer('conv2d').getConfig() as Config).useBias, false);
    assert.equal((model.getLayer('block35_1_conv').getConfig() as Config).useBias, true);
    const scales = model.layers.filter((l) => l instanceof CustomScaleLayer).map((l) => [l.name, (l as CustomScaleLayer).scale]);
    assert.equal(scales.length, 40);
    assert.deepEqual(scales[0], ['block35_1', 0.17]);
    assert.deepEqual(scales[10], ['block17_1', 0.1]);
    assert.deepEqual(scales[38], ['block8_9', 0.2]);
    assert.deepEqual(scales[39], ['block8_10', 1]);
    // The scale is in each layer's serialized config, so saved models keep it.
    const json = JSON.stringify(model.toJSON(null, false));
    assert.equal(json.match(/"class_name":"CustomScaleLayer"/g)?.length, 40);
  } finally {
    model.dispose();
  }
  assert.equal(getBackbone('InceptionResNetV2'), inceptionResNetV2Spec);
  assert.equal(inceptionResNetV2Spec.paramsNoTop, 54_336_736);
  assert.equal(inceptionResNetV2Spec.preprocess, 'tf');
  assert.deepEqual([inceptionResNetV2Spec.defaultInputSize, inceptionResNetV2Spec.minInputSize], [299, 75]);
  const w = inceptionResNetV2Spec.weights;
  assert.equal(w.kind === 'keras-h5' && w.md5, 'd19885ff4a710c122648d3b5c3b684e4');
});

test('InceptionResNetV2 pooling and minimum input size follow Keras', () => {
  const max = inceptionResNetV2({ inputSize: 75, pooling: 'max' });
  assert.deepEqual(max.outputs[0].shape, [null, 1536]);
  assert.equal(max.layers[max.layers.length - 1].getClassName(), 'GlobalMaxPooling2D');
  max.dispose();
  assert.throws(() => inceptionResNetV2({ inputSize: 74 }), /at least 75 px, got 74/);
});

test('CustomScaleLayer computes x + scale * residual and round-trips through its config', async () => {
  const x = tf.input({ shape: [2, 2, 3] });
  const r = tf.input({ shape: [2, 2, 3] });
  const y = customScale({ scale: 0.17, name: 'block35_1' }).apply([x, r]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [x, r], outputs: y });
  const back = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) });
  const layer = back.getLayer('block35_1');
  assert.ok(layer instanceof CustomScaleLayer);
  assert.equal(layer.scale, 0.17);
  const a = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 1);
  const b = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 2);
  const want = a.add(b.mul(0.17));
  const got = back.predict([a, b]) as tf.Tensor;
  assert.ok(relativeDiff(got.dataSync(), want.dataSync()) < 1e-7);
  tf.dispose([a, b, want, got]);
  assert.throws(() => customScale({ scale: 1 }).apply([x, tf.input({ shape: [2, 2, 4] })]), /input shapes differ/);
  assert.throws(() => customScale({ scale: Number.NaN }), /finite/);
});

const PARITY_LAYERS = ['activation_2', 'mixed_5b', 'block35_10_ac', 'mixed_6a', 'block17_20_ac', 'mixed_7a',
  'block8_9_ac', 'block8_10', 'conv_7b_ac'];

test('InceptionResNetV2 matches Keras at 107 px (weights, pooled output, intermediate blocks) on every backend', async () => {
  const fx = ensureParityFixture('inceptionresnetv2', { size: 107, layers: PARITY_LAYERS.map(kerasName) });
  const model = inceptionResNetV2({ inputSize: 107 });
  try {
    await assertKerasParity(model, fx, { layers: PARITY_LAYERS, mode: 'tf', tolerance: TOLERANCE });
  } finally {
    await tf.setBackend('cpu');
    model.dispose();
    fx.input.dispose();
  }
});

/** Keras 3 names the scaled residual `custom_scale_layer_N`; ours carries tf.keras 2's block name. */
function kerasName(name: string): string {
  return name === 'block8_10' ? 'custom_scale_layer_39' : name;
}
