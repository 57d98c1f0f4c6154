/**
 * Calibration: expected calibration error over equal-width confidence bins, reliability-diagram data, and
 * temperature scaling (one scalar T fitted on validation by minimising the negative log-likelihood).
 */
import { argmax, type Prediction } from './types';

/** One equal-width confidence bin `(lo, hi]` (the first also holds 0). */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted confidence in the bin (NaN when empty). */
  meanConfidence: number;
  /** Observed frequency of the event (correct prediction, or positive class) in the bin (NaN when empty). */
  observed: number;
}

/** Reliability diagram data and the calibration errors derived from it. */
export interface Reliability {
  bins: ReliabilityBin[];
  /** Σ_b (n_b / N) |observed_b − meanConfidence_b|. */
  ece: number;
  /** Largest |observed_b − meanConfidence_b| over non-empty bins. */
  mce: number;
  n: number;
}

/** Bin edges `i / nBins` computed as numpy's `linspace(0, 1, nBins + 1)` does, so bins match sklearn's. */
function binEdges(nBins: number): number[] {
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`number of bins must be a positive integer, got ${nBins}`);
  const step = 1 / nBins;
  return Array.from({ length: nBins + 1 }, (_, i) => (i === nBins ? 1 : i * step));
}

/** Bin index: the number of inner edges strictly below `p` (sklearn's `searchsorted(bins[1:-1], p)`). */
function binIndex(edges: readonly number[], p: number): number {
  let lo = 0;
  let hi = edges.length - 2; // inner edges are edges[1..nBins-1]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid + 1] < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Reliability data for confidences in [0, 1] and binary outcomes: with top-label confidence and
 * "prediction correct" it gives the usual multiclass ECE; with P(positive) and "is positive" it is
 * sklearn's `calibration_curve(strategy='uniform')` (non-empty bins).
 */
export function reliability(confidence: readonly number[], outcome: readonly boolean[], nBins = 15): Reliability {
  if (confidence.length !== outcome.length) {
    throw new RangeError(`${confidence.length} confidences but ${outcome.length} outcomes`);
  }
  const edges = binEdges(nBins);
  const count = new Array<number>(nBins).fill(0);
  const sumConf = new Array<number>(nBins).fill(0);
  const sumTrue = new Array<number>(nBins).fill(0);
  for (let i = 0; i < confidence.length; i++) {
    const p = confidence[i];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`confidence[${i}] = ${p} is outside [0, 1]`);
    const b = binIndex(edges, p);
    count[b]++;
    sumConf[b] += p;
    if (outcome[i]) sumTrue[b]++;
  }
  const n = confidence.length;
  let ece = 0;
  let mce = 0;
  const bins = count.map((c, b) => {
    const meanConfidence = c > 0 ? sumConf[b] / c : NaN;
    const observed = c > 0 ? sumTrue[b] / c : NaN;
    if (c > 0) {
      const gap = Math.abs(observed - meanConfidence);
      ece += (c / n) * gap;
      mce = Math.max(mce, gap);
    }
    return { lo: edges[b], hi: edges[b + 1], count: c, meanConfidence, observed };
  });
  return { bins, ece, mce, n };
}

/** Top-label reliability of predictions: confidence = largest probability, outcome = argmax is the label. */
export function topLabelReliability(preds: readonly Prediction[], nBins = 15): Reliability {
  return reliability(
    preds.map((p) => Math.max(...p.probs)),
    preds.map((p) => argmax(p.probs) === p.label),
    nBins,
  );
}

/** Expected calibration error of predictions (top-label, equal-width bins). */
export function expectedCalibrationError(preds: readonly Prediction[], nBins = 15): number {
  return topLabelReliability(preds, nBins).ece;
}

