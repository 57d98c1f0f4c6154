/**
 * What the layer translators (ops.ts, ops-conv.ts) share: the graph under construction, one layer call as they
 * see it, and the helpers every translator needs (a layer's weights, pairs, the channels-last check, one-op
 * activations). A convolution's output is kept pending (a {@link LinearConv}) until something uses it, so that a
 * BatchNormalization after it can still be folded into its kernel and bias, as TensorFlow's inference optimisers
 * fold it; the {@link Emitter} emits it the first time its value is needed.
 */
import type * as tf from '@tensorflow/tfjs';
import { attr, FLOAT_T, UnsupportedGraphError, type GraphBuilder } from './builder';
import { layerWeight } from '../models/layers';

export type Layer = tf.layers.Layer;
/** A layer's `getConfig()`. */
export type Config = Record<string, unknown>;

/** A convolution whose output has not been emitted yet, so a BatchNormalization after it can be folded in. */
export interface LinearConv {
  kind: 'conv';
  input: string;
  layer: string;
  /** SeparableConv2D's depthwise step, run before `kernel` (then a 1×1 convolution). */
  depthwise?: tf.Tensor;
  kernel: tf.Tensor;
  strides: number[];
  padding: string;
  dilations: number[];
  bias: tf.Tensor | null;
  /** The input's height and width, where the layer's input shape has them. */
  size?: [number, number];
  /**
   * Training graphs: a frozen BatchNormalization folded in as graph nodes (y = conv(x, W·scale) + bias·scale +
   * shift), so the gradients reach its γ and β through the fold. Inference folds the tensors instead.
   */
  affine?: { layer: string; scale: string; shift: string };
}

/** A translated tensor: a node name, or a convolution still pending. */
export type Value = string | LinearConv;

/** What a translator knows of one layer call. */
export interface LayerCall {
  layer: Layer;
  /** `layer.getClassName()`, the key of the translator table. */
  cls: string;
  cfg: Config;
  inputs: Value[];
  /** Per input: this call is its only consumer (a convolution may then absorb a BatchNormalization). */
  single: boolean[];
  inShapes: number[][];
  outShape: number[];
}

/** Emits pending convolutions (and their bias) the first time their output is used. */
export class Emitter {
  /** Pending convolutions already emitted (a convolution output with several users is emitted once). */
  private emitted = new Map<LinearConv, string>();

  constructor(readonly g: GraphBuilder) {}

  /** True for a training graph (weights in session variables, dropout masks fed). */
  get training(): boolean {
    return this.g.mode === 'training';
  }

  /** The node name of a value, emitting a pending convolution the first time. */
  materialize(v: Value): string {
    if (typeof v === 'string') return v;
    let name = this.emitted.get(v);
    if (name === undefined) {
      name = this.emitConv(v);
      this.emitted.set(v, name);
    }
    return name;
  }

  /** The node name of a call's first input. */
  first(call: LayerCall): string {
    return this.materialize(call.inputs[0]);
  }

  private emitConv(v: LinearConv): string {
    const g = this.g;
    const conv = { data_format: attr.string('NHWC'), dilations: attr.ints(v.dilations) };
    let x = v.input;
    let strides = v.strides;
    let padding = v.padding;
    if (v.depthwise) {
      const k = g.weight(`${v.layer}/depthwise_kernel`, v.depthwise);
      x = g.node(`${v.layer}/depthwise`, 'DepthwiseConv2dNative', [x, k], { ...FLOAT_T, ...conv, strides: attr.ints(strides), padding: attr.string(padding) });
      strides = [1, 1, 1, 1];
      padding = 'VALID';
    }
    let k = g.weight(`${v.layer}/kernel`, v.kernel);
    // The output channel is the kernel's last axis: the scale's gradient sums over the other three.
    if (v.affine) k = g.node(`${v.affine.layer}/fold_kernel`, 'Mul', [k, v.affine.scale], FLOAT_T, { reduce: [0, 1, 2] });
    x = g.node(`${v.layer}/conv`, 'Conv2D', [x, k], {
      ...FLOAT_T, ...conv, strides: attr.ints(strides), padding: attr.string(padding),
      dilations: attr.ints(v.depthwise ? [1, 1, 1, 1] : v.dilations),
    }, v.dilations.every((d) => d === 1) ? { conv: { kernel: v.kernel.shape, strides: [strides[1], strides[2]], padding, size: v.depthwise ? undefined : v.size } } : undefined);
    if (!v.affine) return g.biasAdd(v.layer, x, v.bias);
    const { layer, scale, shift } = v.affine;
    const bias = v.bias ? g.node(`${layer}/fold_bias`, 'AddV2', [g.node(`${layer}/fold_bias_scale`, 'Mul', [g.weight(`${v.layer}/bias`, v.bias), scale], FLOAT_T), shift], FLOAT_T) : shift;
    return g.node(`${layer}/bias_add`, 'BiasAdd', [x, bias], { ...FLOAT_T, data_format: attr.string('NHWC') });
  }
}

/** The current value of one of a layer's weights by kind ('kernel', 'moving_mean', …), if it has one. */
export function weight(layer: Layer, kind: string): tf.Tensor | undefined {
  return layerWeight(layer, kind)?.read();
}

/** A 2-D size option (`3` or `[3, 3]`) as a pair. */
export function pair(v: unknown, what: string, layer: Layer): [number, number] {
  const p = typeof v === 'number' ? [v, v] : (v as number[]);
  if (!Array.isArray(p) || p.length !== 2) throw new UnsupportedGraphError(`${layer.name}: ${what} ${JSON.stringify(v)}`);
  return [p[0], p[1]];
}

export function checkChannelsLast(layer: Layer, cfg: Config): void {
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    throw new UnsupportedGraphError(`${layer.name}: data format ${String(cfg.dataFormat)} (only channelsLast)`);
  }
}

/** TF.js activation names and the TensorFlow op of each one-op activation. */
const ACTIVATION_OPS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', selu: 'Selu', sigmoid: 'Sigmoid', tanh: 'Tanh', softplus: 'Softplus',
  softmax: 'Softmax',
};

/** Activation `name` (a TF.js activation identifier) applied to node `x`. */
export function activation(g: GraphBuilder, layer: Layer, x: string, name: string): string {
  const T = FLOAT_T;
  if (name === 'linear') return x;
  if (name === 'swish') return g.node(`${layer.name}/swish`, 'Mul', [x, g.node(`${layer.name}/sigmoid`, 'Sigmoid', [x], T)], T);
  const op = Object.hasOwn(ACTIVATION_OPS, name) ? ACTIVATION_OPS[name] : undefined;
  if (!op) throw new UnsupportedGraphError(`${layer.name}: activation '${name}'`);
  return g.node(`${layer.name}/${name}`, op, [x], T);
}

/** A layer's `activation` option applied to node `x` (none: linear). */
export function layerActivation(g: GraphBuilder, { layer, cfg }: LayerCall, x: string): string {
  return activation(g, layer, x, String(cfg.activation ?? 'linear'));
}
