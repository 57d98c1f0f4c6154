import * as tf from '@tensorflow/tfjs';
import { layerWeight } from './layers';
import { Message } from './protobuf';

/*
 * Translates a functional TF.js LayersModel into a TensorFlow GraphDef for inference. TensorFlow then runs
 * it the way Keras's compiled predict runs: as one graph, with Grappler's rewrites (Conv2D+BiasAdd+ReLU fused
 * into one kernel) and independent branches in parallel, instead of TF.js's one eager op at a time.
 * BatchNormalization in inference mode is an affine map per channel, so it is folded into the convolution
 * before it (as TensorFlow's own inference optimisers do). Weights enter as placeholders fed with a snapshot
 * of the model's tensors at every run, not as constants: a graph of constants would carry every weight
 * through protobuf serialisation, a file and Grappler's constant passes, which cost seconds per model.
 */

/** TensorFlow DataType enum values used here. */
const DT_FLOAT = 1;
const DT_INT32 = 3;

type Layer = tf.layers.Layer;
interface GraphNode {
  inputTensors: tf.SymbolicTensor[];
}
interface GraphTensor extends tf.SymbolicTensor {
  nodeIndex: number;
  tensorIndex: number;
}

/** Thrown for a layer (or configuration) the translation does not cover; callers fall back to TF.js. */
export class UnsupportedGraphError extends Error {}

/** A weight placeholder and the tensor it is fed with. */
export interface WeightFeed {
  name: string;
  tensor: tf.Tensor;
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

// ---- AttrValue, TensorShapeProto, TensorProto --------------------------------------------------------

const attr = {
  type: (dtype: number) => new Message().int(6, dtype),
  int: (v: number) => new Message().int(3, v),
  float: (v: number) => new Message().float(4, v),
  bool: (v: boolean) => new Message().bool(5, v),
  string: (v: string) => new Message().string(2, v),
  ints: (v: number[]) => new Message().message(1, new Message().packedInts(3, v)),
  shape: (dims: number[]) => new Message().message(7, shapeProto(dims)),
  tensor: (t: Message) => new Message().message(8, t),
};

function shapeProto(dims: readonly number[]): Message {
  const m = new Message();
  for (const d of dims) m.message(2, new Message().int(1, d));
  return m;
}

function tensorProto(dtype: number, shape: readonly number[], data: Float32Array | Int32Array): Message {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Message().int(1, dtype).message(2, shapeProto(shape)).bytes(4, bytes);
}

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

class GraphBuilder {
  readonly nodes: Message[] = [];
  readonly weights: WeightFeed[] = [];
  private names = new Set<string>();
  /** Pending convolutions already emitted (a convolution output with several users is emitted once). */
  private emitted = new Map<LinearConv, string>();

  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_').replace(/^[^A-Za-z0-9.]/, 'n');
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  node(base: string, op: string, inputs: string[], attrs: Record<string, Message>): string {
    const name = this.uniqueName(base);
    const m = new Message().string(1, name).string(2, op);
    for (const i of inputs) m.string(3, i);
    for (const [k, v] of Object.entries(attrs)) m.mapEntry(5, k, v);
    this.nodes.push(m);
    return name;
  }

  const(base: string, data: Float32Array | Int32Array, shape: number[]): string {
    const dtype = data instanceof Float32Array ? DT_FLOAT : DT_INT32;
    return this.node(base, 'Const', [], { dtype: attr.type(dtype), value: attr.tensor(tensorProto(dtype, shape, data)) });
  }

  ints(base: string, values: number[]): string {
    return this.const(base, Int32Array.from(values), [values.length]);
  }

  /** A float32 weight placeholder fed with (a snapshot of) `tensor`. */
  weight(base: string, tensor: tf.Tensor): string {
    const name = this.node(base, 'Placeholder', [], { dtype: attr.type(DT_FLOAT), shape: attr.shape(tensor.shape) });
    // A clone shares the data; assigning the variable later gives it new data and leaves this snapshot.
    this.weights.push({ name, tensor: tf.keep(tf.clone(tensor)) });
    return name;
  }

