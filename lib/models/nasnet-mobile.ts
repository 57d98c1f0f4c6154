import * as tf from '@tensorflow/tfjs';
import { checkInputSize } from './input-size';
import { frozenBatchNorm } from './layers-bn';
import { globalPooling, kerasAutoNamer } from './layers';
import type { BackboneSpec, BuildOptions, Pooling } from './types';

type T = tf.SymbolicTensor;

/*
 * NASNet-A Mobile (4 @ 1056), layer for layer as keras.applications.NASNetMobile(include_top=False):
 * penultimate_filters 1056, num_blocks 4, stem_block_filters 32, filter_multiplier 2, skip_reduction False.
 * Layers Keras names explicitly carry the same names; the rest (activations, the adjust path's padding and
 * cropping, one add per reduction cell) get the names a fresh Keras session gives them, because layers are
 * created in Keras's order. The graph is built in Keras's order too, which makes model.layers (and so the
 * order weights load in) the same.
 */

const BN = { momentum: 0.9997, epsilon: 1e-3 } as const;
const PENULTIMATE_FILTERS = 1056;
const NUM_BLOCKS = 4;
const STEM_FILTERS = 32;
const FILTER_MULTIPLIER = 2;

/** Name Keras gives the final ReLU in a fresh session; the Grad-CAM target. */
const LAST_ACTIVATION = 'activation_187';

/** Keras-style names for the layers Keras leaves unnamed; reset for every model built. */
let autoName = kerasAutoNamer();

const relu = (x: T, name?: string): T =>
  tf.layers.activation({ activation: 'relu', name: name ?? autoName('activation') }).apply(x) as T;
const bn = (x: T, name: string): T => frozenBatchNorm({ axis: -1, ...BN, name }).apply(x) as T;
const conv1x1 = (x: T, filters: number, name: string): T =>
  tf.layers
    .conv2d({ filters, kernelSize: 1, strides: 1, padding: 'same', useBias: false, kernelInitializer: 'heNormal', name })
    .apply(x) as T;
const add = (xs: T[], name?: string): T => tf.layers.add({ name: name ?? autoName('add') }).apply(xs) as T;
const concat = (xs: T[], name?: string): T =>
  tf.layers.concatenate({ axis: -1, name: name ?? autoName('concatenate') }).apply(xs) as T;
const avgPool = (x: T, size: number, stride: number, padding: 'same' | 'valid', name: string): T =>
  tf.layers.averagePooling2d({ poolSize: size, strides: stride, padding, name }).apply(x) as T;
const maxPool = (x: T, size: number, stride: number, name: string): T =>
  tf.layers.maxPooling2d({ poolSize: size, strides: stride, padding: 'valid', name }).apply(x) as T;

/**
 * Keras `imagenet_utils.correct_pad`: the zero padding that makes a stride-2 'valid' convolution line up
 * like TensorFlow's 'same' one (one pixel less on top/left when the side is even).
 */
export function correctPad(height: number, width: number, kernel: number): [[number, number], [number, number]] {
  const c = Math.floor(kernel / 2);
  return [
    [c - (1 - (height % 2)), c],
    [c - (1 - (width % 2)), c],
  ];
}

function spatial(x: T): [number, number] {
  const [, h, w] = x.shape;
  if (h == null || w == null) throw new Error('NASNet needs static spatial sizes');
  return [h, w];
}

function channels(x: T): number {
  const c = x.shape[x.shape.length - 1];
  if (c == null) throw new Error('NASNet needs a static channel count');
  return c;
}

/** Two [relu, separable conv, BN] blocks (Keras `_separable_conv_block`). */
function separableConvBlock(ip: T, filters: number, kernel: number, stride: 1 | 2, id: string): T {
  let x = relu(ip);
  let pad: 'same' | 'valid' = 'same';
  if (stride === 2) {
    const [h, w] = spatial(x);
    x = tf.layers.zeroPadding2d({ padding: correctPad(h, w, kernel), name: `separable_conv_1_pad_${id}` }).apply(x) as T;
    pad = 'valid';
  }
  const sep = (y: T, s: number, p: 'same' | 'valid', name: string): T =>
    tf.layers
      .separableConv2d({ filters, kernelSize: kernel, strides: s, padding: p, useBias: false, depthMultiplier: 1, name })
      .apply(y) as T;
  x = sep(x, stride, pad, `separable_conv_1_${id}`);
  x = bn(x, `separable_conv_1_bn_${id}`);
  x = relu(x);
  x = sep(x, 1, 'same', `separable_conv_2_${id}`);
  return bn(x, `separable_conv_2_bn_${id}`);
}

