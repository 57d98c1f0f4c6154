/**
 * TF.js's Adam optimizer from the inside. Its exact state — the running powers of β₁ and β₂, the step count and
 * the moment slots — sits in private fields, yet checkpoints must save and restore it and the graph training
 * step continues it in a TensorFlow session; this declares those fields once, so the cast lives in one place.
 */
import type * as tf from '@tensorflow/tfjs';

/** One moment slot of TF.js's Adam, in the order of the variables it updates. */
export interface AdamSlot {
  originalName: string;
  variable: tf.Variable;
}

/**
 * The parts of TF.js's AdamOptimizer that are private or protected but belong to its exact state: the
 * running products beta1^t and beta2^t, the step count and the moment slots. Checkpoints save them, and the
 * graph training step (train-step.ts) keeps them inside a TensorFlow session and writes them back here.
 */
export interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accumulatedFirstMoment: AdamSlot[];
  accumulatedSecondMoment: AdamSlot[];
}

/**
 * The private state of `optimizer` (the same object, typed).
 * @example
 * const { accBeta1, iterations_ } = adamInternals(optimizer);
 */
export function adamInternals(optimizer: tf.AdamOptimizer): AdamInternals {
  return optimizer as unknown as AdamInternals;
}
