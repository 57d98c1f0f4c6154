import * as tf from '@tensorflow/tfjs';
import { CxrError } from '../errors';

/** One weight array of a source file, in the layer's order. */
export interface SourceWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** The weights of one layer of a source file (only layers that have weights). */
export interface SourceLayer {
  layer: string;
  weights: SourceWeight[];
}

/** Layers of `model` that own weights, in the model's (topological) layer order, as Keras filters them. */
export function weightedLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.weights.length > 0);
}

const shapeText = (s: readonly (number | null)[]) => `[${s.join(',')}]`;

/**
 * Copies source weights into `model` layer by layer IN ORDER, as Keras `load_weights` does for legacy
 * HDF5 files: the i-th weighted layer of the source goes to the i-th weighted layer of the model, its
 * arrays in the layer's weight order (e.g. gamma, beta, moving_mean, moving_variance). Names are not
 * used to match (many Keras layers have auto-generated names) but appear in errors. Every count and
 * shape is checked before anything is assigned, so a mismatch leaves the model unchanged.
 * @param label the source, for messages (e.g. the file path)
 */
export function assignWeightsInOrder(model: tf.LayersModel, source: SourceLayer[], label: string): void {
  const targets = weightedLayers(model);
  if (targets.length !== source.length) {
    throw new CxrError(
      `${label}: holds weights for ${source.length} layers but model ${model.name} has ${targets.length} layers with weights`,
    );
  }
  targets.forEach((layer, i) => {
    const src = source[i];
    const want = layer.weights;
    if (want.length !== src.weights.length) {
      throw new CxrError(
        `${label}: layer #${i} "${src.layer}" has ${src.weights.length} weights but model layer "${layer.name}" ` +
          `(${layer.getClassName()}) expects ${want.length}`,
      );
    }
    want.forEach((w, j) => {
      const got = src.weights[j].shape;
      if (got.length !== w.shape.length || got.some((d, k) => d !== w.shape[k])) {
        throw new CxrError(
          `${label}: weight "${src.weights[j].name}" of layer #${i} "${src.layer}" has shape ${shapeText(got)} but ` +
            `model weight "${w.originalName}" of layer "${layer.name}" has shape ${shapeText(w.shape)}`,
        );
      }
    });
  });
  targets.forEach((layer, i) => {
    const tensors = source[i].weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  });
}
