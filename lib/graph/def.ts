import * as tf from '@tensorflow/tfjs';
import { attr, DT_FLOAT, DT_INT32, FLOAT_T, GraphBuilder, savedModelBytes, UnsupportedGraphError, type OpRecord, type WeightFeed } from './builder';
import { layerWeight } from '../models/layers';
import type { Message } from './protobuf';

export { UnsupportedGraphError, type WeightFeed } from './builder';

/*
 * Translates a functional TF.js LayersModel into a TensorFlow GraphDef. TensorFlow then runs it the way
 * Keras's compiled functions run: as one graph, with Grappler's rewrites (Conv2D+BiasAdd+ReLU fused into one
 * kernel) and independent branches in parallel, instead of TF.js's one eager op at a time.
 * For inference, BatchNormalization is an affine map per channel, so it is folded into the convolution before
 * it (as TensorFlow's own inference optimisers do), and weights enter as placeholders fed with a snapshot of
 * the model's tensors at every run, not as constants: a graph of constants would carry every weight through
 * protobuf serialisation, a file and Grappler's constant passes, which cost seconds per model.
 * For training, weights are session variables, BatchNormalization stays one FusedBatchNormV3 (its gamma and
 * beta may train) and dropout multiplies by a mask fed at each step (graph-gradients.ts adds the backward pass).
 */

// ---- the graph under construction ------------------------------------------------------------------

/** A convolution whose output has not been emitted yet, so a BatchNormalization after it can be folded in. */
interface LinearConv {
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
}

type Value = string | LinearConv;

/** Emits pending convolutions (and their bias) the first time their output is used. */
class Emitter {
  /** Pending convolutions already emitted (a convolution output with several users is emitted once). */
  private emitted = new Map<LinearConv, string>();

  constructor(readonly g: GraphBuilder) {}

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
    const k = g.weight(`${v.layer}/kernel`, v.kernel);
    x = g.node(`${v.layer}/conv`, 'Conv2D', [x, k], {
      ...FLOAT_T, ...conv, strides: attr.ints(strides), padding: attr.string(padding),
      dilations: attr.ints(v.depthwise ? [1, 1, 1, 1] : v.dilations),
    });
    return g.biasAdd(v.layer, x, v.bias);
  }
}

// ---- layers ---------------------------------------------------------------------------------------

type Layer = tf.layers.Layer;
interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
}
interface GraphTensor extends tf.SymbolicTensor {
  nodeIndex: number;
  tensorIndex: number;
}
type Config = Record<string, unknown>;

function weight(layer: Layer, kind: string): tf.Tensor | undefined {
  return layerWeight(layer, kind)?.read();
}

function pair(v: unknown, what: string, layer: Layer): [number, number] {
  const p = typeof v === 'number' ? [v, v] : (v as number[]);
  if (!Array.isArray(p) || p.length !== 2) throw new UnsupportedGraphError(`${layer.name}: ${what} ${JSON.stringify(v)}`);
  return [p[0], p[1]];
}

function dilation(layer: Layer, cfg: Config, training = false): [number, number] {
  const d = pair(cfg.dilationRate ?? 1, 'dilation rate', layer);
  // TensorFlow's CPU kernels for the gradients of convolutions take no dilation (Keras goes through SpaceToBatchND).
  if (training && (d[0] !== 1 || d[1] !== 1)) throw new UnsupportedGraphError(`${layer.name}: dilated convolution in training`);
  return d;
}

function checkChannelsLast(layer: Layer, cfg: Config): void {
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    throw new UnsupportedGraphError(`${layer.name}: data format ${String(cfg.dataFormat)} (only channelsLast)`);
  }
}

/** TF.js activation names and the TensorFlow op of each one-op activation. */
const ACTIVATION_OPS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', selu: 'Selu', sigmoid: 'Sigmoid', tanh: 'Tanh', softplus: 'Softplus',
  softmax: 'Softmax',
};

function activation(g: GraphBuilder, layer: Layer, x: string, name: string): string {
  const T = FLOAT_T;
  if (name === 'linear') return x;
  if (name === 'swish') return g.node(`${layer.name}/swish`, 'Mul', [x, g.node(`${layer.name}/sigmoid`, 'Sigmoid', [x], T)], T);
  const op = Object.hasOwn(ACTIVATION_OPS, name) ? ACTIVATION_OPS[name] : undefined;
  if (!op) throw new UnsupportedGraphError(`${layer.name}: activation '${name}'`);
  return g.node(`${layer.name}/${name}`, op, [x], T);
}

