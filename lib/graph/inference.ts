/**
 * Inference through a TensorFlow graph session on the native backend. TF.js runs a LayersModel one eager op at a
 * time; Keras's predict runs a compiled graph, in which Grappler fuses convolution, bias and ReLU and the
 * executor runs a NASNet cell's branches in parallel. Here the model's graph (def.ts, BatchNorm folded into the
 * convolutions) runs in a GraphSession fed with a snapshot of the weights: the same runtime as Keras. Works with
 * the stock tfjs-node and tfjs-node-gpu bindings, and falls back to the model's own `predict`, saying why, where
 * it cannot run. Weights changed after `compileInference` are not seen (compile again after training).
 */
import * as tf from '@tensorflow/tfjs';
import { modelGraph, savedModelProto, UnsupportedGraphError } from './def';
import { checkInputs, GraphSession } from './session';

/** What runs a compiled model: a native TensorFlow graph session, or TF.js's own `predict`. */
export type InferenceEngine = 'tensorflow-graph' | 'tfjs';

export interface InferenceModel {
  readonly engine: InferenceEngine;
  /** Why the graph engine is not used (when `engine` is 'tfjs'). */
  readonly reason?: string;
  /** Same contract as LayersModel.predict on one batch; the caller owns the result. */
  predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  /** Frees the session (the LayersModel is not touched). */
  dispose(): void;
}

export interface CompileOptions {
  /** Use TF.js's predict even where the graph engine is available (CXR_GRAPH_INFERENCE=0 does the same). */
  graph?: boolean;
}

function tfjsModel(model: tf.LayersModel, reason: string): InferenceModel {
  return { engine: 'tfjs', reason, predict: (x) => model.predict(x), dispose: () => undefined };
}

/**
 * An inference-only version of `model` on the fastest engine available: a native TensorFlow graph session on
 * the `tensorflow` backend, else the model's own `predict`.
 * @param model the model, whose current weights the graph engine snapshots
 * @param opts `graph: false` for TF.js's predict
 * @throws Error when TensorFlow rejects a graph it was given (a layer it cannot translate falls back instead)
 * @example
 * const inference = compileInference(model);
 * const probs = inference.predict(batch) as tf.Tensor;
 * inference.dispose();
 */
export function compileInference(model: tf.LayersModel, opts: CompileOptions = {}): InferenceModel {
  if (opts.graph === false || process.env.CXR_GRAPH_INFERENCE === '0') return tfjsModel(model, 'graph inference turned off');
  if (tf.getBackend() !== 'tensorflow') return tfjsModel(model, `backend is ${tf.getBackend()}, not tensorflow`);
  let graph;
  try {
    graph = modelGraph(model);
  } catch (err) {
    if (err instanceof UnsupportedGraphError) return tfjsModel(model, `not translatable to a TensorFlow graph: ${err.message}`);
    throw err;
  }
  const { inputs, outputs, inputShapes } = graph;
  const session = GraphSession.open(savedModelProto(graph), { label: `inference model of '${model.name}'`, bound: graph.weights });
  return {
    engine: 'tensorflow-graph',
    predict(x) {
      const xs = Array.isArray(x) ? x : [x];
      session.check();
      checkInputs(model.name, inputShapes, xs);
      const out = session.run(inputs.map((name, i) => [name, xs[i]]), outputs);
      return out.length === 1 ? out[0] : out;
    },
    dispose: () => session.dispose(),
  };
}
