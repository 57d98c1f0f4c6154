import * as tf from '@tensorflow/tfjs';
import { resizeGrey, standardise } from './data';
import type { GreyImage } from './lungs';
import { lungMaskFromProbability } from './mask';

/**
 * What runs the U-Net: the LayersModel itself (the browser page) or its compiled graph (compileInference, in
 * Node), which both take a batch and give a batch.
 */
export interface LungPredictor {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
}

/** Images per forward pass: bounds memory for large folders while keeping the kernels busy. */
export const INFER_BATCH = 16;

/**
 * Lung probabilities of network inputs (standardised `size × size` maps), `batch` at a time.
 * @returns one `size × size` probability map per input.
 */
export async function predictProbabilities(model: LungPredictor, inputs: readonly Float32Array[], size: number, batch = INFER_BATCH): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const pixels = size * size;
  for (let start = 0; start < inputs.length; start += batch) {
    const chunk = inputs.slice(start, start + batch);
    const x = new Float32Array(chunk.length * pixels);
    chunk.forEach((c, i) => x.set(c, i * pixels));
    const y = tf.tidy(() => model.predict(tf.tensor4d(x, [chunk.length, size, size, 1])) as tf.Tensor);
    const values = (await y.data()) as Float32Array;
    y.dispose();
    for (let i = 0; i < chunk.length; i++) out.push(values.slice(i * pixels, (i + 1) * pixels));
  }
  return out;
}

/**
 * Segments grey images of any size: resize to the network's side, standardise, predict, then resize the
 * probabilities back, threshold at 0.5, keep the two largest components and fill holes.
 * @returns one 0/255 mask per image, each the size of its image.
 */
export async function segmentImages(model: LungPredictor, size: number, images: readonly GreyImage[]): Promise<Uint8Array[]> {
  const inputs = await Promise.all(images.map(async (img) => standardise(await resizeGrey(img, size))));
  const probs = await predictProbabilities(model, inputs, size);
  return probs.map((p, i) => lungMaskFromProbability(p, size, size, images[i].width, images[i].height));
}
