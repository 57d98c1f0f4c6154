import * as tf from '@tensorflow/tfjs';
import { checkInputSize } from './input-size';
import { frozenBatchNorm } from './layers-bn';
import { customScale, globalPooling, kerasAutoNamer } from './layers';
import type { BackboneSpec, BuildOptions, Pooling } from './types';

type T = tf.SymbolicTensor;

/*
 * InceptionResNetV2, layer for layer as keras.applications.InceptionResNetV2(include_top=False).
 * Keras leaves most conv2d_bn layers unnamed (conv2d_N, batch_normalization_N, activation_N); they get the
 * names a fresh Keras session gives them, because layers are created in Keras's order. The scaled residual
 * carries tf.keras 2's Lambda name (block35_1, ...). Graph construction order follows Keras, which makes
 * model.layers (and so the order weights load in) the same.
 */

const LAST_ACTIVATION = 'conv_7b_ac';

/** Keras-style names for the layers Keras leaves unnamed; reset for every model built. */
let autoName = kerasAutoNamer();

interface ConvBnOptions {
  strides?: number;
  padding?: 'same' | 'valid';
  activation?: 'relu' | null;
  useBias?: boolean;
  name?: string;
}

/** Keras `conv2d_bn`: conv (no bias), BatchNorm without gamma (`scale=False`), ReLU. */
function conv2dBn(x: T, filters: number, kernel: number | [number, number], o: ConvBnOptions = {}): T {
  const { strides = 1, padding = 'same', activation = 'relu', useBias = false, name } = o;
  x = tf.layers
    .conv2d({ filters, kernelSize: kernel, strides, padding, useBias, name: name ?? autoName('conv2d') })
    .apply(x) as T;
  if (!useBias) {
    x = frozenBatchNorm({ axis: -1, scale: false, name: name ? `${name}_bn` : autoName('batch_normalization') }).apply(x) as T;
  }
  if (activation != null) {
    x = tf.layers.activation({ activation, name: name ? `${name}_ac` : autoName('activation') }).apply(x) as T;
  }
  return x;
}

const concat = (xs: T[], name: string): T => tf.layers.concatenate({ axis: -1, name }).apply(xs) as T;
const maxPool = (x: T): T =>
  tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: autoName('max_pooling2d') }).apply(x) as T;

type BlockType = 'block35' | 'block17' | 'block8';

/** A branch of conv2d_bn layers applied one after another: `[filters, kernel]` each, Keras's defaults otherwise. */
function branch(x: T, convs: readonly [number, number | [number, number]][]): T {
  return convs.reduce((t, [filters, kernel]) => conv2dBn(t, filters, kernel), x);
}

/** Keras `inception_resnet_block`: branches, 1x1 projection with bias, `x + scale * up`, optional ReLU. */
function inceptionResnetBlock(x: T, scale: number, type: BlockType, idx: number, activation: 'relu' | null = 'relu'): T {
  let branches: T[];
  if (type === 'block35') {
    branches = [branch(x, [[32, 1]]), branch(x, [[32, 1], [32, 3]]), branch(x, [[32, 1], [48, 3], [64, 3]])];
  } else if (type === 'block17') {
    branches = [branch(x, [[192, 1]]), branch(x, [[128, 1], [160, [1, 7]], [192, [7, 1]]])];
  } else {
    branches = [branch(x, [[192, 1]]), branch(x, [[192, 1], [224, [1, 3]], [256, [3, 1]]])];
  }
  const block = `${type}_${idx}`;
  const mixed = concat(branches, `${block}_mixed`);
  const depth = x.shape[3];
  if (depth == null) throw new Error('InceptionResNetV2 needs a static channel count');
  const up = conv2dBn(mixed, depth, 1, { activation: null, useBias: true, name: `${block}_conv` });
  x = customScale({ scale, name: block }).apply([x, up]) as T;
  if (activation != null) x = tf.layers.activation({ activation, name: `${block}_ac` }).apply(x) as T;
  return x;
}

function checkOptions(opts: BuildOptions): { size: number; pooling: Pooling } {
  const size = checkInputSize('InceptionResNetV2', opts.inputSize ?? inceptionResNetV2Spec.defaultInputSize, inceptionResNetV2Spec.minInputSize);
  return { size, pooling: opts.pooling ?? 'avg' };
}

