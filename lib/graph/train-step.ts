import * as tf from '@tensorflow/tfjs';
import { attr, DT_FLOAT, DT_INT32, FLOAT_T, savedModelBytes, UnsupportedGraphError, type GraphBuilder } from './builder';
import { trainingGraph } from './def';
import { addGradients } from './gradients';
import { checkInputs, floatFeed, openGraphSession } from './inference';
import type { Message } from './protobuf';
import { adamInternals, type AdamSlot } from './adam-state';
import type { SeededDropout } from '../train/head';
import type { LossKind, TrainingStep } from '../train/step';

/*
 * The training step as one TensorFlow graph, the way Keras runs train_step: forward pass, loss, backward pass
 * (graph-gradients.ts) and Adam updates (ResourceApplyAdam) in a single session run, which TensorFlow
 * schedules across cores and Grappler optimises. Weights and Adam's moments live in session variables, so a
 * step moves only the batch in and the loss and outputs out; `sync()` copies them back into the TF.js
 * variables and optimizer (for validation snapshots, checkpoints and everything after training).
 *
 * It computes what TF.js's eager step computes — the same loss with Keras's clipping, the same dropout masks
 * (SeededDropout's, fed per step) and TF.js's Adam: TensorFlow's ApplyAdam adds epsilon to √v rather than to
 * √v̂, so it is fed ε·√(1 − β₂ᵗ), which makes the two updates the same.
 */

/** Keras `backend.epsilon()`, the clipping of predictions before the logarithm (as in tasks.ts). */
const EPSILON = 1e-7;

interface LossNodes {
  loss: string;
  /** Gradient of the loss with respect to the model output. */
  grad: string;
}

function lossGraph(g: GraphBuilder, kind: LossKind, p: string, y: string): LossNodes {
  const T = FLOAT_T;
  const n = (base: string, op: string, inputs: string[], attrs: Record<string, Message> = T) => g.node(`loss/${base}`, op, inputs, attrs);
  const reduce = (base: string, op: 'Sum' | 'Mean', x: string, axes: number[], keep: boolean) =>
    n(base, op, [x, g.ints(`loss/${base}_axes`, axes)], { ...T, Tidx: attr.type(DT_INT32), keep_dims: attr.bool(keep) });
  const one = g.scalar('loss/one', 1);
  const lo = g.scalar('loss/eps', EPSILON);
  const hi = g.scalar('loss/one_minus_eps', 1 - EPSILON);
  // Gradient of clipByValue (TF.js's): passes where lo ≤ x ≤ hi.
  const clipped = (x: string, dx: string) => {
    const inside = n('inside', 'LogicalAnd', [n('ge', 'GreaterEqual', [x, lo]), n('le', 'LessEqual', [x, hi])], {});
    return n('clip_grad', 'SelectV2', [inside, dx, n('zeros', 'ZerosLike', [dx])]);
  };
  const count = (x: string) => n('count', 'Cast', [n('size', 'Size', [x], { ...T, out_type: attr.type(DT_INT32) })], {
    SrcT: attr.type(DT_INT32), DstT: attr.type(DT_FLOAT), Truncate: attr.bool(false),
  });
  if (kind === 'binaryCrossentropy') {
    // −mean(y·log p + (1 − y)·log(1 − p)), p clipped.
    const pc = n('clip', 'ClipByValue', [p, lo, hi]);
    const notY = n('one_minus_y', 'Sub', [one, y]);
    const notP = n('one_minus_p', 'Sub', [one, pc]);
    const ll = n('ll', 'AddV2', [n('pos', 'Mul', [y, n('log_p', 'Log', [pc])]), n('neg', 'Mul', [notY, n('log_not_p', 'Log', [notP])])]);
    const loss = n('loss', 'Neg', [reduce('mean', 'Mean', ll, [0, 1], false)]);
    const dpc = n('dp', 'RealDiv', [n('dll', 'Sub', [n('d_neg', 'RealDiv', [notY, notP]), n('d_pos', 'RealDiv', [y, pc])]), count(p)]);
    return { loss, grad: clipped(p, dpc) };
  }
  // −mean over rows of Σ y·log q, q = p / Σp clipped.
  const s = reduce('sum_p', 'Sum', p, [-1], true);
  const q = n('q', 'RealDiv', [p, s]);
  const qc = n('clip', 'ClipByValue', [q, lo, hi]);
  const rows = reduce('rows', 'Sum', n('ll', 'Mul', [y, n('log_q', 'Log', [qc])]), [-1], false);
  const loss = n('loss', 'Neg', [reduce('mean', 'Mean', rows, [0], false)]);
  const dq = clipped(q, n('dq', 'RealDiv', [n('neg_y_q', 'Neg', [n('y_q', 'RealDiv', [y, qc])]), count(rows)]));
  // Through q = p / Σp: dp = (dq − Σ dq·q) / Σp.
  const dot = reduce('dot', 'Sum', n('dq_q', 'Mul', [dq, q]), [-1], true);
  return { loss, grad: n('grad', 'RealDiv', [n('dq_centred', 'Sub', [dq, dot]), s]) };
}

