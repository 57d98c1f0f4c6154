import { mulberry32 } from '../random';

/**
 * Percentile bootstrap confidence intervals that resample patients, not images: images of one patient are
 * correlated, and treating them as independent would make intervals falsely narrow.
 */

/** Options of {@link bootstrapCi}. */
export interface BootstrapOptions {
  /** Number of resamples (at least 1,000; default 2,000). */
  resamples?: number;
  /** PRNG seed; the same seed gives the same interval. Default 0. */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

/** A bootstrap interval and how it was obtained. */
export interface BootstrapCi {
  /** The metric on the full data. */
  point: number;
  lo: number;
  hi: number;
  level: number;
  /** Resamples whose metric was finite (the percentiles use these). */
  resamples: number;
  /** Resamples where the metric was undefined (NaN), e.g. an AUC of a resample missing a class. */
  undefinedResamples: number;
  /** Number of distinct patients (resampling units). */
  patients: number;
}

/** Minimum resamples accepted: fewer make the 2.5 % and 97.5 % percentiles unstable. */
export const MIN_RESAMPLES = 1000;


/** Quantile `q` of sorted values with linear interpolation (numpy's default `method='linear'`). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Bootstrap CI of `metric` over `records`, resampling whole patients with replacement: each resample draws as
 * many patients as there are, and takes all images of every drawn patient (a patient drawn twice counts twice).
 */
export function bootstrapCi<R>(
  records: readonly R[],
  patientOf: (record: R) => string,
  metric: (sample: readonly R[]) => number,
  options: BootstrapOptions = {},
): BootstrapCi {
  return bootstrapCis(records, patientOf, { metric }, options).metric;
}

/**
 * Several metrics on the same resamples (cheaper than one bootstrap each, and their intervals then come from
 * the same draws). Keys of the result are the keys of `metrics`. Each metric also gets the resample's number
 * (−1 for the full data), so metrics can share work done once per resample.
 */
export function bootstrapCis<R, K extends string>(
  records: readonly R[],
  patientOf: (record: R) => string,
  metrics: Record<K, (sample: readonly R[], resample: number) => number>,
  options: BootstrapOptions = {},
): Record<K, BootstrapCi> {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < MIN_RESAMPLES) {
    throw new RangeError(`bootstrap needs at least ${MIN_RESAMPLES} resamples, got ${resamples}`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  if (records.length === 0) throw new RangeError('bootstrap of no records');

  const groups = new Map<string, R[]>();
  for (const r of records) {
    const id = patientOf(r);
    const g = groups.get(id);
    if (g) g.push(r);
    else groups.set(id, [r]);
  }
  // Sorted patient order keeps results independent of record order.
  const patients = [...groups.keys()].sort().map((id) => groups.get(id)!);

  const keys = Object.keys(metrics) as K[];
  const values = keys.map(() => [] as number[]);
  const undefinedCounts = keys.map(() => 0);
  const random = mulberry32(options.seed ?? 0);
  const sample: R[] = [];
  for (let b = 0; b < resamples; b++) {
    sample.length = 0;
    for (let i = 0; i < patients.length; i++) {
      for (const r of patients[Math.floor(random() * patients.length)]) sample.push(r);
    }
    keys.forEach((k, m) => {
      const v = metrics[k](sample, b);
      if (Number.isFinite(v)) values[m].push(v);
      else undefinedCounts[m]++;
    });
  }
  const tail = (1 - level) / 2;
  const out = {} as Record<K, BootstrapCi>;
  keys.forEach((k, m) => {
    const sorted = values[m].sort((a, b) => a - b);
    out[k] = {
      point: metrics[k](records, -1),
      lo: quantileSorted(sorted, tail),
      hi: quantileSorted(sorted, 1 - tail),
      level,
      resamples: sorted.length,
      undefinedResamples: undefinedCounts[m],
      patients: patients.length,
    };
  });
  return out;
}