function convValue(layer: Layer, cfg: Config, input: string, separable: boolean, training: boolean): LinearConv {
  checkChannelsLast(layer, cfg);
  const [sh, sw] = pair(cfg.strides, 'strides', layer);
  const [dh, dw] = dilation(layer, cfg, training);
  const padding = String(cfg.padding).toUpperCase();
  if (padding !== 'SAME' && padding !== 'VALID') throw new UnsupportedGraphError(`${layer.name}: padding '${String(cfg.padding)}'`);
  return {
    kind: 'conv',
    input,
    layer: layer.name,
    depthwise: separable ? weight(layer, 'depthwise_kernel')! : undefined,
    kernel: weight(layer, separable ? 'pointwise_kernel' : 'kernel')!,
    strides: [1, sh, sw, 1],
    padding,
    dilations: [1, dh, dw, 1],
    bias: (cfg.useBias ? weight(layer, 'bias') : undefined) ?? null,
  };
}

/** Inference-mode BatchNormalization as y = x·scale + shift, per channel. */
function batchNormAffine(layer: Layer, cfg: Config): { scale: tf.Tensor; shift: tf.Tensor } {
  const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3)) throw new UnsupportedGraphError(`${layer.name}: normalisation axis ${JSON.stringify(cfg.axis)}`);
  const mean = weight(layer, 'moving_mean')!;
  const variance = weight(layer, 'moving_variance')!;
  const gamma = cfg.scale === false ? undefined : weight(layer, 'gamma');
  const beta = cfg.center === false ? undefined : weight(layer, 'beta');
  const inv = tf.rsqrt(tf.add(variance, Number(cfg.epsilon)));
  const scale = gamma ? tf.mul(gamma, inv) : inv;
  const shift = tf.sub(beta ?? tf.zerosLike(mean), tf.mul(mean, scale));
  return { scale, shift };
}

/** The convolution followed by y = x·scale + shift: the output channel is the kernel's last axis. */
function foldAffine(conv: LinearConv, scale: tf.Tensor, shift: tf.Tensor): LinearConv {
  const bias = conv.bias ? tf.add(tf.mul(conv.bias, scale), shift) : shift;
  return { ...conv, kernel: tf.mul(conv.kernel, scale), bias };
}

/** What emitLayer knows of one layer call. */
interface LayerCall {
  layer: Layer;
  inputs: Value[];
  /** Per input: this call is its only consumer (a convolution may then absorb a BatchNormalization). */
  single: boolean[];
  inShapes: number[][];
  outShape: number[];
}

