/** Grey-level distributions of 8-bit images: what enhancement does to contrast. */

/** Counts of each grey level 0..255. */
export function greyHistogram(grey: Uint8Array): number[] {
  const h = new Array<number>(256).fill(0);
  for (let i = 0; i < grey.length; i++) h[grey[i]] += 1;
  return h;
}

/** Histogram as fractions of all pixels (sums to 1), so images of different sizes compare. */
export function normaliseHistogram(hist: readonly number[]): number[] {
  const total = hist.reduce((a, b) => a + b, 0);
  return total ? hist.map((c) => c / total) : hist.map(() => 0);
}

/** Cumulative distribution: fraction of pixels at or below each level (ends at 1). */
export function cumulative(hist: readonly number[]): number[] {
  const total = hist.reduce((a, b) => a + b, 0);
  let run = 0;
  return hist.map((c) => {
    run += c;
    return total ? run / total : 0;
  });
}

/** Sums histograms (e.g. over the images of a class). */
export function addHistograms(hists: readonly (readonly number[])[]): number[] {
  const out = new Array<number>(256).fill(0);
  for (const h of hists) for (let i = 0; i < 256; i++) out[i] += h[i];
  return out;
}

/** Summary of a grey-level distribution. */
export interface GreyStats {
  mean: number;
  /** Standard deviation: global contrast. */
  std: number;
  /** 1st and 99th percentile levels; their difference is the used dynamic range. */
  p1: number;
  p99: number;
}

/** Mean, standard deviation and 1st/99th percentiles of a histogram. */
export function greyStats(hist: readonly number[]): GreyStats {
  const total = hist.reduce((a, b) => a + b, 0);
  if (!total) return { mean: 0, std: 0, p1: 0, p99: 0 };
  let s = 0;
  for (let v = 0; v < 256; v++) s += v * hist[v];
  const mean = s / total;
  let ss = 0;
  for (let v = 0; v < 256; v++) ss += hist[v] * (v - mean) ** 2;
  const cdf = cumulative(hist);
  const level = (q: number) => cdf.findIndex((c) => c >= q);
  return { mean, std: Math.sqrt(ss / total), p1: level(0.01), p99: level(0.99) };
}