  /** The node name of a value, emitting a pending convolution (and its bias) the first time. */
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
    const T = { T: attr.type(DT_FLOAT) };
    const conv = { data_format: attr.string('NHWC'), dilations: attr.ints(v.dilations) };
    let x = v.input;
    let strides = v.strides;
    let padding = v.padding;
    if (v.depthwise) {
      const k = this.weight(`${v.layer}/depthwise_kernel`, v.depthwise);
      x = this.node(`${v.layer}/depthwise`, 'DepthwiseConv2dNative', [x, k], { ...T, ...conv, strides: attr.ints(strides), padding: attr.string(padding) });
      strides = [1, 1, 1, 1];
      padding = 'VALID';
    }
    const k = this.weight(`${v.layer}/kernel`, v.kernel);
    x = this.node(`${v.layer}/conv`, 'Conv2D', [x, k], {
      ...T, ...conv, strides: attr.ints(strides), padding: attr.string(padding),
      dilations: attr.ints(v.depthwise ? [1, 1, 1, 1] : v.dilations),
    });
    return this.biasAdd(v.layer, x, v.bias);
  }

  /** `x` plus a bias weight on its last axis (nothing without one). */
  biasAdd(layer: string, x: string, bias: tf.Tensor | null | undefined): string {
    if (!bias) return x;
    return this.node(`${layer}/bias_add`, 'BiasAdd', [x, this.weight(`${layer}/bias`, bias)], { T: attr.type(DT_FLOAT), data_format: attr.string('NHWC') });
  }
}

// ---- layers ---------------------------------------------------------------------------------------

type Config = Record<string, unknown>;

function weight(layer: Layer, kind: string): tf.Tensor | undefined {
  return layerWeight(layer, kind)?.read();
}

function pair(v: unknown, what: string, layer: Layer): [number, number] {
  const p = typeof v === 'number' ? [v, v] : (v as number[]);
  if (!Array.isArray(p) || p.length !== 2) throw new UnsupportedGraphError(`${layer.name}: ${what} ${JSON.stringify(v)}`);
  return [p[0], p[1]];
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
  const T = { T: attr.type(DT_FLOAT) };
  if (name === 'linear') return x;
  if (name === 'swish') return g.node(`${layer.name}/swish`, 'Mul', [x, g.node(`${layer.name}/sigmoid`, 'Sigmoid', [x], T)], T);
  const op = Object.hasOwn(ACTIVATION_OPS, name) ? ACTIVATION_OPS[name] : undefined;
  if (!op) throw new UnsupportedGraphError(`${layer.name}: activation '${name}'`);
  return g.node(`${layer.name}/${name}`, op, [x], T);
}