/** Emits one layer call; returns its output value. */
function emitLayer(e: Emitter, { layer, inputs, single, inShapes, outShape }: LayerCall): Value {
  const g = e.g;
  const training = g.mode === 'training';
  const cfg = layer.getConfig() as Config;
  const cls = layer.getClassName();
  const T = FLOAT_T;
  const x = () => e.materialize(inputs[0]);
  switch (cls) {
    case 'Conv2D':
    case 'SeparableConv2D': {
      const conv = convValue(layer, cfg, x(), cls === 'SeparableConv2D', training);
      const act = String(cfg.activation ?? 'linear');
      return act === 'linear' ? conv : activation(g, layer, e.materialize(conv), act);
    }
    case 'DepthwiseConv2D': {
      checkChannelsLast(layer, cfg);
      const [sh, sw] = pair(cfg.strides, 'strides', layer);
      const [dh, dw] = dilation(layer, cfg, training);
      const k = weight(layer, 'depthwise_kernel')!;
      let y = g.node(`${layer.name}/depthwise`, 'DepthwiseConv2dNative', [x(), g.weight(`${layer.name}/depthwise_kernel`, k)], {
        ...T, strides: attr.ints([1, sh, sw, 1]), padding: attr.string(String(cfg.padding).toUpperCase()),
        data_format: attr.string('NHWC'), dilations: attr.ints([1, dh, dw, 1]),
      });
      y = g.biasAdd(layer.name, y, cfg.useBias ? weight(layer, 'bias') : undefined);
      return activation(g, layer, y, String(cfg.activation ?? 'linear'));
    }
    case 'BatchNormalization':
    case 'FrozenBatchNormalization': {
      // TF.js's own BatchNormalization uses batch statistics when training; only the frozen one keeps its moving ones.
      if (training) {
        if (cls !== 'FrozenBatchNormalization') throw new UnsupportedGraphError(`${layer.name}: BatchNormalization with batch statistics`);
        return fusedBatchNorm(g, layer, cfg, x(), outShape[outShape.length - 1]);
      }
      const { scale, shift } = batchNormAffine(layer, cfg);
      const v = inputs[0];
      if (typeof v !== 'string' && single[0]) return foldAffine(v, scale, shift);
      const y = g.node(`${layer.name}/mul`, 'Mul', [e.materialize(v), g.weight(`${layer.name}/scale`, scale)], T);
      return g.node(`${layer.name}/add`, 'AddV2', [y, g.weight(`${layer.name}/shift`, shift)], T);
    }
    case 'Activation':
      return activation(g, layer, x(), String(cfg.activation));
    case 'ReLU':
      if (cfg.maxValue != null) throw new UnsupportedGraphError(`${layer.name}: ReLU with maxValue`);
      return activation(g, layer, x(), 'relu');
    case 'ZeroPadding2D': {
      checkChannelsLast(layer, cfg);
      const p = cfg.padding as number[][];
      const pads = g.const(`${layer.name}/paddings`, Int32Array.from([0, 0, p[0][0], p[0][1], p[1][0], p[1][1], 0, 0]), [4, 2]);
      return g.node(layer.name, 'Pad', [x(), pads], { ...T, Tpaddings: attr.type(DT_INT32) }, { edges: [[0, 0], p[0], p[1], [0, 0]] });
    }
    case 'Cropping2D': {
      checkChannelsLast(layer, cfg);
      const c = cfg.cropping as number[][];
      const [, h, w] = outShape;
      return g.node(layer.name, 'Slice', [x(), g.ints(`${layer.name}/begin`, [0, c[0][0], c[1][0], 0]), g.ints(`${layer.name}/size`, [-1, h, w, -1])], {
        ...T, Index: attr.type(DT_INT32),
      }, { edges: [[0, 0], c[0], c[1], [0, 0]] });
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      checkChannelsLast(layer, cfg);
      const [ph, pw] = pair(cfg.poolSize, 'pool size', layer);
      const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 'strides', layer);
      return g.node(layer.name, cls === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool', [x()], {
        ...T, ksize: attr.ints([1, ph, pw, 1]), strides: attr.ints([1, sh, sw, 1]),
        padding: attr.string(String(cfg.padding).toUpperCase()), data_format: attr.string('NHWC'),
      });
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      checkChannelsLast(layer, cfg);
      return g.node(layer.name, cls === 'GlobalAveragePooling2D' ? 'Mean' : 'Max', [x(), g.ints(`${layer.name}/axes`, [1, 2])], {
        ...T, Tidx: attr.type(DT_INT32), keep_dims: attr.bool(false),
      }, { count: inShapes[0][1] * inShapes[0][2] });
    case 'Add': {
      let y = e.materialize(inputs[0]);
      for (let i = 1; i < inputs.length; i++) y = g.node(layer.name, 'AddV2', [y, e.materialize(inputs[i])], T);
      return y;
    }
    case 'Concatenate': {
      const rank = outShape.length;
      let axis = Number(cfg.axis ?? -1);
      if (axis < 0) axis += rank;
      const names = inputs.map((v) => e.materialize(v));
      return g.node(layer.name, 'ConcatV2', [...names, g.const(`${layer.name}/axis`, Int32Array.of(axis), [])], {
        ...T, N: attr.int(names.length), Tidx: attr.type(DT_INT32),
      }, { splits: inShapes.map((s) => s[axis]) });
    }
    case 'CustomScaleLayer': {
      // Keras's order, x + residual·scale, as the layer computes it.
      const scaled = g.node(`${layer.name}/mul`, 'Mul', [e.materialize(inputs[1]), g.scalar(`${layer.name}/scale`, Number(cfg.scale))], T);
      return g.node(layer.name, 'AddV2', [e.materialize(inputs[0]), scaled], T);
    }
    case 'Dense': {
      const k = weight(layer, 'kernel')!;
      if (outShape.length !== 2) throw new UnsupportedGraphError(`${layer.name}: Dense on a rank-${outShape.length} tensor`);
      let y = g.node(`${layer.name}/matmul`, 'MatMul', [x(), g.weight(`${layer.name}/kernel`, k)], {
        ...T, transpose_a: attr.bool(false), transpose_b: attr.bool(false),
      });
      y = g.biasAdd(layer.name, y, cfg.useBias ? weight(layer, 'bias') : undefined);
      return activation(g, layer, y, String(cfg.activation ?? 'linear'));
    }
    case 'Flatten':
      return g.node(layer.name, 'Reshape', [x(), g.ints(`${layer.name}/shape`, [-1, outShape.slice(1).reduce((a, b) => a * b, 1)])], {
        ...T, Tshape: attr.type(DT_INT32),
      });
    case 'Dropout':
    case 'SeededDropout':
      if (!training || Number(cfg.rate) === 0) return inputs[0];
      // TF.js's Dropout draws from its own generator; only SeededDropout's masks can be made outside the layer.
      if (cls !== 'SeededDropout') throw new UnsupportedGraphError(`${layer.name}: Dropout in training (only SeededDropout)`);
      return g.node(layer.name, 'Mul', [x(), g.mask(layer, outShape)], T);
    default:
      throw new UnsupportedGraphError(`${layer.name}: layer class ${cls}`);
  }
}