/** Makes the previous cell's output `p` match `ip` in size and `filters` in depth (Keras `_adjust_block`). */
function adjustBlock(p: T | null, ip: T, filters: number, id: string): T {
  if (p == null) return ip;
  if (spatial(p)[1] !== spatial(ip)[1]) {
    // Factorised reduction: two stride-2 1x1 paths, the second shifted by one pixel.
    p = relu(p, `adjust_relu_1_${id}`);
    let p1 = avgPool(p, 1, 2, 'valid', `adjust_avg_pool_1_${id}`);
    p1 = tf.layers
      .conv2d({ filters: Math.floor(filters / 2), kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: 'heNormal', name: `adjust_conv_1_${id}` })
      .apply(p1) as T;
    let p2 = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: autoName('zero_padding2d') }).apply(p) as T;
    p2 = tf.layers.cropping2D({ cropping: [[1, 0], [1, 0]], name: autoName('cropping2d') }).apply(p2) as T;
    p2 = avgPool(p2, 1, 2, 'valid', `adjust_avg_pool_2_${id}`);
    p2 = tf.layers
      .conv2d({ filters: Math.floor(filters / 2), kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: 'heNormal', name: `adjust_conv_2_${id}` })
      .apply(p2) as T;
    return bn(concat([p1, p2]), `adjust_bn_${id}`);
  }
  if (channels(p) !== filters) {
    p = relu(p);
    p = conv1x1(p, filters, `adjust_conv_projection_${id}`);
    return bn(p, `adjust_bn_${id}`);
  }
  return p;
}

/** NASNet-A normal cell (Keras `_normal_a_cell`); returns [output, input] for the next cell. */
function normalCell(ip: T, prev: T | null, filters: number, id: string): [T, T] {
  const p = adjustBlock(prev, ip, filters, id);
  let h = relu(ip);
  h = conv1x1(h, filters, `normal_conv_1_${id}`);
  h = bn(h, `normal_bn_1_${id}`);

  const x1 = add(
    [separableConvBlock(h, filters, 5, 1, `normal_left1_${id}`), separableConvBlock(p, filters, 3, 1, `normal_right1_${id}`)],
    `normal_add_1_${id}`,
  );
  const x2 = add(
    [separableConvBlock(p, filters, 5, 1, `normal_left2_${id}`), separableConvBlock(p, filters, 3, 1, `normal_right2_${id}`)],
    `normal_add_2_${id}`,
  );
  const x3 = add([avgPool(h, 3, 1, 'same', `normal_left3_${id}`), p], `normal_add_3_${id}`);
  const x4 = add(
    [avgPool(p, 3, 1, 'same', `normal_left4_${id}`), avgPool(p, 3, 1, 'same', `normal_right4_${id}`)],
    `normal_add_4_${id}`,
  );
  const x5 = add([separableConvBlock(h, filters, 3, 1, `normal_left5_${id}`), h], `normal_add_5_${id}`);
  return [concat([p, x1, x2, x3, x4, x5], `normal_concat_${id}`), ip];
}

/** NASNet-A reduction cell (Keras `_reduction_a_cell`); returns [output, input] for the next cell. */
function reductionCell(ip: T, prev: T | null, filters: number, id: string): [T, T] {
  const p = adjustBlock(prev, ip, filters, id);
  let h = relu(ip);
  h = conv1x1(h, filters, `reduction_conv_1_${id}`);
  h = bn(h, `reduction_bn_1_${id}`);
  const [hh, hw] = spatial(h);
  const h3 = tf.layers.zeroPadding2d({ padding: correctPad(hh, hw, 3), name: `reduction_pad_1_${id}` }).apply(h) as T;

  const x1 = add(
    [separableConvBlock(h, filters, 5, 2, `reduction_left1_${id}`), separableConvBlock(p, filters, 7, 2, `reduction_right1_${id}`)],
    `reduction_add_1_${id}`,
  );
  const x2 = add(
    [maxPool(h3, 3, 2, `reduction_left2_${id}`), separableConvBlock(p, filters, 7, 2, `reduction_right2_${id}`)],
    `reduction_add_2_${id}`,
  );
  const x3 = add(
    [avgPool(h3, 3, 2, 'valid', `reduction_left3_${id}`), separableConvBlock(p, filters, 5, 2, `reduction_right3_${id}`)],
    `reduction_add3_${id}`,
  );
  const x4 = add([x2, avgPool(x1, 3, 1, 'same', `reduction_left4_${id}`)]);
  const x5 = add(
    [separableConvBlock(x1, filters, 3, 1, `reduction_left4_${id}`), maxPool(h3, 3, 2, `reduction_right5_${id}`)],
    `reduction_add4_${id}`,
  );
  return [concat([x2, x3, x4, x5], `reduction_concat_${id}`), ip];
}

