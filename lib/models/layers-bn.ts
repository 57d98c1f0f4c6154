import * as tf from '@tensorflow/tfjs';
import type { BatchNormalization } from '@tensorflow/tfjs-layers/dist/layers/normalization';
import type { BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';

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
  private axisEpsilon?: { axis: number; epsilon: number };

  /*
   * Normalises with tf.batchNorm directly instead of the parent's inference path: with `scale: false`
   * that path passes a null scale, which breaks tf.batchNorm's gradient during fit().
   */
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      this.axisEpsilon ??= this.getConfig() as { axis: number; epsilon: number };
      const { axis, epsilon } = this.axisEpsilon;
      const ax = axis >= 0 ? axis : axis + x.rank;
      const n = x.shape[ax];
      const shape = ax === x.rank - 1 ? [n] : x.shape.map((d, i) => (i === ax ? n : 1));
      const weight = (kind: string): tf.Tensor | undefined =>
        this.weights.find((w) => w.originalName.endsWith(`/${kind}`))?.read();
      const gamma = weight('gamma') ?? tf.ones([n]);
      const beta = weight('beta') ?? tf.zeros([n]);
      const r = (t: tf.Tensor) => t.reshape(shape);
      return tf.batchNorm(x, r(weight('moving_mean')!), r(weight('moving_variance')!), r(beta), r(gamma), epsilon);
    });
  }
}
tf.serialization.registerClass(FrozenBatchNormalization);

/** A BatchNormalization layer that stays in inference mode (see {@link FrozenBatchNormalization}). */
export function frozenBatchNorm(args: BatchNormalizationLayerArgs): FrozenBatchNormalization {
  return new FrozenBatchNormalization(args);
}