/** Inference-mode batch normalisation as one FusedBatchNormV3, so its gradient is one FusedBatchNormGradV3. */
function fusedBatchNorm(g: GraphBuilder, layer: Layer, cfg: Config, x: string, channels: number): string {
  const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== 3)) throw new UnsupportedGraphError(`${layer.name}: normalisation axis ${JSON.stringify(cfg.axis)}`);
  const param = (kind: string, fill: number) => {
    const w = cfg[kind === 'gamma' ? 'scale' : 'center'] === false ? undefined : weight(layer, kind);
    return w ? g.weight(`${layer.name}/${kind}`, w) : g.const(`${layer.name}/${kind}`, new Float32Array(channels).fill(fill), [channels]);
  };
  const inputs = [x, param('gamma', 1), param('beta', 0), g.weight(`${layer.name}/moving_mean`, weight(layer, 'moving_mean')!), g.weight(`${layer.name}/moving_variance`, weight(layer, 'moving_variance')!)];
  return g.node(layer.name, 'FusedBatchNormV3', inputs, {
    ...FLOAT_T, U: attr.type(DT_FLOAT), epsilon: attr.float(Number(cfg.epsilon)), data_format: attr.string('NHWC'), is_training: attr.bool(false),
  });
}

export interface ModelGraph {
  graphDef: Message;
  /** Placeholder names, one per model input, in order (feed as `name:0`). */
  inputs: string[];
  /**
   * The weights (BatchNorm already folded in), each fed to its placeholder at every run. A snapshot: the
   * tensors are kept (tf.keep) and owned by the graph's user, who disposes them with {@link disposeGraph}.
   */
  weights: WeightFeed[];
  /** Output node names, one per model output, in order (fetch as `name:0`). */
  outputs: string[];
  /** Model inputs' shapes (batch dimension -1). */
  inputShapes: number[][];
  outputShapes: number[][];
}

/**
 * The forward graph of a model for training, in a builder that the loss, gradients and optimizer extend. The
 * builder's `variables` (every session variable, including any added later) and `masks` (dropout masks to
 * feed at each step, ones for evaluation) are the graph's state.
 */
export interface TrainingGraph {
  builder: GraphBuilder;
  inputs: string[];
  /** Output node names (Identity of each model output). */
  outputs: string[];
  inputShapes: number[][];
  outputShapes: number[][];
  /** The forward nodes, in the order they were emitted (a topological order). */
  records: OpRecord[];
}

/**
 * The inference graph of `model` with its current weights. Throws {@link UnsupportedGraphError} for
 * layers it does not translate (the caller then runs the model with TF.js).
 */
