import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { getBackbone } from '../../lib/models/registry';
import type { BackboneName } from '../../lib/models/types';
import { assertKerasParity, availableBackends, ensureParityFixture } from './parity';

const TOLERANCE = 1e-4;

test('ResNet-50 and ResNet-101 have the Keras parameter counts (no top; independent of input size)', () => {
  for (const [name, params] of [['resnet50', 23_587_712], ['resnet101', 42_658_176]] as const) {
    const spec = getBackbone(name);
    const model = spec.build({ inputSize: 32 });
    assert.equal(model.countParams(), params);
    assert.equal(spec.paramsNoTop, params);
    assert.deepEqual(model.outputs[0].shape, [null, 2048]);
    model.dispose();
  }
});

test('ResNet layer names, pooling options and input-size checks follow Keras', () => {
  const spec = getBackbone('resnet50');
  const none = spec.build({ inputSize: 64, pooling: 'none' });
  assert.deepEqual(none.layers.slice(1, 8).map((l) => l.name),
    ['conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool', 'conv2_block1_1_conv']);
  assert.equal(none.layers[none.layers.length - 1].name, spec.lastConvLayer);
  assert.deepEqual(none.outputs[0].shape, [null, 2, 2, 2048]);
  // v1: the stride sits on the first 1x1 convolution of a stage's first block.
  assert.deepEqual((none.getLayer('conv3_block1_1_conv').getConfig() as { strides: number[] }).strides, [2, 2]);
  assert.deepEqual((none.getLayer('conv3_block1_2_conv').getConfig() as { strides: number[] }).strides, [1, 1]);
  assert.equal((none.getLayer('conv2_block1_1_bn').getConfig() as { epsilon: number }).epsilon, 1.001e-5);
  none.dispose();
  const max = spec.build({ inputSize: 64, pooling: 'max' });
  assert.equal(max.layers[max.layers.length - 1].name, 'max_pool');
  max.dispose();
  assert.throws(() => spec.build({ inputSize: 31 }), /input size must be an integer of at least 32 px, got 31/);
});

async function checkParity(name: BackboneName, size: number, layers: string[], batch = 2, fastBackendsOnly = false): Promise<void> {
  const fx = ensureParityFixture(name, { size, layers, batch });
  const model = getBackbone(name).build({ inputSize: size });
  try {
    const all = await availableBackends();
    const backends = fastBackendsOnly && all.length > 1 ? all.filter((b) => b !== 'cpu') : all;
    await assertKerasParity(model, fx, { layers, mode: getBackbone(name).preprocess, backends, tolerance: TOLERANCE });
  } finally {
    await tf.setBackend('cpu');
    model.dispose();
    fx.input.dispose();
  }
}

test('ResNet-50 matches Keras at 64 px (weights, output, intermediate blocks) on every backend', async () => {
  await checkParity('resnet50', 64, ['conv1_relu', 'conv2_block1_out', 'conv3_block4_out', 'conv4_block6_out', 'conv5_block3_out']);
});

test('ResNet-101 matches Keras at 32 px on every backend', async () => {
  await checkParity('resnet101', 32, ['conv2_block3_out', 'conv4_block23_out'], 1);
});

test('ResNet-50 matches Keras at the default 224 px (native/wasm backends; cpu is covered at 64 px)', async () => {
  await checkParity('resnet50', 224, ['conv3_block4_out'], 1, true);
});
