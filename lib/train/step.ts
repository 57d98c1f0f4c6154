/**
 * Compiling a model's training step on the fastest engine available: one TensorFlow graph per step on the
 * `tensorflow` backend (lib/graph/train-step.ts, as Keras runs train_step), else TF.js's eager ops, which also
 * take over, saying why, for a layer the graph translation does not cover. The trainer sees one interface,
 * whichever engine runs.
 */
import * as tf from '@tensorflow/tfjs';
import { UnsupportedGraphError } from '../graph/builder';
import { graphTrainingStep, type LossKind, type StepRunner } from '../graph/train-step';

export type { LossKind };

/** What runs training steps: a native TensorFlow graph session, or TF.js's eager ops. */
export type TrainingEngine = 'tensorflow-graph' | 'tfjs';

/**
 * One model, one optimizer and the variables it trains, ready to take training steps. With the graph engine
 * the current weights and Adam state live in the session: call {@link TrainingStep.sync} before reading the
 * TF.js variables or optimizer.
 */
export interface TrainingStep extends StepRunner {
  readonly engine: TrainingEngine;
  /** Why the graph engine is not used (when `engine` is 'tfjs'). */
  readonly reason?: string;
}

export interface TrainingStepOptions {
  /** Variables to train, in the optimizer's order; every other weight stays as it is. */
  vars: tf.Variable[];
  optimizer: tf.AdamOptimizer;
  loss: LossKind;
  /** The TF.js form of `loss`, for the eager engine. */
  lossFn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
  /** `false`: TF.js's eager ops even where the graph engine is available (CXR_GRAPH_TRAINING=0 does the same). */
  graph?: boolean;
}

function eagerStep(model: tf.LayersModel, opts: TrainingStepOptions, reason: string): TrainingStep {
  const apply = (inputs: tf.Tensor[], kwargs: Record<string, unknown>) =>
    model.apply(inputs.length === 1 ? inputs[0] : inputs, kwargs) as tf.Tensor;
  return {
    engine: 'tfjs',
    reason,
    async step(inputs, y, noiseStep) {
      let output: tf.Tensor | undefined;
      const cost = opts.optimizer.minimize(() => {
        output = tf.keep(apply(inputs, { training: true, noiseStep }));
        return opts.lossFn(y, output);
      }, true, opts.vars)!;
      const loss = (await cost.data())[0];
      cost.dispose();
      return { loss, output: output! };
    },
    predict: (inputs) => tf.tidy(() => apply(inputs, { training: false })),
    sync: async () => undefined,
    dispose: () => undefined,
  };
}

/**
 * Training steps for `model` on the fastest engine available: one TensorFlow graph per step on the
 * `tensorflow` backend (as Keras runs train_step), else TF.js's eager ops, which also take over (saying why)
 * for a layer the graph translation does not cover.
 * @param model the model to train (its own variables; a backbone cut's suffix shares them with the full model)
 * @param opts the variables, optimizer and loss; `graph: false` for the eager engine
 * @throws Error when TensorFlow rejects a graph it was given (an untranslatable layer falls back instead)
 * @example
 * const steps = compileTrainingStep(model, { vars, optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy', lossFn });
 * const { loss, output } = await steps.step([x], y, batchIndex);
 * await steps.sync();
 */
export function compileTrainingStep(model: tf.LayersModel, opts: TrainingStepOptions): TrainingStep {
  if (opts.graph === false || process.env.CXR_GRAPH_TRAINING === '0') return eagerStep(model, opts, 'graph training turned off');
  if (tf.getBackend() !== 'tensorflow') return eagerStep(model, opts, `backend is ${tf.getBackend()}, not tensorflow`);
  try {
    return { engine: 'tensorflow-graph', ...graphTrainingStep(model, opts.vars, opts.optimizer, opts.loss) };
  } catch (err) {
    if (err instanceof UnsupportedGraphError) return eagerStep(model, opts, `not translatable to a TensorFlow graph: ${err.message}`);
    throw err;
  }
}