/**
 * InceptionResNetV2 without its classifier, as `keras.applications.InceptionResNetV2(include_top=False,
 * input_shape=(s, s, 3), pooling=...)`: 54,336,736 parameters, randomly initialised, BatchNorm (no gamma,
 * epsilon 1e-3) always in inference mode. Input: images preprocessed in Keras 'tf' mode (x / 127.5 - 1),
 * NHWC, at least 75 px. Output: `conv_7b_ac` (1536 channels), globally pooled unless `pooling` is `'none'`.
 */
export function inceptionResNetV2(opts: BuildOptions = {}): tf.LayersModel {
  const { size, pooling } = checkOptions(opts);
  autoName = kerasAutoNamer();
  const input = tf.input({ shape: [size, size, 3], name: autoName('input_layer') });

  // Stem.
  let x = conv2dBn(input, 32, 3, { strides: 2, padding: 'valid' });
  x = conv2dBn(x, 32, 3, { padding: 'valid' });
  x = conv2dBn(x, 64, 3);
  x = maxPool(x);
  x = conv2dBn(x, 80, 1, { padding: 'valid' });
  x = conv2dBn(x, 192, 3, { padding: 'valid' });
  x = maxPool(x);

  // Mixed 5b (Inception-A).
  const b0 = branch(x, [[96, 1]]);
  const b1 = branch(x, [[48, 1], [64, 5]]);
  const b2 = branch(x, [[64, 1], [96, 3], [96, 3]]);
  let bp = tf.layers
    .averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: autoName('average_pooling2d') })
    .apply(x) as T;
  bp = conv2dBn(bp, 64, 1);
  x = concat([b0, b1, b2, bp], 'mixed_5b');

  for (let i = 1; i <= 10; i++) x = inceptionResnetBlock(x, 0.17, 'block35', i);

  // Mixed 6a (Reduction-A).
  {
    const r0 = conv2dBn(x, 384, 3, { strides: 2, padding: 'valid' });
    let r1 = conv2dBn(x, 256, 1);
    r1 = conv2dBn(r1, 256, 3);
    r1 = conv2dBn(r1, 384, 3, { strides: 2, padding: 'valid' });
    const rp = maxPool(x);
    x = concat([r0, r1, rp], 'mixed_6a');
  }

  for (let i = 1; i <= 20; i++) x = inceptionResnetBlock(x, 0.1, 'block17', i);

  // Mixed 7a (Reduction-B).
  {
    let r0 = conv2dBn(x, 256, 1);
    r0 = conv2dBn(r0, 384, 3, { strides: 2, padding: 'valid' });
    let r1 = conv2dBn(x, 256, 1);
    r1 = conv2dBn(r1, 288, 3, { strides: 2, padding: 'valid' });
    let r2 = conv2dBn(x, 256, 1);
    r2 = conv2dBn(r2, 288, 3);
    r2 = conv2dBn(r2, 320, 3, { strides: 2, padding: 'valid' });
    const rp = maxPool(x);
    x = concat([r0, r1, r2, rp], 'mixed_7a');
  }

  for (let i = 1; i <= 9; i++) x = inceptionResnetBlock(x, 0.2, 'block8', i);
  x = inceptionResnetBlock(x, 1.0, 'block8', 10, null);

  x = conv2dBn(x, 1536, 1, { name: 'conv_7b' });
  x = globalPooling(x, pooling, autoName) as T;
  return tf.model({ inputs: input, outputs: x, name: 'inception_resnet_v2' });
}

/** InceptionResNetV2 for the backbone registry. */
export const inceptionResNetV2Spec: BackboneSpec = {
  name: 'inceptionresnetv2',
  displayName: 'InceptionResNetV2',
  defaultInputSize: 299,
  minInputSize: 75,
  preprocess: 'tf',
  paramsNoTop: 54_336_736,
  lastConvLayer: LAST_ACTIVATION,
  build: inceptionResNetV2,
  weights: {
    kind: 'keras-h5',
    url: 'https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
    md5: 'd19885ff4a710c122648d3b5c3b684e4',
    fileName: 'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
  },
};