/**
 * A training step for `model` as a TensorFlow graph session (the native backend must be active). Throws
 * {@link UnsupportedGraphError} where the model has a layer, or an op on the gradient path, the translation
 * does not cover.
 */
export function graphTrainingStep(model: tf.LayersModel, vars: readonly tf.Variable[], optimizer: tf.AdamOptimizer, lossKind: LossKind): TrainingStep {
  const tg = trainingGraph(model);
  const g = tg.builder;
  if (tg.outputs.length !== 1) throw new UnsupportedGraphError(`${tg.outputs.length} outputs (one is trained)`);
  const output = tg.outputs[0];
  const labels = g.placeholder('labels', tg.outputShapes[0]);
  const { loss, grad } = lossGraph(g, lossKind, output, labels);
  const trained = vars.map((v) => g.variable(v));
  const grads = addGradients(g, tg.records, new Map([[output, grad]]), trained.map((v) => v.read));

  const adam = adamInternals(optimizer);
  const lr = g.placeholder('adam/lr', []);
  const beta1Power = g.placeholder('adam/beta1_power', []);
  const beta2Power = g.placeholder('adam/beta2_power', []);
  const epsilon = g.placeholder('adam/epsilon', []);
  const beta1 = g.scalar('adam/beta1', adam.beta1);
  const beta2 = g.scalar('adam/beta2', adam.beta2);
  const slots = trained.map((v) => ({
    m: g.resource(`${v.variable.name}/m`, v.variable.shape),
    v: g.resource(`${v.variable.name}/v`, v.variable.shape),
  }));
  const applies = trained.map((v, i) => {
    // A variable the loss does not reach still gets Adam's update with a zero gradient, as in TF.js.
    const dv = grads[i] ?? g.node(`${v.variable.name}/zero_grad`, 'ZerosLike', [v.read], FLOAT_T);
    return g.node(`${v.variable.name}/adam`, 'ResourceApplyAdam', [v.handle, slots[i].m, slots[i].v, beta1Power, beta2Power, lr, beta1, beta2, epsilon, dv], {
      ...FLOAT_T, use_locking: attr.bool(false), use_nesterov: attr.bool(false),
    });
  });
  // The fetched loss and outputs wait for every update, so one run is one whole step.
  const stepLoss = g.node('step/loss', 'Identity', [loss], FLOAT_T, undefined, applies);
  const stepOutput = g.node('step/output', 'Identity', [output], FLOAT_T, undefined, applies);

  // Initialisation: every session variable from a fed value, deep-copied. AssignVariableOp would otherwise keep
  // the fed buffer, which tfjs-node may have wrapped around JavaScript memory; once Adam copies-on-write, the last
  // reference to it drops on a TensorFlow worker thread, whose call back into Node.js corrupts the heap.
  const all = [...g.variables.map((v) => ({ handle: v.handle, shape: v.variable.shape })), ...slots.flatMap((s, i) => [
    { handle: s.m, shape: trained[i].variable.shape }, { handle: s.v, shape: trained[i].variable.shape },
  ])];
  const initFeeds = all.map((v) => g.placeholder(`${v.handle}/init`, v.shape));
  const assigns = all.map((v, i) => g.node(`${v.handle}/assign`, 'AssignVariableOp', [
    v.handle, g.node(`${v.handle}/init_copy`, 'DeepCopy', [initFeeds[i]], FLOAT_T),
  ], { dtype: attr.type(DT_FLOAT) }));
  const initDone = g.node('init/done', 'Identity', [g.scalar('init/zero', 0)], FLOAT_T, undefined, assigns);
  const slotReads = slots.flatMap((s) => [g.readResource(s.m), g.readResource(s.v)]);

  const { backend, id } = openGraphSession(savedModelBytes(
    g.graphDef(),
    [...tg.inputs.map((name, i) => ({ name, shape: tg.inputShapes[i] })), { name: labels, shape: tg.outputShapes[0] }],
    [{ name: stepLoss, shape: [] }, { name: stepOutput, shape: tg.outputShapes[0] }],
  ));
  const run = (feeds: [string, tf.Tensor][], fetches: string[]) =>
    backend.runSavedModel(id, feeds.map((f) => f[1]), feeds.map((f) => floatFeed(f[0])), fetches.map((f) => `${f}:0`));

  // Adam's state as TF.js keeps it, advanced here per step and written back by sync().
  let iterations = optimizer.iterations;
  let b1 = adam.accBeta1.dataSync()[0];
  let b2 = adam.accBeta2.dataSync()[0];
  try {
    tf.tidy(() => {
      const slotValue = (list: AdamSlot[], i: number) => list[i]?.variable ?? tf.zeros(trained[i].variable.shape);
      const values = [...g.variables.map((v) => v.variable as tf.Tensor), ...trained.flatMap((_, i) => [slotValue(adam.accumulatedFirstMoment, i), slotValue(adam.accumulatedSecondMoment, i)])];
      tf.dispose(run(initFeeds.map((name, i) => [name, values[i]]), [initDone]));
    });
  } catch (err) {
    backend.deleteSavedModel(id);
    throw err;
  }

  const batchFeeds = (inputs: tf.Tensor[], step: number | null): [string, tf.Tensor][] => {
    checkInputs(model.name, tg.inputShapes, inputs);
    const n = inputs[0].shape[0];
    const masks = g.masks.map((m): [string, tf.Tensor] => {
      const shape = [n, ...m.shape.slice(1)];
      const size = shape.reduce((a, b) => a * b, 1);
      return [m.name, step === null ? tf.ones(shape) : tf.tensor((m.layer as SeededDropout).mask(size, step), shape)];
    });
    return [...tg.inputs.map((name, i): [string, tf.Tensor] => [name, inputs[i]]), ...masks];
  };
  /** Runs, then frees the feeds made here (masks, casts, scalars) but not the caller's tensors. */
  const runOwned = (feeds: [string, tf.Tensor][], given: tf.Tensor[], fetches: string[]) => {
    try {
      return run(feeds, fetches);
    } finally {
      tf.dispose(feeds.map((f) => f[1]).filter((t) => !given.includes(t)));
    }
  };
  const float = (t: tf.Tensor) => (t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
  let disposed = false;
  const alive = () => {
    if (disposed) throw new Error(`training step of '${model.name}' was disposed`);
  };

  return {
    engine: 'tensorflow-graph',
    async step(inputs, y, noiseStep) {
      alive();
      const feeds = batchFeeds(inputs.map(float), noiseStep);
      // As TF.js's own step: the powers are running float32 products, advanced after the step.
      feeds.push([labels, float(y)], [lr, tf.scalar(adam.learningRate)], [beta1Power, tf.scalar(b1)], [beta2Power, tf.scalar(b2)],
        [epsilon, tf.scalar(adam.epsilon * Math.sqrt(1 - b2))]);
      const [l, out] = runOwned(feeds, [...inputs, y], [stepLoss, stepOutput]);
      iterations++;
      b1 = Math.fround(b1 * Math.fround(adam.beta1));
      b2 = Math.fround(b2 * Math.fround(adam.beta2));
      const value = (await l.data())[0];
      l.dispose();
      return { loss: value, output: out };
    },
    predict(inputs) {
      alive();
      return runOwned(batchFeeds(inputs.map(float), null), inputs, [output])[0];
    },
    async sync() {
      alive();
      const values = run([], [...trained.map((v) => v.read), ...slotReads]);
      trained.forEach((v, i) => v.variable.assign(values[i]));
      const slot = (list: AdamSlot[], i: number, value: tf.Tensor, kind: string) => {
        if (list[i]) list[i].variable.assign(value);
        else list[i] = { originalName: `${trained[i].variable.name}/${kind}`, variable: value.variable(false) };
      };
      trained.forEach((_, i) => {
        slot(adam.accumulatedFirstMoment, i, values[vars.length + 2 * i], 'm');
        slot(adam.accumulatedSecondMoment, i, values[vars.length + 2 * i + 1], 'v');
      });
      tf.dispose(values);
      adam.iterations_ = iterations;
      tf.tidy(() => {
        adam.accBeta1.assign(tf.scalar(b1));
        adam.accBeta2.assign(tf.scalar(b2));
      });
    },
    dispose() {
      if (!disposed) backend.deleteSavedModel(id);
      disposed = true;
    },
  };
}
