import * as tf from '@tensorflow/tfjs';
import { frozenBatchNorm } from '../../lib/models/layers-bn';

/**
 * A small convolutional backbone for tests, shaped like the real ones: a stem, a residual block whose
 * output is a natural cut ('block1_out'), a second stage ('block2_*'), inference-mode BatchNorm, explicit
 * Keras-style layer names and seeded initializers. Output: 4-D feature map (pooling 'none').
 */
export function tinyBackbone(inputSize = 32, seed = 7): tf.LayersModel {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 100 + k });
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(1), name: 'stem_conv' }).apply(input) as tf.SymbolicTensor;
  x = frozenBatchNorm({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  const branch = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init(2), name: 'block1_conv' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.add({ name: 'block1_add' }).apply([x, branch]) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'block1_out' }).apply(x) as tf.SymbolicTensor;
  const shortcut = tf.layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, kernelInitializer: init(3), name: 'block2_0_conv' }).apply(x) as tf.SymbolicTensor;
  let y = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(4), name: 'block2_1_conv' }).apply(x) as tf.SymbolicTensor;
  y = frozenBatchNorm({ name: 'block2_1_bn' }).apply(y) as tf.SymbolicTensor;
  x = tf.layers.add({ name: 'block2_add' }).apply([shortcut, y]) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'block2_out' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'tiny' });
}
