import * as tf from '@tensorflow/tfjs';
import type { PreprocessMode } from './types';

/** ImageNet channel means in BGR order, as Keras `preprocess_input(mode='caffe')` subtracts them. */
export const CAFFE_MEAN_BGR: readonly [number, number, number] = [103.939, 116.779, 123.68];

/**
 * Keras `preprocess_input` for a batch of RGB images with values 0..255 (float, NHWC).
 * `'tf'`: x / 127.5 - 1. `'caffe'`: RGB -> BGR, then minus {@link CAFFE_MEAN_BGR}.
 */
export function preprocessInput(x: tf.Tensor4D, mode: PreprocessMode): tf.Tensor4D {
  return tf.tidy(() => {
    const f = x.toFloat();
    if (mode === 'tf') return f.div(127.5).sub(1) as tf.Tensor4D;
    const bgr = tf.reverse(f, -1);
    return bgr.sub(tf.tensor1d([...CAFFE_MEAN_BGR])) as tf.Tensor4D;
  });
}

/**
 * The same as {@link preprocessInput} over interleaved RGB bytes (any number of pixels, 3 channels),
 * without tensors: returns the network input values in the backbone's channel order.
 */
export function preprocessPixels(rgb: Uint8Array, mode: PreprocessMode): Float32Array {
  if (rgb.length % 3 !== 0) throw new RangeError(`preprocessPixels: length ${rgb.length} is not a multiple of 3 (RGB)`);
  const out = new Float32Array(rgb.length);
  if (mode === 'tf') {
    for (let i = 0; i < rgb.length; i++) out[i] = rgb[i] / 127.5 - 1;
    return out;
  }
  const [mb, mg, mr] = CAFFE_MEAN_BGR;
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = rgb[i + 2] - mb;
    out[i + 1] = rgb[i + 1] - mg;
    out[i + 2] = rgb[i] - mr;
  }
  return out;
}
