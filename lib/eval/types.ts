/**
 * The few types every evaluation module shares: a prediction (defined beside predictions.csv, which stores
 * them, in lib/train/run-folder.ts), a confusion matrix and an estimate with its confidence interval.
 */
export type { Prediction } from '../train/run-folder';

/** A confusion matrix: `m[trueClass][predictedClass]` = count (or row fraction when normalised). */
export type ConfusionMatrix = number[][];

/** A point estimate with its bootstrap confidence interval. */
export interface Estimate {
  point: number;
  /** Lower and upper bound (absent when no interval was computed). */
  ci?: [number, number];
}

/**
 * Index of the largest value; ties go to the lowest index (as `numpy.argmax`).
 * @example argmax([0.2, 0.5, 0.5]) // 1
 */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
