import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disposeGraph, modelGraph, savedModelProto, UnsupportedGraphError } from './def';

/*
 * Inference through a TensorFlow graph session on the native backend. TF.js runs a LayersModel one eager
 * op at a time; Keras's predict runs a compiled graph, in which Grappler fuses convolution, bias and ReLU
 * and the executor runs a NASNet cell's branches in parallel. Here the model's graph (BatchNorm folded into
 * the convolutions) is written as a SavedModel into a temporary folder, loaded by the binding's
 * TF_LoadSessionFromSavedModel, and run with TF_SessionRun, fed with a snapshot of the weights: the same
 * runtime as Keras. Works with the stock tfjs-node and tfjs-node-gpu bindings. Weights changed after
 * `compileInference` are not seen (compile again after training).
 */

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

/** The SavedModel calls of tfjs-node's backend (not exported as a type we can import). */
export interface NativeBackend {
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  runSavedModel(id: number, inputs: tf.Tensor[], infos: { name: string; tfDtype: string }[], outputs: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

/** Throws a clear error unless `xs` fit a graph's input shapes (-1: any size). */
export function checkInputs(model: string, shapes: number[][], xs: tf.Tensor[]): void {
  if (xs.length !== shapes.length) throw new Error(`model '${model}' takes ${shapes.length} input(s), got ${xs.length}`);
  xs.forEach((t, i) => {
    const want = shapes[i];
    if (t.rank !== want.length || want.some((d, j) => d >= 0 && d !== t.shape[j])) {
      throw new Error(`model '${model}' input ${i}: expected shape [${want.map((d) => (d < 0 ? 'N' : d))}], got [${t.shape}]`);
    }
  });
}

/** A float32 feed of a session run, by node name. */
export const floatFeed = (name: string) => ({ name: `${name}:0`, tfDtype: 'DT_FLOAT' });

/**
 * Loads saved_model.pb bytes as a session of the native backend (which must be active). The session holds
 * the graph in memory; the temporary folder is only how TensorFlow's loader takes it.
 */
export function openGraphSession(savedModel: Uint8Array): { backend: NativeBackend; id: number } {
  const backend = tf.backend() as unknown as NativeBackend;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-graph-'));
  try {
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), savedModel);
    return { backend, id: backend.loadSavedModelMetaGraph(dir, 'serve') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface CompileOptions {
  /** Use TF.js's predict even where the graph engine is available (CXR_GRAPH_INFERENCE=0 does the same). */
  graph?: boolean;
}

function tfjsModel(model: tf.LayersModel, reason: string): InferenceModel {
  return { engine: 'tfjs', reason, predict: (x) => model.predict(x), dispose: () => undefined };
}

/**
 * An inference-only version of `model` on the fastest engine available: a native TensorFlow graph
 * session on the `tensorflow` backend, else the model's own `predict`.
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
  let session;
  try {
    session = openGraphSession(savedModelProto(graph));
  } catch (err) {
    disposeGraph(graph);
    throw err;
  }
  const { backend, id } = session;
  const infos = [...graph.inputs.map(floatFeed), ...graph.weights.map((w) => floatFeed(w.name))];
  const weights = graph.weights.map((w) => w.tensor);
  const fetches = graph.outputs.map((n) => `${n}:0`);
  let disposed = false;
  return {
    engine: 'tensorflow-graph',
    predict(x) {
      if (disposed) throw new Error(`inference model of '${model.name}' was disposed`);
      const xs = Array.isArray(x) ? x : [x];
      checkInputs(model.name, graph.inputShapes, xs);
      const cast = xs.map((t) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
      const out = backend.runSavedModel(id, [...cast, ...weights], infos, fetches);
      cast.forEach((t, i) => t !== xs[i] && t.dispose());
      return out.length === 1 ? out[0] : out;
    },
    dispose() {
      if (!disposed) {
        backend.deleteSavedModel(id);
        disposeGraph(graph);
      }
      disposed = true;
    },
  };
}
