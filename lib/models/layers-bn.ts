import * as tf from '@tensorflow/tfjs';
import type { BatchNormalization } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import type { BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import { batchNormInference } from '../backend/native-gradients';
import { layerWeight } from './layers';

/*
 * TensorFlow.js does not export the BatchNormalization class; take it from an instance so the frozen
 * variant inherits its weights, config and serialization. An explicit name keeps the probe from
 * consuming an auto-generated layer name.
 */
const BatchNormalizationBase = tf.layers.batchNormalization({ name: '_frozen_bn_probe' })
  .constructor as typeof BatchNormalization;

/**
 * BatchNormalization that always normalises with its moving statistics, as Keras does when a backbone
 * is called with `training=False`: `fit()` neither uses batch statistics nor updates the moving mean
 * and variance, while gamma and beta still receive gradients when the layer is trainable.
 * (TF.js BatchNormalization uses batch statistics whenever `training` is true, whatever `trainable` says.)
 * Weights, their order (gamma, beta, moving_mean, moving_variance) and options (`scale`, `center`,
 * `epsilon`, `momentum`) are BatchNormalization's; registered for model save/load as
 * `FrozenBatchNormalization`.
 */
export class FrozenBatchNormalization extends BatchNormalizationBase {
  static override className = 'FrozenBatchNormalization';
  private params?: FrozenParams;

  /*
   * Normalises with batchNormInference instead of the parent's inference path: with `scale: false` that path
   * passes a null scale, which breaks tf.batchNorm's gradient during fit(); and batchNormInference runs as one
   * native kernel each way on tfjs-node.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      // Looked up once: called for every batch, in a few hundred layers (NASNet).
      const p = (this.params ??= this.findParams());
      const ax = p.axis >= 0 ? p.axis : p.axis + x.rank;
      const n = x.shape[ax];
      const gamma = p.gamma?.read() ?? tf.ones([n]);
      const beta = p.beta?.read() ?? tf.zeros([n]);
      const mean = p.movingMean.read();
      const variance = p.movingVariance.read();
      if (ax === x.rank - 1) return batchNormInference(x, mean, variance, beta, gamma, p.epsilon);
      const shape = x.shape.map((d, i) => (i === ax ? n : 1));
      const r = (t: tf.Tensor) => t.reshape(shape);
      return tf.batchNorm(x, r(mean), r(variance), r(beta), r(gamma), p.epsilon);
    });
  }

  private findParams(): FrozenParams {
    const { axis, epsilon } = this.getConfig() as { axis: number; epsilon: number };
    const weight = (kind: string) => layerWeight(this, kind);
    return { axis, epsilon, gamma: weight('gamma'), beta: weight('beta'), movingMean: weight('moving_mean')!, movingVariance: weight('moving_variance')! };
  }
}

/** The layer's options and weight variables (read afresh at every call: gamma and beta change as they train). */
interface FrozenParams {
  axis: number;
  epsilon: number;
  gamma?: LayerVariable;
  beta?: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}
tf.serialization.registerClass(FrozenBatchNormalization);

/** A BatchNormalization layer that stays in inference mode (see {@link FrozenBatchNormalization}). */
export function frozenBatchNorm(args: BatchNormalizationLayerArgs): FrozenBatchNormalization {
  return new FrozenBatchNormalization(args);
}
