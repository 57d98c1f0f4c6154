/**
 * A TensorFlow graph session on the native backend, the one place that knows how tfjs-node runs a graph. The
 * binding has no call that takes a GraphDef, but it does load SavedModels (TF_LoadSessionFromSavedModel) and run
 * them (TF_SessionRun), with the stock tfjs-node and tfjs-node-gpu builds alike: so the graph is written as a
 * saved_model.pb into a temporary folder, loaded, and the folder removed (the session holds the graph in memory).
 * Callers feed placeholders and fetch nodes by the node names the GraphBuilder returned; the `name:0` tensor
 * names, dtypes and the session id stay in here, and so does disposal: of the session, of the tensors bound to
 * it, and of the casts a run makes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { WeightFeed } from './builder';
import type { NativeBackend } from '../tfjs-internal';

/** Tensors fed to placeholders, by node name; every placeholder here is float32 (others are cast). */
export type Feeds = readonly (readonly [string, tf.Tensor])[];

export interface GraphSessionOptions {
  /** What the session runs, for errors: "inference model of 'resnet50'" (… was disposed). */
  label: string;
  /**
   * Feeds given with every run, such as an inference graph's weight snapshots. The session owns them from the
   * call on: they are freed with the session, or at once when it cannot be opened.
   */
  bound?: readonly WeightFeed[];
}

/** The tensor name of output 0 of a node (a name that already names an output is kept). */
const tensorName = (node: string) => (/:\d+$/.test(node) ? node : `${node}:0`);

export class GraphSession {
  private open = true;

  private constructor(
    private readonly backend: NativeBackend,
    private readonly id: number,
    private readonly label: string,
    private readonly bound: readonly WeightFeed[],
  ) {}

  /**
   * Loads saved_model.pb bytes (tag `serve`, as `savedModelBytes` writes them) as a session of the native
   * backend.
   * @param savedModel the SavedModel, serialised
   * @param opts what the session is for, and the feeds it owns and gives with every run
   * @throws Error when the active backend is not tfjs-node's, or when TensorFlow rejects the graph
   * @example
   * const session = GraphSession.open(savedModelProto(graph), { label: `inference model of '${model.name}'`, bound: graph.weights });
   * const [y] = session.run([[graph.inputs[0], x]], graph.outputs);
   * session.dispose();
   */
  static open(savedModel: Uint8Array, opts: GraphSessionOptions): GraphSession {
    const bound = opts.bound ?? [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-graph-'));
    try {
      if (tf.getBackend() !== 'tensorflow') throw new Error(`${opts.label}: a graph session needs the tensorflow backend, not ${tf.getBackend()}`);
      const backend = tf.backend() as unknown as NativeBackend;
      fs.writeFileSync(path.join(dir, 'saved_model.pb'), savedModel);
      return new GraphSession(backend, backend.loadSavedModelMetaGraph(dir, 'serve'), opts.label, bound);
    } catch (err) {
      tf.dispose(bound.map((w) => w.tensor));
      throw err;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * One session run: the bound feeds and `feeds` in, the output 0 of each node of `fetches` out, in order.
   * Feeds that are not float32 are cast for the run; the caller's tensors stay the caller's, and the
   * fetched tensors are the caller's to dispose.
   * @throws Error after {@link dispose}, or when TensorFlow fails the run (a missing feed, a wrong shape)
   * @example
   * const [loss, output] = session.run([['input_0', x], ['labels', y]], ['step/loss', 'step/output']);
   */
  run(feeds: Feeds, fetches: readonly string[]): tf.Tensor[] {
    this.check();
    const all = [...feeds, ...this.bound.map((w) => [w.name, w.tensor] as const)];
    const tensors = all.map(([, t]) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
    try {
      return this.backend.runSavedModel(this.id, tensors, all.map(([name]) => ({ name: tensorName(name), tfDtype: 'DT_FLOAT' })), fetches.map(tensorName));
    } finally {
      tf.dispose(tensors.filter((t, i) => t !== all[i][1]));
    }
  }

  /**
   * Throws once the session is disposed, so a caller can fail before preparing feeds.
   * @throws Error "<label> was disposed"
   */
  check(): void {
    if (!this.open) throw new Error(`${this.label} was disposed`);
  }

  /** Closes the session and frees the bound feeds; safe to call twice. */
  dispose(): void {
    if (!this.open) return;
    this.open = false;
    this.backend.deleteSavedModel(this.id);
    tf.dispose(this.bound.map((w) => w.tensor));
  }
}

/**
 * Throws a clear error unless `xs` fit a graph's input shapes (-1: any size).
 * @param model the model's name, for the message
 * @param shapes the graph's input shapes, batch dimension -1
 * @param xs the tensors about to be fed
 * @throws Error naming the model, the input and both shapes
 * @example
 * checkInputs('resnet50', [[-1, 224, 224, 3]], [x]); // "model 'resnet50' input 0: expected shape [N,224,224,3], got [1,5,6,1]"
 */
export function checkInputs(model: string, shapes: number[][], xs: readonly tf.Tensor[]): void {
  if (xs.length !== shapes.length) throw new Error(`model '${model}' takes ${shapes.length} input(s), got ${xs.length}`);
  xs.forEach((t, i) => {
    const want = shapes[i];
    if (t.rank !== want.length || want.some((d, j) => d >= 0 && d !== t.shape[j])) {
      throw new Error(`model '${model}' input ${i}: expected shape [${want.map((d) => (d < 0 ? 'N' : d))}], got [${t.shape}]`);
    }
  });
}
