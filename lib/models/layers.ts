import * as tf from '@tensorflow/tfjs';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** A layer's weight variable of one kind ('kernel', 'bias', 'gamma', 'moving_mean'…), by its Keras name. */
export function layerWeight(layer: tf.layers.Layer, kind: string): LayerVariable | undefined {
  return layer.weights.find((w) => w.originalName.split('/').pop() === kind);
}

/** Config of {@link CustomScaleLayer}: the residual branch's scale plus the usual layer arguments. */
export interface CustomScaleLayerArgs extends LayerArgs {
  scale: number;
}

/**
 * `inputs[0] + inputs[1] * scale`: the scaled residual of InceptionResNetV2's block35/block17/block8.
 * Keras writes it as a Lambda (tf.keras 2) or `CustomScaleLayer` (Keras 3); a Lambda cannot be serialised,
 * so this is a registered layer with its scale in the config, and models holding it save and load in
 * the TensorFlow.js format. The class name is Keras 3's.
 */
export class CustomScaleLayer extends tf.layers.Layer {
  static readonly className = 'CustomScaleLayer';
  readonly scale: number;

  constructor(args: CustomScaleLayerArgs) {
    super(args);
    if (!Number.isFinite(args.scale)) throw new Error(`CustomScaleLayer: scale must be a finite number, got ${args.scale}`);
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = inputShape as tf.Shape[];
    if (shapes.length !== 2) throw new Error(`CustomScaleLayer ${this.name} expects 2 inputs, got ${shapes.length}`);
    const [a, b] = shapes;
    if (a.length !== b.length || a.some((d, i) => d != null && b[i] != null && d !== b[i])) {
      throw new Error(`CustomScaleLayer ${this.name}: input shapes differ: [${a}] and [${b}]`);
    }
    return a;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x, residual] = inputs as tf.Tensor[];
    // Same operation order as Keras (x + residual * scale), so float results agree.
    return tf.tidy(() => tf.add(x, tf.mul(residual, this.scale)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(CustomScaleLayer);

/** Builds a {@link CustomScaleLayer} (the scaled-residual sum of InceptionResNetV2). */
export function customScale(args: CustomScaleLayerArgs): CustomScaleLayer {
  return new CustomScaleLayer(args);
}

/**
 * Names layers the way Keras auto-names them in a fresh session (`activation`, `activation_1`, ...), counting
 * per model instead of per process, so a builder that creates layers in Keras's order reproduces Keras's names
 * and intermediate outputs can be compared layer by layer.
 */
export function kerasAutoNamer(): (base: string) => string {
  const counts = new Map<string, number>();
  return (base) => {
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  };
}

/**
 * The optional global pooling at the end of a Keras application (`pooling='avg'|'max'`), named as Keras names it
 * in that application; `none` (or anything else) returns the feature map unchanged.
 */
export function globalPooling(x: tf.SymbolicTensor, pooling: string | undefined, name: (base: string) => string): tf.SymbolicTensor {
  if (pooling === 'avg') return tf.layers.globalAveragePooling2d({ name: name('global_average_pooling2d') }).apply(x) as tf.SymbolicTensor;
  if (pooling === 'max') return tf.layers.globalMaxPooling2d({ name: name('global_max_pooling2d') }).apply(x) as tf.SymbolicTensor;
  return x;
}
