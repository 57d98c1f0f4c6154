/**
 * Balanced sampling. Source: when every COVID image comes from one set of collections and every normal from
 * another, a network can score well by recognising the collection; weighting each class × source cell
 * equally makes the small sources of a class count as much as its large one, so the class has to be
 * recognised across sources. Class: a class with few images (COVID, once a source is held out) counts as much
 * as a large one. Each image's weight is capped so that a tiny cell is not memorised.
 */
import type { Rng } from '../random';
import type { Sample } from '../data/types';

/** Largest weight of one image relative to the mean (an image drawn about this many times an epoch at most). */
export const MAX_WEIGHT = 3;

/**
 * Weights (mean 1) that give every class × source cell (`by` source) or every class (`by` class) the same
 * total, each capped at MAX_WEIGHT and the rest redistributed so the mean stays 1.
 * @example balanceWeights(samples) // [0.4, 0.4, 2.1, …]
 */
export function balanceWeights(samples: readonly Pick<Sample, 'label' | 'source'>[], by: 'source' | 'class' = 'source'): number[] {
  const n = samples.length;
  if (n === 0) return [];
  const cell = by === 'source' ? (s: Pick<Sample, 'label' | 'source'>) => `${s.label}\u0000${s.source}` : (s: Pick<Sample, 'label'>) => s.label;
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(cell(s), (counts.get(cell(s)) ?? 0) + 1);
  const raw = samples.map((s) => n / counts.size / counts.get(cell(s))!);
  // Water-filling: cap, then scale the uncapped ones up until the mean is 1 again.
  const capped = new Array<boolean>(n).fill(false);
  let w = raw;
  for (let round = 0; round < 20; round++) {
    const over = w.some((v, i) => !capped[i] && v > MAX_WEIGHT);
    if (!over) break;
    w.forEach((v, i) => (capped[i] ||= v > MAX_WEIGHT));
    const fixed = capped.filter(Boolean).length * MAX_WEIGHT;
    const free = raw.reduce((a, v, i) => a + (capped[i] ? 0 : v), 0);
    const scale = free > 0 ? (n - fixed) / free : 0;
    w = raw.map((v, i) => (capped[i] ? MAX_WEIGHT : v * scale));
  }
  return w;
}

/**
 * An epoch's order of `items` under the weights: `items.length` draws by systematic sampling (each item
 * appears ⌊w⌋ or ⌈w⌉ times), shuffled.
 * @param weights one per item, mean 1 (from balanceWeights)
 */
export function weightedOrder<T>(items: readonly T[], weights: readonly number[], rng: Rng): T[] {
  if (items.length !== weights.length) throw new RangeError(`${items.length} items but ${weights.length} weights`);
  const out: T[] = [];
  const total = weights.reduce((a, b) => a + b, 0);
  const step = total / items.length;
  let next = rng.next() * step;
  let acc = 0;
  items.forEach((item, i) => {
    acc += weights[i];
    while (next < acc && out.length < items.length) {
      out.push(item);
      next += step;
    }
  });
  return rng.shuffle(out);
}
