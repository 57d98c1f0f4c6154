/**
 * Seeded randomness, the project's only source of it (Math.random cannot be seeded), so the same seed
 * gives the same draws on every machine. Two generators, each kept because results recorded with it must
 * stay bit-identical:
 * - {@link Rng} (sfc32) for training: every draw (shuffle order, augmentation, dropout masks) comes from a
 *   stream derived from the run seed and a position such as (phase, epoch, batch), never from a generator
 *   that carries state from one epoch to the next, so a resumed run draws exactly what an uninterrupted
 *   one would, with nothing but the epoch counter to save.
 * - {@link mulberry32} for one flat stream per seed: patient splits, bootstrap resamples, synthetic test data.
 */

/**
 * mulberry32: a small, fast, well-mixed 32-bit generator; one stream per seed.
 * @param seed any number; only its low 32 bits count.
 * @returns a function giving uniform floats in [0, 1).
 * @example const random = mulberry32(42); const u = random();
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 32-bit hash of a list of numbers and strings (MurmurHash3-style mixing): the seed of a position's stream.
 * @param parts numbers (integers or not) and strings; `[1, 23]` and `[12, 3]` hash differently.
 * @example const seed = hashSeed(runSeed, 'dropout', layerIndex);
 */
export function hashSeed(...parts: (string | number)[]): number {
  let h = 0x9e3779b9;
  const mix = (k: number) => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  for (const part of parts) {
    if (typeof part === 'number') {
      if (Number.isInteger(part) && Math.abs(part) < 2 ** 31) mix(part | 0);
      else {
        const f = new Float64Array([part]);
        const u = new Uint32Array(f.buffer);
        mix(u[0]);
        mix(u[1]);
      }
      mix(0x5bd1e995); // separator: [1, 23] and [12, 3] differ
    } else {
      for (let i = 0; i < part.length; i++) mix(part.charCodeAt(i));
      mix(part.length ^ 0x27d4eb2f);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32: a small, fast generator with good statistical quality (PractRand-clean to 2^40 bytes). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * A stream determined by `parts` alone.
   * @param parts the run seed and the position the draws belong to.
   * @example const order = new Rng(seed, 'shuffle', phase, epoch).shuffle([...indices]);
   */
  constructor(...parts: (string | number)[]) {
    this.a = hashSeed(...parts, 'a');
    this.b = hashSeed(...parts, 'b');
    this.c = hashSeed(...parts, 'c');
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/**
 * Runs `build` with `Math.random` replaced by a stream seeded from `seed`. TensorFlow.js initializers
 * without an explicit seed seed themselves from `Math.random`, so this makes a model built by code we
 * do not control (a backbone with random weights) the same on every run. Synchronous only: an async
 * build would let unrelated code draw from the seeded stream.
 * @param seed the run seed.
 * @param build builds the model (synchronously).
 * @throws Error when `build` returns a promise.
 * @example const model = withSeededMathRandom(seed, () => buildBackbone({ weights: null }));
 */
export function withSeededMathRandom<T>(seed: number, build: () => T): T {
  const original = Math.random;
  const rng = new Rng(seed, 'Math.random');
  Math.random = () => rng.next();
  try {
    const result = build();
    if (result instanceof Promise) throw new Error('withSeededMathRandom: build must be synchronous');
    return result;
  } finally {
    Math.random = original;
  }
}
