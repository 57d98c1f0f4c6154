import * as tf from '@tensorflow/tfjs';
import { hashSeed, Rng } from '../random';
import type { TaskSpec } from './tasks';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Config of {@link SeededDropout}. */
export interface SeededDropoutArgs extends LayerArgs {
  rate: number;
  /** Base seed of this layer's masks. */
  seed: number;
}

/**
 * Keras-style inverted dropout whose mask is a pure function of (layer seed, noise step). The trainer
 * passes `noiseStep` (the global batch index) in the call's kwargs, so masks do not depend on how many
 * times the layer ran before — which is what makes an interrupted and resumed run draw the same masks
 * as an uninterrupted one. (TF.js Dropout with a fixed seed repeats one mask on every batch; without a
 * seed it draws from Math.random.) Masks are made on the CPU, so every backend sees the same ones.
 * Identity at inference. Registered for save/load as `SeededDropout`.
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private calls = 0;

  constructor(args: SeededDropoutArgs) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) throw new RangeError(`SeededDropout: rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return tf.clone(x);
    const step = typeof kwargs.noiseStep === 'number' ? kwargs.noiseStep : this.calls++;
    return tf.tidy(() => tf.mul(x, tf.tensor(this.mask(x.size, step), x.shape)));
  }

  /** The mask of noise step `step` for `size` elements: 1 / (1 − rate) where kept, 0 where dropped. */
  mask(size: number, step: number): Float32Array {
    const rng = new Rng(this.seed, step);
    const mask = new Float32Array(size);
    const scale = 1 / (1 - this.rate);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.next() >= this.rate ? scale : 0;
    return mask;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/** One layer of the head between pooling and the output layer. */
export type HeadLayer = { dropout: number } | { dense: number; activation?: 'relu' | 'elu' | 'selu' | 'tanh' | 'swish' };

/** The classifier put on a backbone's 4-D feature map. */
export interface HeadConfig {
  pooling: 'avg' | 'max';
  /** Layers between pooling and the output Dense, in order. */
  layers: HeadLayer[];
}

/** The study's head: global average pooling → Dropout 0.2 → Dropout 0.5 → Dense (sigmoid or softmax). */
export const STUDY_HEAD: Readonly<HeadConfig> = Object.freeze({ pooling: 'avg', layers: [{ dropout: 0.2 }, { dropout: 0.5 }] });

/** Name of the head's pooling layer: the cut where pooled backbone features are cached. */
export const HEAD_POOL_LAYER = 'head_pool';
/** Name of the output layer. */
export const HEAD_OUTPUT_LAYER = 'head_output';

/**
 * The full classifier: `backbone` (4-D output, i.e. built with pooling 'none') followed by the head, as
 * one flat functional model whose layers are the backbone's plus the head's (so the model can be cut
 * anywhere for caching). Head weights and dropout masks are seeded from `seed`.
 */
export function attachHead(backbone: tf.LayersModel, task: TaskSpec, head: HeadConfig, seed: number): tf.LayersModel {
  const out = backbone.outputs[0];
  if (backbone.outputs.length !== 1 || out.shape.length !== 4) {
    throw new Error(`attachHead: the backbone must have one 4-D output (pooling 'none'), got [${backbone.outputs.map((o) => `[${o.shape}]`)}]`);
  }
  const pool =
    head.pooling === 'avg'
      ? tf.layers.globalAveragePooling2d({ name: HEAD_POOL_LAYER })
      : tf.layers.globalMaxPooling2d({ name: HEAD_POOL_LAYER });
  let x = pool.apply(out) as tf.SymbolicTensor;
  head.layers.forEach((layer, i) => {
    const name = `head_${'dropout' in layer ? 'dropout' : 'dense'}_${i + 1}`;
    const layerSeed = hashSeed(seed, name) || 1;
    const l =
      'dropout' in layer
        ? new SeededDropout({ rate: layer.dropout, seed: layerSeed, name })
        : tf.layers.dense({ units: layer.dense, activation: layer.activation ?? 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed }), name });
    x = l.apply(x) as tf.SymbolicTensor;
  });
  const output = tf.layers.dense({
    units: task.units,
    activation: task.activation,
    kernelInitializer: tf.initializers.glorotUniform({ seed: hashSeed(seed, HEAD_OUTPUT_LAYER) || 1 }),
    name: HEAD_OUTPUT_LAYER,
  });
  return tf.model({ inputs: backbone.inputs, outputs: output.apply(x) as tf.SymbolicTensor, name: `${backbone.name}_${task.name}` });
}
