import * as tf from '@tensorflow/tfjs';

/** Shape of the lung U-Net: input side and the channels of each encoder level (the last is the bottleneck). */
export interface UnetSpec {
  /** Square input side in pixels; must be divisible by 2^(levels − 1). */
  size: number;
  /** Channels per level, e.g. [16, 32, 64, 128, 256]. */
  channels: number[];
  /** BatchNorm's moving-average momentum (default 0.99, as Keras); lower suits runs of a few dozen steps. */
  bnMomentum?: number;
}

/** The default: small enough to train on two CPU cores in minutes, deep enough to see both lungs at once. */
export const DEFAULT_UNET: Readonly<UnetSpec> = Object.freeze({ size: 128, channels: [8, 16, 32, 64, 128] });

function convBlock(x: tf.SymbolicTensor, filters: number, name: string, seed: () => number, momentum: number): tf.SymbolicTensor {
  for (const i of [1, 2]) {
    const kernelInitializer = tf.initializers.heNormal({ seed: seed() });
    x = tf.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer, name: `${name}_conv${i}` })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum, name: `${name}_bn${i}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `${name}_relu${i}` }).apply(x) as tf.SymbolicTensor;
  }
  return x;
}

/**
 * Builds a U-Net for one-channel input (normalised grey) and one sigmoid output (lung probability): two
 * 3×3 conv–BatchNorm–ReLU per level, 2×2 max pooling down, 2×2 nearest upsampling and skip concatenation up.
 * The same graph is built in Keras by bench/segment.ts, layer for layer.
 * @param spec input size and channels per level.
 * @param seed seeds the initial weights (each convolution its own stream), so a training run is reproducible.
 * @throws RangeError when the size does not halve cleanly at every level.
 * @example const model = buildUnet({ size: 128, channels: [16, 32, 64, 128, 256] });
 */
export function buildUnet(spec: UnetSpec = DEFAULT_UNET, seed = 42): tf.LayersModel {
  let layer = 0;
  const nextSeed = () => seed * 1000 + layer++;
  const momentum = spec.bnMomentum ?? 0.99;
  const levels = spec.channels.length;
  if (levels < 2 || spec.size % 2 ** (levels - 1) !== 0) {
    throw new RangeError(`U-Net: size ${spec.size} must be divisible by 2^${levels - 1}`);
  }
  const input = tf.input({ shape: [spec.size, spec.size, 1], name: 'grey' });
  const skips: tf.SymbolicTensor[] = [];
  let x: tf.SymbolicTensor = input;
  spec.channels.forEach((c, i) => {
    if (i > 0) x = tf.layers.maxPooling2d({ poolSize: 2, name: `down${i}_pool` }).apply(x) as tf.SymbolicTensor;
    x = convBlock(x, c, `down${i}`, nextSeed, momentum);
    if (i < levels - 1) skips.push(x);
  });
  for (let i = levels - 2; i >= 0; i--) {
    x = tf.layers.upSampling2d({ size: [2, 2], name: `up${i}_upsample` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ name: `up${i}_concat` }).apply([x, skips[i]]) as tf.SymbolicTensor;
    x = convBlock(x, spec.channels[i], `up${i}`, nextSeed, momentum);
  }
  const out = tf.layers
    .conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }), name: 'lung' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'lung_unet' });
}