/** Softmax of `logits / temperature`, numerically stable. */
export function softmax(logits: readonly number[], temperature = 1): number[] {
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z / temperature);
  const e = logits.map((z) => Math.exp(z / temperature - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * Floor for probabilities turned into logits: a probability that underflowed to 0 would give an infinite
 * log-loss; the float32 outputs of a network carry nothing below this anyway.
 */
export const PROB_FLOOR = 1e-15;

/** Logits equivalent to probabilities up to a per-row constant (log p, floored at {@link PROB_FLOOR}). */
export function logitsFromProbs(probs: readonly number[]): number[] {
  return probs.map((p) => Math.log(Math.max(p, PROB_FLOOR)));
}

/** Mean negative log-likelihood of the labels under `softmax(logits / temperature)`. */
export function negativeLogLikelihood(
  logits: readonly (readonly number[])[],
  labels: readonly number[],
  temperature = 1,
): number {
  if (logits.length !== labels.length) throw new RangeError(`${logits.length} logit rows but ${labels.length} labels`);
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i];
    let max = -Infinity;
    for (const v of z) max = Math.max(max, v / temperature);
    let sum = 0;
    for (const v of z) sum += Math.exp(v / temperature - max);
    s += max + Math.log(sum) - z[labels[i]] / temperature;
  }
  return s / logits.length;
}

/** A fitted temperature and its effect on the data it was fitted on. */
export interface TemperatureFit {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
  /** True when the optimum lies at a bound of the search range (e.g. perfectly separated data). */
  atBound: boolean;
}

/** Search range for the temperature. */
export const TEMPERATURE_RANGE: readonly [number, number] = [1e-3, 1e3];

/**
 * Fits the temperature T > 0 minimising the mean NLL of `softmax(logits / T)`. The NLL is convex in β = 1/T with
 * derivative mean_i(E_softmax[z_i] − z_i,y), which is non-decreasing, so bisection on its sign (in log β) finds
 * the global minimum without step sizes or starting points to tune.
 */
export function fitTemperature(logits: readonly (readonly number[])[], labels: readonly number[]): TemperatureFit {
  if (logits.length === 0) throw new RangeError('temperature scaling needs at least one prediction');
  if (logits.length !== labels.length) throw new RangeError(`${logits.length} logit rows but ${labels.length} labels`);
  const slope = (beta: number): number => {
    let g = 0;
    for (let i = 0; i < logits.length; i++) {
      const p = softmax(logits[i], 1 / beta);
      let expected = 0;
      for (let k = 0; k < p.length; k++) expected += p[k] * logits[i][k];
      g += expected - logits[i][labels[i]];
    }
    return g / logits.length;
  };
  let lo = Math.log(1 / TEMPERATURE_RANGE[1]);
  let hi = Math.log(1 / TEMPERATURE_RANGE[0]);
  let beta: number;
  let atBound = false;
  if (slope(Math.exp(hi)) <= 0) {
    beta = Math.exp(hi);
    atBound = true;
  } else if (slope(Math.exp(lo)) >= 0) {
    beta = Math.exp(lo);
    atBound = true;
  } else {
    for (let it = 0; it < 200 && hi - lo > 1e-13; it++) {
      const mid = (lo + hi) / 2;
      if (slope(Math.exp(mid)) < 0) lo = mid;
      else hi = mid;
    }
    beta = Math.exp((lo + hi) / 2);
  }
  const temperature = 1 / beta;
  return {
    temperature,
    nllBefore: negativeLogLikelihood(logits, labels, 1),
    nllAfter: negativeLogLikelihood(logits, labels, temperature),
    atBound,
  };
}

/** Fits the temperature on predictions (probabilities) — use the validation split only. */
export function fitTemperatureToPredictions(preds: readonly Prediction[]): TemperatureFit {
  return fitTemperature(
    preds.map((p) => logitsFromProbs(p.probs)),
    preds.map((p) => p.label),
  );
}

/** The predictions with probabilities rescaled by `temperature` (argmax unchanged for any T > 0). */
export function applyTemperature(preds: readonly Prediction[], temperature: number): Prediction[] {
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  return preds.map((p) => ({ ...p, probs: softmax(logitsFromProbs(p.probs), temperature) }));
}
