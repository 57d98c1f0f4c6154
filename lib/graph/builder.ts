/**
 * Building a TensorFlow GraphDef node by node. Every node is also kept as a plain record (op, inputs,
 * attributes), which is what the backward pass (gradients.ts) differentiates. A graph for inference feeds its
 * weights as placeholders holding snapshots; a graph for training keeps them in resource variables, which live
 * in the TensorFlow session between runs, so a training step moves only the batch in and the loss out.
 */
import * as tf from '@tensorflow/tfjs';
import { Message } from './protobuf';

/** TensorFlow DataType enum values used here. */
export const DT_FLOAT = 1;
export const DT_INT32 = 3;
export const DT_BOOL = 10;

/** Thrown for a layer (or configuration) the translation does not cover; callers fall back to TF.js. */
export class UnsupportedGraphError extends Error {}

// ---- AttrValue, TensorShapeProto, TensorProto --------------------------------------------------------

export const attr = {
  type: (dtype: number) => new Message().int(6, dtype),
  int: (v: number) => new Message().int(3, v),
  float: (v: number) => new Message().float(4, v),
  bool: (v: boolean) => new Message().bool(5, v),
  string: (v: string) => new Message().string(2, v),
  ints: (v: number[]) => new Message().message(1, new Message().packedInts(3, v)),
  shape: (dims: number[]) => new Message().message(7, shapeProto(dims)),
  tensor: (t: Message) => new Message().message(8, t),
};

/** `T: float32`, the attribute of almost every node here. */
export const FLOAT_T = Object.freeze({ T: attr.type(DT_FLOAT) });

export function shapeProto(dims: readonly number[]): Message {
  const m = new Message();
  for (const d of dims) m.message(2, new Message().int(1, d));
  return m;
}

function tensorProto(dtype: number, shape: readonly number[], data: Float32Array | Int32Array): Message {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Message().int(1, dtype).message(2, shapeProto(shape)).bytes(4, bytes);
}

// ---- nodes ----------------------------------------------------------------------------------------

/** Static facts about a node that its gradient needs and the graph cannot give cheaply. */
export interface OpMeta {
  /** ConcatV2: each input's size along the axis. */
  splits?: number[];
  /** Pad: the [before, after] amounts added to each dimension; Slice (cropping): the amounts cut. */
  edges?: number[][];
  /** Mean over the spatial axes: how many values each output averages. */
  count?: number;
  /** Mul of a tensor by a per-channel vector (its second input): the axes that vector's gradient sums over. */
  reduce?: number[];
  /** ResizeNearestNeighbor and ResizeBilinear: the input's height and width. */
  from?: [number, number];
  /**
   * An undilated Conv2D: the kernel's shape [kh, kw, in, out], its strides [sh, sw] and padding, and the input's
   * height and width where known.
   */
  conv?: { kernel: number[]; strides: [number, number]; padding: string; size?: [number, number] };
}

/** One emitted node, as the backward pass reads it. Inputs are tensor names (`node` or `node:k`). */
export interface OpRecord {
  name: string;
  op: string;
  inputs: string[];
  attrs: Record<string, Message>;
  meta?: OpMeta;
}

/** A weight placeholder and the tensor it is fed with. */
export interface WeightFeed {
  name: string;
  tensor: tf.Tensor;
}

/** A resource variable of a training graph, holding one TF.js variable's value inside the session. */
export interface GraphVariable {
  /** The VarHandleOp node. */
  handle: string;
  /** The ReadVariableOp node the forward pass uses. */
  read: string;
  variable: tf.Variable;
}

/**
 * A layer that makes its own dropout masks, as a pure function of the noise step (the trainer's SeededDropout):
 * `size` values, 1 / (1 − rate) where kept and 0 where dropped.
 */
export interface MaskSource {
  readonly name: string;
  mask(size: number, step: number): Float32Array;
}

/** A placeholder fed with a layer's dropout mask at each training step. */
export interface MaskFeed {
  name: string;
  layer: MaskSource;
  /** The mask's shape (batch dimension -1). */
  shape: number[];
}

export type GraphMode = 'inference' | 'training';

export class GraphBuilder {
  readonly nodes: Message[] = [];
  readonly records: OpRecord[] = [];
  /** Inference mode: the weight placeholders and their snapshots. */
  readonly weights: WeightFeed[] = [];
  /** Training mode: one variable per TF.js variable the model reads. */
  readonly variables: GraphVariable[] = [];
  readonly masks: MaskFeed[] = [];
  private names = new Set<string>();
  private byVariable = new Map<tf.Variable, GraphVariable>();

  constructor(readonly mode: GraphMode = 'inference') {}

  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_').replace(/^[^A-Za-z0-9.]/, 'n');
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node; `control` names nodes that must run first. Returns the node's name. */
  node(base: string, op: string, inputs: string[], attrs: Record<string, Message>, meta?: OpMeta, control: string[] = []): string {
    return this.named(this.uniqueName(base), op, inputs, attrs, meta, control);
  }