function convValue(layer: Layer, cfg: Config, input: string, separable: boolean): LinearConv {
  checkChannelsLast(layer, cfg);
  const [sh, sw] = pair(cfg.strides, 'strides', layer);
  const [dh, dw] = pair(cfg.dilationRate ?? 1, 'dilation rate', layer);
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

/** Emits one layer applied to `inputs`; returns its output value. */
function emitLayer(g: GraphBuilder, layer: Layer, inputs: Value[], single: boolean[], outShape: number[]): Value {
  const cfg = layer.getConfig() as Config;
  const cls = layer.getClassName();
  const T = { T: attr.type(DT_FLOAT) };
  const x = () => g.materialize(inputs[0]);
  switch (cls) {
    case 'Conv2D':
    case 'SeparableConv2D': {
      const conv = convValue(layer, cfg, x(), cls === 'SeparableConv2D');
      const act = String(cfg.activation ?? 'linear');
      return act === 'linear' ? conv : activation(g, layer, g.materialize(conv), act);
    }
    case 'DepthwiseConv2D': {
      checkChannelsLast(layer, cfg);
      const [sh, sw] = pair(cfg.strides, 'strides', layer);
      const [dh, dw] = pair(cfg.dilationRate ?? 1, 'dilation rate', layer);
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
      // TF.js's own BatchNormalization layer is in inference mode in predict(), like the frozen one.
      const { scale, shift } = batchNormAffine(layer, cfg);
      const v = inputs[0];
      if (typeof v !== 'string' && single[0]) return foldAffine(v, scale, shift);
      const y = g.node(`${layer.name}/mul`, 'Mul', [g.materialize(v), g.weight(`${layer.name}/scale`, scale)], T);
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
      return g.node(layer.name, 'Pad', [x(), pads], { ...T, Tpaddings: attr.type(DT_INT32) });
    }
    case 'Cropping2D': {
      checkChannelsLast(layer, cfg);
      const c = cfg.cropping as number[][];
      const [, h, w] = outShape;
      return g.node(layer.name, 'Slice', [x(), g.ints(`${layer.name}/begin`, [0, c[0][0], c[1][0], 0]), g.ints(`${layer.name}/size`, [-1, h, w, -1])], {
        ...T, Index: attr.type(DT_INT32),
      });
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
      });
    case 'Add': {
      let y = g.materialize(inputs[0]);
      for (let i = 1; i < inputs.length; i++) y = g.node(layer.name, 'AddV2', [y, g.materialize(inputs[i])], T);
      return y;
    }
    case 'Concatenate': {
      const rank = outShape.length;
      const axis = Number(cfg.axis ?? -1);
      const names = inputs.map((v) => g.materialize(v));
      return g.node(layer.name, 'ConcatV2', [...names, g.const(`${layer.name}/axis`, Int32Array.of(axis < 0 ? axis + rank : axis), [])], {
        ...T, N: attr.int(names.length), Tidx: attr.type(DT_INT32),
      });
    }
    case 'CustomScaleLayer': {
      // Keras's order, x + residual·scale, as the layer computes it.
      const scaled = g.node(`${layer.name}/mul`, 'Mul', [g.materialize(inputs[1]), g.const(`${layer.name}/scale`, Float32Array.of(Number(cfg.scale)), [])], T);
      return g.node(layer.name, 'AddV2', [g.materialize(inputs[0]), scaled], T);
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
      return inputs[0];
    default:
      throw new UnsupportedGraphError(`${layer.name}: layer class ${cls}`);
  }
}

/**
 * The inference graph of `model` with its current weights. Throws {@link UnsupportedGraphError} for
 * layers it does not translate (the caller then runs the model with TF.js).
 */
export function modelGraph(model: tf.LayersModel): ModelGraph {
  const g = new GraphBuilder();
  try {
    // Folding makes intermediate tensors; only the kept weight snapshots outlive the scope.
    let graph: ModelGraph | undefined;
    tf.tidy(() => {
      graph = buildGraph(model, g);
    });
    return graph!;
  } catch (err) {
    tf.dispose(g.weights.map((w) => w.tensor));
    throw err;
  }
}

/** Frees the weight snapshots of a graph. */
export function disposeGraph(graph: ModelGraph): void {
  tf.dispose(graph.weights.map((w) => w.tensor));
}

function buildGraph(model: tf.LayersModel, g: GraphBuilder): ModelGraph {
  const inputIds = new Map(model.inputs.map((t, i) => [t.id, i]));
  const nodeOf = (t: GraphTensor) => (t.sourceLayer as unknown as { inboundNodes: GraphNode[] }).inboundNodes[t.nodeIndex];

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
    const shape = t.shape.map((d) => d ?? -1);
    const name = g.node(`input_${i}`, 'Placeholder', [], { dtype: attr.type(DT_FLOAT), shape: attr.shape(shape) });
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
      const v = emitLayer(g, layer, ins.map((i) => values.get(i.id)!), ins.map((i) => uses.get(i.id) === 1), t.shape.map((d) => d ?? -1));
      values.set(t.id, v);
    }
    return values.get(root.id)!;
  };
  const outputs = (model.outputs as GraphTensor[]).map((o, i) =>
    g.node(`output_${i}`, 'Identity', [g.materialize(emit(o))], { T: attr.type(DT_FLOAT) }));

  const graphDef = new Message();
  for (const n of g.nodes) graphDef.message(1, n);
  // VersionDef: producer of TF 2.x graphs; no minimum consumer.
  graphDef.message(4, new Message().int(1, 1882).int(2, 0));
  return {
    graphDef,
    inputs,
    weights: g.weights,
    outputs,
    inputShapes: model.inputs.map((t) => t.shape.map((d) => d ?? -1)),
    outputShapes: model.outputs.map((t) => t.shape.map((d) => d ?? -1)),
  };
}

/** A SavedModel (tag `serve`, signature `serving_default`) holding `graph`, as saved_model.pb bytes. */
export function savedModelProto(graph: ModelGraph): Uint8Array {
  const tensorInfo = (name: string, shape: number[]) =>
    new Message().string(1, `${name}:0`).int(2, DT_FLOAT).message(3, shapeProto(shape));
  const signature = new Message();
  graph.inputs.forEach((n, i) => signature.mapEntry(1, n, tensorInfo(n, graph.inputShapes[i])));
  graph.outputs.forEach((n, i) => signature.mapEntry(2, n, tensorInfo(n, graph.outputShapes[i])));
  signature.string(3, 'tensorflow/serving/predict');
  const metaGraph = new Message()
    .message(1, new Message().string(4, 'serve'))
    .message(2, graph.graphDef)
    .mapEntry(5, 'serving_default', signature);
  return new Message().int(1, 1).message(2, metaGraph).finish();
}
