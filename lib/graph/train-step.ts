/**
 * The training step as one TensorFlow graph, the way Keras runs train_step: forward pass (def.ts), loss
 * (loss.ts), backward pass (gradients.ts) and Adam updates (ResourceApplyAdam) in a single session run, which
 * TensorFlow schedules across cores and Grappler optimises. Weights and Adam's moments live in session
 * variables, so a step moves only the batch in and the loss and outputs out; `sync()` copies them back into the
 * TF.js variables and optimizer (for validation snapshots, checkpoints and everything after training).
 *
 * It computes what TF.js's eager step computes — the same loss with Keras's clipping, the same dropout masks
 * (SeededDropout's, fed per step) and TF.js's Adam: TensorFlow's ApplyAdam adds epsilon to √v rather than to
 * √v̂, so it is fed ε·√(1 − β₂ᵗ), which makes the two updates the same.
 */
import * as tf from '@tensorflow/tfjs';
import { attr, DT_FLOAT, DT_INT32, FLOAT_T, savedModelBytes, UnsupportedGraphError, type GraphBuilder, type GraphVariable } from './builder';
import { trainingGraph } from './def';
import { addGradients } from './gradients';
import { lossGraph, type LossKind } from './loss';
import { checkInputs, GraphSession, type Feeds } from './session';
import { adamInternals, type AdamInternals, type AdamSlot } from './adam-state';

export type { LossKind } from './loss';

/**
 * Training steps on one model with one optimizer: what the graph step here and the trainer's eager step
 * (lib/train/step.ts) both provide. With the graph step the current weights and Adam state live in the session:
 * call {@link sync} before reading the TF.js variables or optimizer.
 */
export interface StepRunner {
  /**
   * One Adam step on a batch, dropout on with the masks of `noiseStep`. Resolves to the batch's mean loss
   * (before the update) and the model's outputs, which the caller disposes.
   */
  step(inputs: tf.Tensor[], y: tf.Tensor, noiseStep: number): Promise<{ loss: number; output: tf.Tensor }>;
  /** The model's outputs at inference (dropout off) with the current weights; the caller disposes them. */
  predict(inputs: tf.Tensor[]): tf.Tensor;
  /** Writes the current weights and optimizer state into the TF.js variables and optimizer. */
  sync(): Promise<void>;
  dispose(): void;
}

/** Adam's part of the graph: its hyper-parameters fed per step, the moment slots and one update per variable. */
interface AdamNodes {
  lr: string;
  beta1Power: string;
  beta2Power: string;
  epsilon: string;
  /** Per trained variable, the resource variables of its first and second moments. */
  slots: { m: string; v: string }[];
  /** The ResourceApplyAdam nodes. */
  applies: string[];
}

function adamNodes(g: GraphBuilder, trained: readonly GraphVariable[], grads: readonly (string | undefined)[], adam: AdamInternals): AdamNodes {
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
  return { lr, beta1Power, beta2Power, epsilon, slots, applies };
}

/** A session variable to initialise: from a tensor, or (Adam's slots of a fresh optimizer) with zeros. */
interface InitValue {
  handle: string;
  shape: number[];
  value?: tf.Tensor;
}

/**
 * Initialisation: each session variable from a fed value, deep-copied, or from zeros the graph makes. The copy:
 * AssignVariableOp would otherwise keep the fed buffer, which tfjs-node may have wrapped around JavaScript memory;
 * once Adam copies-on-write, the last reference to it drops on a TensorFlow worker thread, whose call back into
 * Node.js corrupts the heap. The zeros: feeding them meant allocating, copying and copying again two tensors per
 * weight (page faults on fresh memory, mostly); compiling a ResNet-101 step took 6–7 s here that way, 3.0 s so.
 */
function initNodes(g: GraphBuilder, variables: readonly InitValue[]): { feeds: [string, tf.Tensor][]; done: string } {
  const feeds: [string, tf.Tensor][] = [];
  const zero = g.scalar('init/zero', 0);
  const assigns = variables.map((v) => {
    let value: string;
    if (v.value) {
      const feed = g.placeholder(`${v.handle}/init`, v.shape);
      feeds.push([feed, v.value]);
      value = g.node(`${v.handle}/init_copy`, 'DeepCopy', [feed], FLOAT_T);
    } else {
      value = g.node(`${v.handle}/init_zeros`, 'Fill', [g.ints(`${v.handle}/init_shape`, v.shape), zero], { ...FLOAT_T, index_type: attr.type(DT_INT32) });
    }
    return g.node(`${v.handle}/assign`, 'AssignVariableOp', [v.handle, value], { dtype: attr.type(DT_FLOAT) });
  });
  return { feeds, done: g.node('init/done', 'Identity', [zero], FLOAT_T, undefined, assigns) };
}

