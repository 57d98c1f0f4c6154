/** One model output for one image: what every metric in `lib/eval` consumes. */
export interface Prediction {
  /** Image file (relative to the data folder), for tracing a prediction back to its image. */
  file: string;
  /** Patient the image belongs to; the bootstrap resamples patients, not images. */
  patientId: string;
  /** True class index, 0-based, into the task's class list. */
  label: number;
  /** Class probabilities in class-index order (sum to 1). */
  probs: number[];
}

/** A confusion matrix: `m[trueClass][predictedClass]` = count (or row fraction when normalised). */
export type ConfusionMatrix = number[][];

/** A point estimate with its bootstrap confidence interval. */
export interface Estimate {
  point: number;
  /** Lower and upper bound (absent when no interval was computed). */
  ci?: [number, number];
}

/** Index of the largest value; ties go to the lowest index (as `numpy.argmax`). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Predicted class of each prediction (argmax of its probabilities). */
export function predictedLabels(preds: readonly Prediction[]): number[] {
  return preds.map((p) => argmax(p.probs));
}