export function modelGraph(model: tf.LayersModel): ModelGraph {
  const g = new GraphBuilder('inference');
  try {
    // Folding makes intermediate tensors; only the kept weight snapshots outlive the scope.
    let io: GraphIo | undefined;
    tf.tidy(() => {
      io = buildGraph(model, g);
    });
    return { graphDef: g.graphDef(), weights: g.weights, ...io! };
  } catch (err) {
    tf.dispose(g.weights.map((w) => w.tensor));
    throw err;
  }
}

/** The forward graph of `model` for training (weights as session variables, dropout masks fed). */
export function trainingGraph(model: tf.LayersModel): TrainingGraph {
  const g = new GraphBuilder('training');
  const io = buildGraph(model, g);
  return { builder: g, ...io, records: [...g.records] };
}

/** Frees the weight snapshots of a graph. */
export function disposeGraph(graph: ModelGraph): void {
  tf.dispose(graph.weights.map((w) => w.tensor));
}

interface GraphIo {
  inputs: string[];
  outputs: string[];
  inputShapes: number[][];
  outputShapes: number[][];
}

function buildGraph(model: tf.LayersModel, g: GraphBuilder): GraphIo {
  const e = new Emitter(g);
  const inputIds = new Map(model.inputs.map((t, i) => [t.id, i]));
  const nodeOf = (t: GraphTensor) => (t.sourceLayer as unknown as { inboundNodes: GraphNode[] }).inboundNodes[t.nodeIndex];
  const dims = (t: tf.SymbolicTensor) => t.shape.map((d) => d ?? -1);

  // Consumers of each tensor, so a convolution is folded only into a BatchNormalization that is its sole user.
  const uses = new Map<number, number>();
  const seen = new Set<number>();
  const stack = [...model.outputs] as GraphTensor[];
  for (const o of model.outputs) uses.set(o.id, (uses.get(o.id) ?? 0) + 1);
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id) || inputIds.has(t.id)) continue;
    seen.add(t.id);
    for (const i of nodeOf(t).inputTensors as GraphTensor[]) {
      uses.set(i.id, (uses.get(i.id) ?? 0) + 1);
      stack.push(i);
    }
  }

  const values = new Map<number, Value>();
  const inputs = model.inputs.map((t, i) => {
    if (t.dtype !== 'float32') throw new UnsupportedGraphError(`input ${i} has dtype ${t.dtype}`);
    const name = g.placeholder(`input_${i}`, dims(t));
    values.set(t.id, name);
    return name;
  });
  // Iterative post-order walk: IRV2's graph is ~800 layers deep.
  const emit = (root: GraphTensor): Value => {
    const todo: GraphTensor[] = [root];
    while (todo.length) {
      const t = todo[todo.length - 1];
      if (values.has(t.id)) {
        todo.pop();
        continue;
      }
      const ins = nodeOf(t).inputTensors as GraphTensor[];
      const missing = ins.filter((i) => !values.has(i.id));
      if (missing.length) {
        todo.push(...missing);
        continue;
      }
      todo.pop();
      const layer = t.sourceLayer as Layer;
      if (t.tensorIndex !== 0) throw new UnsupportedGraphError(`${layer.name}: layers with several outputs`);
      values.set(t.id, emitLayer(e, {
        layer, inputs: ins.map((i) => values.get(i.id)!), single: ins.map((i) => uses.get(i.id) === 1),
        inShapes: ins.map(dims), outShape: dims(t),
      }));
    }
    return values.get(root.id)!;
  };
  const outputs = (model.outputs as GraphTensor[]).map((o, i) => g.node(`output_${i}`, 'Identity', [e.materialize(emit(o))], FLOAT_T));
  return { inputs, outputs, inputShapes: model.inputs.map(dims), outputShapes: model.outputs.map(dims) };
}

/** A SavedModel (tag `serve`, signature `serving_default`) holding `graph`, as saved_model.pb bytes. */
export function savedModelProto(graph: ModelGraph): Uint8Array {
  return savedModelBytes(
    graph.graphDef,
    graph.inputs.map((name, i) => ({ name, shape: graph.inputShapes[i] })),
    graph.outputs.map((name, i) => ({ name, shape: graph.outputShapes[i] })),
  );
}