/**
 * A training step for `model` as a TensorFlow graph session (the native backend must be active).
 * @param vars the variables to train, in the optimizer's order; every other weight stays as it is
 * @param optimizer TF.js's Adam, whose state the session continues and `sync()` writes back
 * @throws UnsupportedGraphError where the model has a layer, or an op on the gradient path, the translation
 * does not cover
 * @example
 * const steps = graphTrainingStep(model, vars, tf.train.adam(1e-3), 'categoricalCrossentropy');
 * const { loss, output } = await steps.step([x], y, batchIndex);
 */
export function graphTrainingStep(model: tf.LayersModel, vars: readonly tf.Variable[], optimizer: tf.AdamOptimizer, lossKind: LossKind): StepRunner {
  const tg = trainingGraph(model);
  const g = tg.builder;
  if (tg.outputs.length !== 1) throw new UnsupportedGraphError(`${tg.outputs.length} outputs (one is trained)`);
  const output = tg.outputs[0];
  const labels = g.placeholder('labels', tg.outputShapes[0]);
  const { loss, grad } = lossGraph(g, lossKind, output, labels);
  const trained = vars.map((v) => g.variable(v));
  const grads = addGradients(g, tg.records, new Map([[output, grad]]), trained.map((v) => v.read));
  const adam = adamInternals(optimizer);
  const { lr, beta1Power, beta2Power, epsilon, slots, applies } = adamNodes(g, trained, grads, adam);
  // The fetched loss and outputs wait for every update, so one run is one whole step.
  const stepLoss = g.node('step/loss', 'Identity', [loss], FLOAT_T, undefined, applies);
  const stepOutput = g.node('step/output', 'Identity', [output], FLOAT_T, undefined, applies);
  const init = initNodes(g, [...g.variables.map((v) => ({ handle: v.handle, shape: v.variable.shape, value: v.variable as tf.Tensor })), ...slots.flatMap((s, i) => [
    { handle: s.m, shape: trained[i].variable.shape, value: adam.accumulatedFirstMoment[i]?.variable as tf.Tensor | undefined },
    { handle: s.v, shape: trained[i].variable.shape, value: adam.accumulatedSecondMoment[i]?.variable as tf.Tensor | undefined },
  ])]);
  const slotReads = slots.flatMap((s) => [g.readResource(s.m), g.readResource(s.v)]);

  const session = GraphSession.open(savedModelBytes(
    g.graphDef(),
    [...tg.inputs.map((name, i) => ({ name, shape: tg.inputShapes[i] })), { name: labels, shape: tg.outputShapes[0] }],
    [{ name: stepLoss, shape: [] }, { name: stepOutput, shape: tg.outputShapes[0] }],
  ), { label: `training step of '${model.name}'` });

  // Adam's state as TF.js keeps it, advanced here per step and written back by sync().
  let iterations = optimizer.iterations;
  let b1 = adam.accBeta1.dataSync()[0];
  let b2 = adam.accBeta2.dataSync()[0];
  try {
    tf.dispose(session.run(init.feeds, [init.done]));
  } catch (err) {
    session.dispose();
    throw err;
  }

  /** The batch and the dropout masks of noise step `step` (ones for `null`: inference). */
  const batchFeeds = (inputs: tf.Tensor[], step: number | null): [string, tf.Tensor][] => {
    checkInputs(model.name, tg.inputShapes, inputs);
    const n = inputs[0].shape[0];
    const masks = g.masks.map((m): [string, tf.Tensor] => {
      const shape = [n, ...m.shape.slice(1)];
      const size = shape.reduce((a, b) => a * b, 1);
      return [m.name, step === null ? tf.ones(shape) : tf.tensor(m.layer.mask(size, step), shape)];
    });
    return [...tg.inputs.map((name, i): [string, tf.Tensor] => [name, inputs[i]]), ...masks];
  };
  /** Runs, then frees the feeds made here (masks, scalars) but not the caller's tensors. */
  const runOwned = (feeds: Feeds, given: tf.Tensor[], fetches: string[]) => {
    try {
      return session.run(feeds, fetches);
    } finally {
      tf.dispose(feeds.map((f) => f[1]).filter((t) => !given.includes(t)));
    }
  };

  return {
    async step(inputs, y, noiseStep) {
      session.check();
      const feeds = batchFeeds(inputs, noiseStep);
      // As TF.js's own step: the powers are running float32 products, advanced after the step.
      feeds.push([labels, y], [lr, tf.scalar(adam.learningRate)], [beta1Power, tf.scalar(b1)], [beta2Power, tf.scalar(b2)],
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
      session.check();
      return runOwned(batchFeeds(inputs, null), inputs, [output])[0];
    },
    async sync() {
      const values = session.run([], [...trained.map((v) => v.read), ...slotReads]);
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
    dispose: () => session.dispose(),
  };
}