  private named(name: string, op: string, inputs: string[], attrs: Record<string, Message>, meta?: OpMeta, control: string[] = []): string {
    const m = new Message().string(1, name).string(2, op);
    for (const i of inputs) m.string(3, i);
    for (const c of control) m.string(3, `^${c}`);
    for (const [k, v] of Object.entries(attrs)) m.mapEntry(5, k, v);
    this.nodes.push(m);
    this.records.push({ name, op, inputs, attrs, meta });
    return name;
  }

  const(base: string, data: Float32Array | Int32Array, shape: number[]): string {
    const dtype = data instanceof Float32Array ? DT_FLOAT : DT_INT32;
    return this.node(base, 'Const', [], { dtype: attr.type(dtype), value: attr.tensor(tensorProto(dtype, shape, data)) });
  }

  ints(base: string, values: number[]): string {
    return this.const(base, Int32Array.from(values), [values.length]);
  }

  scalar(base: string, value: number): string {
    return this.const(base, Float32Array.of(value), []);
  }

  placeholder(base: string, shape: number[], dtype = DT_FLOAT): string {
    return this.node(base, 'Placeholder', [], { dtype: attr.type(dtype), shape: attr.shape(shape) });
  }

  /** The int32 shape of tensor `x`, for gradients of ops whose batch size is only known at run time. */
  shapeOf(x: string): string {
    return this.node(`${x.replace(/:\d+$/, '')}/shape`, 'Shape', [x], { ...FLOAT_T, out_type: attr.type(DT_INT32) });
  }

  /**
   * A weight: in inference mode a placeholder fed with a snapshot of `tensor`; in training mode the read of
   * the session variable holding `tensor`, which must then be the TF.js variable itself.
   */
  weight(base: string, tensor: tf.Tensor): string {
    if (this.mode === 'training') {
      if (!(tensor instanceof tf.Variable)) throw new Error(`training graph: weight ${base} is not a variable`);
      return this.variable(tensor, base).read;
    }
    const name = this.placeholder(base, tensor.shape);
    // A clone shares the data; assigning the variable later gives it new data and leaves this snapshot.
    this.weights.push({ name, tensor: tf.keep(tf.clone(tensor)) });
    return name;
  }

  /** A float32 resource variable (its VarHandleOp node), which keeps its value in the session between runs. */
  resource(base: string, shape: number[]): string {
    const handle = this.uniqueName(base);
    // The shared_name (here the unique node name) is what makes the variable outlive one run.
    return this.named(handle, 'VarHandleOp', [], {
      dtype: attr.type(DT_FLOAT), shape: attr.shape(shape), container: attr.string(''), shared_name: attr.string(handle),
    });
  }

  readResource(handle: string): string {
    return this.node(`${handle}/read`, 'ReadVariableOp', [handle], { dtype: attr.type(DT_FLOAT) });
  }

  /** The session variable holding `variable` (made on first use). */
  variable(variable: tf.Variable, base = variable.name): GraphVariable {
    let v = this.byVariable.get(variable);
    if (!v) {
      const handle = this.resource(`${base}/var`, variable.shape);
      const read = this.readResource(handle);
      v = { handle, read, variable };
      this.byVariable.set(variable, v);
      this.variables.push(v);
    }
    return v;
  }

  /** A dropout mask placeholder for `layer`, shaped like its input. */
  mask(layer: MaskSource, shape: number[]): string {
    const name = this.placeholder(`${layer.name}/mask`, shape);
    this.masks.push({ name, layer, shape });
    return name;
  }

  /** `x` plus a bias weight on its last axis (nothing without one). */
  biasAdd(layer: string, x: string, bias: tf.Tensor | null | undefined): string {
    if (!bias) return x;
    return this.node(`${layer}/bias_add`, 'BiasAdd', [x, this.weight(`${layer}/bias`, bias)], { ...FLOAT_T, data_format: attr.string('NHWC') });
  }

  /** The GraphDef of everything added so far. */
  graphDef(): Message {
    const graphDef = new Message();
    for (const n of this.nodes) graphDef.message(1, n);
    // VersionDef: producer of TF 2.x graphs; no minimum consumer.
    graphDef.message(4, new Message().int(1, 1882).int(2, 0));
    return graphDef;
  }
}

/** A tensor of a SavedModel signature. */
export interface SignatureTensor {
  name: string;
  shape: number[];
}

/** A SavedModel (tag `serve`, signature `serving_default`) holding `graphDef`, as saved_model.pb bytes. */
export function savedModelBytes(graphDef: Message, inputs: SignatureTensor[], outputs: SignatureTensor[]): Uint8Array {
  const tensorInfo = (t: SignatureTensor) => new Message().string(1, `${t.name}:0`).int(2, DT_FLOAT).message(3, shapeProto(t.shape));
  const signature = new Message();
  for (const t of inputs) signature.mapEntry(1, t.name, tensorInfo(t));
  for (const t of outputs) signature.mapEntry(2, t.name, tensorInfo(t));
  signature.string(3, 'tensorflow/serving/predict');
  const metaGraph = new Message()
    .message(1, new Message().string(4, 'serve'))
    .message(2, graphDef)
    .mapEntry(5, 'serving_default', signature);
  return new Message().int(1, 1).message(2, metaGraph).finish();
}