function checkOptions(opts: BuildOptions): { size: number; pooling: Pooling } {
  const size = checkInputSize('NASNetMobile', opts.inputSize ?? nasnetMobileSpec.defaultInputSize, nasnetMobileSpec.minInputSize);
  return { size, pooling: opts.pooling ?? 'avg' };
}

/**
 * NASNetMobile without its classifier, as `keras.applications.NASNetMobile(include_top=False,
 * input_shape=(s, s, 3), pooling=...)`: 4,269,716 parameters, randomly initialised (he_normal convolutions),
 * BatchNorm (momentum 0.9997, epsilon 1e-3) always in inference mode. Input: images preprocessed in
 * Keras 'tf' mode (x / 127.5 - 1), NHWC. Output: the final ReLU (`activation_187`), globally pooled unless
 * `pooling` is `'none'`.
 */
export function nasnetMobile(opts: BuildOptions = {}): tf.LayersModel {
  const { size, pooling } = checkOptions(opts);
  const filters = Math.floor(PENULTIMATE_FILTERS / 24);
  autoName = kerasAutoNamer();
  const input = tf.input({ shape: [size, size, 3], name: autoName('input_layer') });

  let x = tf.layers
    .conv2d({ filters: STEM_FILTERS, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: 'heNormal', name: 'stem_conv1' })
    .apply(input) as T;
  x = bn(x, 'stem_bn1');

  let p: T | null = null;
  [x, p] = reductionCell(x, p, Math.floor(filters / FILTER_MULTIPLIER ** 2), 'stem_1');
  [x, p] = reductionCell(x, p, Math.floor(filters / FILTER_MULTIPLIER), 'stem_2');
  for (let i = 0; i < NUM_BLOCKS; i++) [x, p] = normalCell(x, p, filters, `${i}`);
  // skip_reduction=False: the next cell's `p` is the reduction cell's input.
  [x, p] = reductionCell(x, p, filters * FILTER_MULTIPLIER, `reduce_${NUM_BLOCKS}`);
  for (let i = 0; i < NUM_BLOCKS; i++) [x, p] = normalCell(x, p, filters * FILTER_MULTIPLIER, `${NUM_BLOCKS + i + 1}`);
  [x, p] = reductionCell(x, p, filters * FILTER_MULTIPLIER ** 2, `reduce_${2 * NUM_BLOCKS}`);
  for (let i = 0; i < NUM_BLOCKS; i++) [x, p] = normalCell(x, p, filters * FILTER_MULTIPLIER ** 2, `${2 * NUM_BLOCKS + i + 1}`);

  x = relu(x);
  if (x.sourceLayer.name !== LAST_ACTIVATION) throw new Error(`NASNetMobile: final ReLU named ${x.sourceLayer.name}`);
  x = globalPooling(x, pooling, autoName) as T;
  return tf.model({ inputs: input, outputs: x, name: 'nasnet_mobile' });
}

/** NASNetMobile for the backbone registry. */
export const nasnetMobileSpec: BackboneSpec = {
  name: 'nasnetmobile',
  displayName: 'NASNetMobile',
  defaultInputSize: 224,
  minInputSize: 32,
  preprocess: 'tf',
  paramsNoTop: 4_269_716,
  lastConvLayer: LAST_ACTIVATION,
  build: nasnetMobile,
  weights: {
    kind: 'keras-h5',
    url: 'https://storage.googleapis.com/tensorflow/keras-applications/nasnet/NASNet-mobile-no-top.h5',
    md5: '1ed92395b5b598bdda52abe5c0dbfd63',
    fileName: 'nasnet_mobile_no_top.h5',
  },
};
