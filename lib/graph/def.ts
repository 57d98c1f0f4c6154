/**
 * Translates a functional TF.js LayersModel into a TensorFlow GraphDef. TensorFlow then runs it the way Keras's
 * compiled functions run: as one graph, with Grappler's rewrites (Conv2D+BiasAdd+ReLU fused into one kernel) and
 * independent branches in parallel, instead of TF.js's one eager op at a time. This module walks the model's
 * layer calls in topological order and hands each to its translator (ops.ts).
 * For inference, BatchNormalization is folded into the convolution before it, and weights enter as placeholders
 * fed with a snapshot of the model's tensors at every run, not as constants: a graph of constants would carry
 * every weight through protobuf serialisation, a file and Grappler's constant passes, which cost seconds per
 * model. For training, weights are session variables, BatchNormalization stays one FusedBatchNormV3 (its gamma
 * and beta may train) and dropout multiplies by a mask fed at each step (gradients.ts adds the backward pass).
 */
import * as tf from '@tensorflow/tfjs';
import { FLOAT_T, GraphBuilder, savedModelBytes, UnsupportedGraphError, type OpRecord, type WeightFeed } from './builder';
import { Emitter, type Config, type Layer, type Value } from './emitter';
import { translateLayer } from './ops';
import type { Message } from './protobuf';
import { producerNode, type GraphTensor } from '../tfjs-internal';

export { UnsupportedGraphError, type WeightFeed } from './builder';

/** A graph's inputs and outputs: node names and shapes (batch dimension -1), one per model input or output. */
export interface GraphIo {
  /** Placeholder names, one per model input, in order. */
  inputs: string[];
  /** Output node names (Identity of each model output), in order. */
  outputs: string[];
  inputShapes: number[][];
  outputShapes: number[][];
}

export interface ModelGraph extends GraphIo {
  graphDef: Message;
  /**
   * The weights (BatchNorm already folded in), each fed to its placeholder at every run. A snapshot: the
   * tensors are kept (tf.keep) and owned by the graph's user, who disposes them with {@link disposeGraph} (or
   * hands them to the GraphSession that runs the graph).
   */
  weights: WeightFeed[];
}

/**
 * The forward graph of a model for training, in a builder that the loss, gradients and optimizer extend. The
 * builder's `variables` (every session variable, including any added later) and `masks` (dropout masks to
 * feed at each step, ones for evaluation) are the graph's state.
 */
export interface TrainingGraph extends GraphIo {
  builder: GraphBuilder;
  /** The forward nodes, in the order they were emitted (a topological order). */
  records: OpRecord[];
}

/**
 * The inference graph of `model` with its current weights.
 * @throws UnsupportedGraphError for a layer it does not translate (the caller then runs the model with TF.js)
 * @example
 * const graph = modelGraph(model);
 * const session = GraphSession.open(savedModelProto(graph), { label: model.name, bound: graph.weights });
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

/**
 * The forward graph of `model` for training (weights as session variables, dropout masks fed).
 * @throws UnsupportedGraphError for a layer without a training translation
 */
export function trainingGraph(model: tf.LayersModel): TrainingGraph {
  const g = new GraphBuilder('training');
  const io = buildGraph(model, g);
  return { builder: g, ...io, records: [...g.records] };
}

/** Frees the weight snapshots of a graph. */
export function disposeGraph(graph: ModelGraph): void {
  tf.dispose(graph.weights.map((w) => w.tensor));
}

/** How many layer calls consume each tensor, so a convolution is folded only into a BatchNormalization that is its sole user. */
function countUses(model: tf.LayersModel, inputIds: ReadonlySet<number>): Map<number, number> {
  const uses = new Map<number, number>();
  const seen = new Set<number>();
  const stack = [...model.outputs];
  for (const o of model.outputs) uses.set(o.id, (uses.get(o.id) ?? 0) + 1);
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id) || inputIds.has(t.id)) continue;
    seen.add(t.id);
    for (const i of producerNode(t).inputTensors) {
      uses.set(i.id, (uses.get(i.id) ?? 0) + 1);
      stack.push(i);
    }
  }
  return uses;
}

function buildGraph(model: tf.LayersModel, g: GraphBuilder): GraphIo {
  const e = new Emitter(g);
  const dims = (t: tf.SymbolicTensor) => t.shape.map((d) => d ?? -1);
  const uses = countUses(model, new Set(model.inputs.map((t) => t.id)));

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
      const ins = producerNode(t).inputTensors as GraphTensor[];
      const missing = ins.filter((i) => !values.has(i.id));
      if (missing.length) {
        todo.push(...missing);
        continue;
      }
      todo.pop();
      const layer = t.sourceLayer as Layer;
      if (t.tensorIndex !== 0) throw new UnsupportedGraphError(`${layer.name}: layers with several outputs`);
      values.set(t.id, translateLayer(e, {
        layer, cls: layer.getClassName(), cfg: layer.getConfig() as Config,
        inputs: ins.map((i) => values.get(i.id)!), single: ins.map((i) => uses.get(i.id) === 1),
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
