import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { weightedLayers } from '../../lib/models/assign-weights';
import { loadModel, saveModel } from '../../lib/models/io';
import { correctPad, nasnetMobile, nasnetMobileSpec } from '../../lib/models/nasnet-mobile';
import { getBackbone } from '../../lib/models/registry';
import { assertKerasParity, ensureParityFixture, relativeDiff } from './parity';

const TOLERANCE = 1e-4;

type Config = Record<string, unknown>;
const config = (m: tf.LayersModel, name: string) => m.getLayer(name).getConfig() as Config;

test('correctPad is Keras imagenet_utils.correct_pad: one pixel less on top/left for even sides', () => {
  assert.deepEqual(correctPad(47, 47, 3), [[1, 1], [1, 1]]);
  assert.deepEqual(correctPad(24, 24, 3), [[0, 1], [0, 1]]);
  assert.deepEqual(correctPad(24, 23, 5), [[1, 2], [2, 2]]);
  assert.deepEqual(correctPad(12, 12, 7), [[2, 3], [2, 3]]);
});

test('NASNetMobile at 224 px: Keras parameter count, layer count, output and registry entry', () => {
  const model = nasnetMobile();
  try {
    assert.equal(model.countParams(), 4_269_716);
    assert.equal(model.layers.length, 770); // Keras: 769 layers without pooling, plus GlobalAveragePooling2D
    assert.equal(weightedLayers(model).length, 388);
    assert.deepEqual(model.outputs[0].shape, [null, 1056]);
    assert.equal(model.layers[model.layers.length - 2].name, nasnetMobileSpec.lastConvLayer);
  } finally {
    model.dispose();
  }
  assert.equal(getBackbone('NASNetMobile'), nasnetMobileSpec);
  assert.equal(nasnetMobileSpec.paramsNoTop, 4_269_716);
  assert.equal(nasnetMobileSpec.preprocess, 'tf');
  assert.deepEqual([nasnetMobileSpec.defaultInputSize, nasnetMobileSpec.minInputSize], [224, 32]);
  assert.equal(nasnetMobileSpec.weights.kind === 'keras-h5' && nasnetMobileSpec.weights.md5, '1ed92395b5b598bdda52abe5c0dbfd63');
});

test('NASNetMobile keeps Keras details: names, correct_pad, BatchNorm settings, adjust path, pooling, size check', () => {
  const model = nasnetMobile({ inputSize: 96, pooling: 'none' });
  try {
    assert.deepEqual(model.layers.slice(0, 6).map((l) => l.name),
      ['input_layer', 'stem_conv1', 'stem_bn1', 'activation', 'reduction_conv_1_stem_1', 'reduction_bn_1_stem_1']);
    assert.equal(model.layers[model.layers.length - 1].name, 'activation_187');
    assert.deepEqual(model.outputs[0].shape, [null, 3, 3, 1056]);
    // Stem output 47 px (odd): symmetric padding; stem_2 sees 24 px (even): asymmetric.
    assert.deepEqual(config(model, 'reduction_pad_1_stem_1').padding, [[1, 1], [1, 1]]);
    assert.deepEqual(config(model, 'separable_conv_1_pad_reduction_left1_stem_2').padding, [[1, 2], [1, 2]]);
    assert.deepEqual(config(model, 'separable_conv_1_pad_reduction_right1_stem_2').padding, [[2, 3], [2, 3]]);
    assert.equal(config(model, 'separable_conv_1_reduction_left1_stem_2').padding, 'valid');
    assert.equal(config(model, 'separable_conv_2_normal_left1_0').padding, 'same');
    for (const l of model.layers.filter((x) => x.getClassName() === 'FrozenBatchNormalization')) {
      const c = l.getConfig() as Config;
      assert.deepEqual([c.momentum, c.epsilon, c.scale], [0.9997, 1e-3, true], l.name);
    }
    // The factorised reduction of `_adjust_block`: zero pad bottom/right, crop top/left, two 1x1 convs.
    assert.deepEqual(config(model, 'zero_padding2d').padding, [[0, 1], [0, 1]]);
    assert.deepEqual(config(model, 'cropping2d').cropping, [[1, 0], [1, 0]]);
    assert.deepEqual(model.getLayer('adjust_conv_1_stem_2').outputShape, [null, 24, 24, 11]);
    assert.deepEqual(model.getLayer('adjust_conv_projection_1').outputShape, [null, 12, 12, 44]);
  } finally {
    model.dispose();
  }
  const max = nasnetMobile({ inputSize: 32, pooling: 'max' });
  assert.deepEqual(max.outputs[0].shape, [null, 1056]);
  assert.equal(max.layers[max.layers.length - 1].getClassName(), 'GlobalMaxPooling2D');
  max.dispose();
  assert.throws(() => nasnetMobile({ inputSize: 31 }), /at least 32 px, got 31/);
});

const PARITY_LAYERS = ['stem_bn1', 'reduction_concat_stem_1', 'normal_concat_0', 'reduction_concat_reduce_4',
  'normal_concat_8', 'activation_187'];

test('NASNetMobile matches Keras at 96 px (weights, pooled output, intermediate cells) on every backend', async () => {
  const fx = ensureParityFixture('nasnetmobile', { size: 96, layers: PARITY_LAYERS });
  const model = nasnetMobile({ inputSize: 96 });
  try {
    await assertKerasParity(model, fx, {
      layers: PARITY_LAYERS,
      mode: 'tf',
      tolerance: TOLERANCE,
      // BatchNorm stays in inference mode when called in training mode (the study fine-tuned that way).
      extra: (backend, x, got) => {
        const trained = model.apply(x, { training: true }) as tf.Tensor;
        const dTrain = relativeDiff(trained.dataSync(), got[0].values);
        trained.dispose();
        assert.ok(dTrain < 1e-6, `${backend}: training=true output differs by ${dTrain}`);
      },
    });
  } finally {
    await tf.setBackend('cpu');
    model.dispose();
    fx.input.dispose();
  }
});

test('NASNetMobile saves and loads in the TensorFlow.js format with the same outputs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-nasnet-'));
  const model = nasnetMobile({ inputSize: 32 });
  try {
    await saveModel(model, path.join(dir, 'm'));
    const back = await loadModel(path.join(dir, 'm'));
    const x = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 7);
    const [a, b] = [model.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    assert.deepEqual(back.layers.map((l) => l.name), model.layers.map((l) => l.name));
    assert.equal(relativeDiff(b.dataSync(), a.dataSync()), 0);
    tf.dispose([x, a, b]);
    back.dispose();
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
