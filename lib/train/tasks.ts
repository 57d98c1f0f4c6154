import * as tf from '@tensorflow/tfjs';
import { taskLabelIndex, taskLabels, type Label, type Task } from '../data/labels';

export type { Task } from '../data/labels';

/** Keras `backend.epsilon()`: predictions are clipped to [ε, 1 − ε] before the logarithm, as Keras does. */
const EPSILON = 1e-7;

/** What a task predicts and how it is scored. */
export interface TaskSpec {
  name: Task;
  /** Class names in output order (`taskLabels`): binary `['covid', 'not-covid']`, multiclass `['covid', 'viral', 'normal']`. */
  classes: readonly string[];
  /** Units of the output layer: 1 (sigmoid, P(covid)) for binary, 3 (softmax) for multiclass. */
  units: number;
  activation: 'sigmoid' | 'softmax';
  /** Target row for one label (length `units`). */
  target(label: Label): number[];
  /** Mean loss over the batch: binary or categorical cross-entropy, as Keras computes them. */
  loss(yTrue: tf.Tensor2D, yPred: tf.Tensor2D): tf.Scalar;
  /** Per-sample 1/0 correctness (Keras binary_accuracy at 0.5 / categorical_accuracy). */
  correct(yTrue: tf.Tensor2D, yPred: tf.Tensor2D): tf.Tensor1D;
  /** Class probabilities (one per class, in `classes` order) from one output row. */
  probabilities(output: ArrayLike<number>): number[];
}

function binary(): TaskSpec {
  const classes = taskLabels('binary');
  return {
    name: 'binary',
    classes,
    units: 1,
    activation: 'sigmoid',
    // The output unit is P(covid), class index 0.
    target: (label) => [taskLabelIndex(label, 'binary') === 0 ? 1 : 0],
    loss: (yTrue, yPred) =>
      tf.tidy(() => {
        const p = yPred.clipByValue(EPSILON, 1 - EPSILON);
        const ll = yTrue.mul(p.log()).add(tf.scalar(1).sub(yTrue).mul(tf.scalar(1).sub(p).log()));
        return ll.mean().neg() as tf.Scalar;
      }),
    correct: (yTrue, yPred) => tf.tidy(() => yPred.greater(0.5).toFloat().equal(yTrue).toFloat().reshape([-1]) as tf.Tensor1D),
    probabilities: (output) => [output[0], 1 - output[0]],
  };
}

function multiclass(): TaskSpec {
  const classes = taskLabels('multiclass');
  return {
    name: 'multiclass',
    classes,
    units: classes.length,
    activation: 'softmax',
    target: (label) => {
      const row = new Array<number>(classes.length).fill(0);
      row[taskLabelIndex(label, 'multiclass')] = 1;
      return row;
    },
    loss: (yTrue, yPred) =>
      tf.tidy(() => {
        const p = yPred.div(yPred.sum(-1, true)).clipByValue(EPSILON, 1 - EPSILON);
        return yTrue.mul(p.log()).sum(-1).mean().neg() as tf.Scalar;
      }),
    correct: (yTrue, yPred) => tf.tidy(() => yTrue.argMax(-1).equal(yPred.argMax(-1)).toFloat() as tf.Tensor1D),
    probabilities: (output) => Array.from(output),
  };
}

/** The task's output, loss and metric. */
export function taskSpec(task: Task): TaskSpec {
  if (task === 'binary') return binary();
  if (task === 'multiclass') return multiclass();
  throw new RangeError(`unknown task '${String(task)}' (binary or multiclass)`);
}

/** Predicted class name from class probabilities (ties go to the earlier class, like argmax). */
export function predictedClass(spec: TaskSpec, probs: readonly number[]): string {
  // Binary: covid when P(covid) > 0.5, the accuracy metric's threshold.
  if (spec.name === 'binary') return probs[0] > 0.5 ? spec.classes[0] : spec.classes[1];
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  return spec.classes[best];
}

/** Task label of a sample's class (`covid`/`not-covid` for binary). */
export function taskLabel(task: Task, label: Label): string {
  return taskLabels(task)[taskLabelIndex(label, task)];
}
