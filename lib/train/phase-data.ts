import * as tf from '@tensorflow/tfjs';
import type { Sample } from '../data/types';
import type { EnhanceOptions } from '../enhance/pipeline';
import { progress } from '../io/progress';
import { compileInference, type InferenceModel } from '../graph/inference';
import { preprocessInput } from '../models/preprocess';
import type { PreprocessMode } from '../models/types';
import { drawAugment, type AugmentConfig, type AugmentParams } from '../data/input/augment';
import type { InputPrep } from '../data/input/images';
import { drawJitter, type JitterConfig, type JitterParams } from '../data/input/jitter';
import type { FeatureStore } from './feature-cache';
import type { ImagePool } from '../data/input/image-pool';
import { imageBatches, type FeedItem } from '../data/input/pipeline';
import { Rng } from '../random';

/** A batch ready for the trainable part: its inputs (the crossing tensors of the cut, or images) and targets. */
export interface Batch {
  inputs: tf.Tensor[];
  y: tf.Tensor2D;
  n: number;
}

/** One training or validation example. */
export interface Example {
  sample: Sample;
  target: number[];
}

/** How images are turned into network input. */
export interface ImageSettings {
  inputSize: number;
  fit: 'stretch' | 'pad';
  enhance: EnhanceOptions | null;
  preprocess: PreprocessMode;
  /** Lung restriction, border crop and format normalisation before enhancement (absent: none). */
  prep?: InputPrep;
  /** Image path → cached lung mask, when `prep.lungs` is set (see lib/segment/mask-cache.ts). */
  lungMasks?: ReadonlyMap<string, string>;
}

export function disposeBatch(b: Batch): void {
  tf.dispose([...b.inputs, b.y]);
}

function targets(examples: readonly Example[]): tf.Tensor2D {
  return tf.tensor2d(examples.map((e) => e.target));
}

/** Runs `prefix` (or nothing) on preprocessed image batches: the input of the part after the cut. */
export async function* streamBatches(
  examples: readonly Example[],
  augments: readonly (ViewAugment | null)[],
  prefix: Pick<InferenceModel, 'predict'> | null,
  pool: ImagePool,
  images: ImageSettings,
  batchSize: number,
): AsyncGenerator<Batch> {
  const feed: FeedItem[] = examples.map((e, i) => ({ path: e.sample.path, augment: augments[i]?.augment ?? null, jitter: augments[i]?.jitter ?? null }));
  for await (const b of imageBatches(feed, pool, pipelineOptions(images, batchSize))) {
    const slice = examples.slice(b.offset, b.offset + b.n);
    const inputs = tf.tidy(() => {
      const x = preprocessInput(tf.tensor4d(b.x, [b.n, images.inputSize, images.inputSize, 3]), images.preprocess);
      if (!prefix) return [x];
      const out = prefix.predict(x);
      return Array.isArray(out) ? out : [out];
    });
    yield { inputs, y: targets(slice), n: b.n };
  }
}

/** Reads cached crossing tensors (view `views[i]` of example i, or the plain entry when null). */
export function* cachedBatches(
  examples: readonly Example[],
  views: readonly (number | null)[],
  store: FeatureStore,
  batchSize: number,
): Generator<Batch> {
  for (let start = 0; start < examples.length; start += batchSize) {
    const slice = examples.slice(start, start + batchSize);
    const flat = new Float32Array(slice.length * store.length);
    slice.forEach((e, i) => store.readInto(e.sample.sha256, views[start + i], flat, i * store.length));
    // Split each image's concatenated tensors back into one batch tensor per crossing tensor.
    const inputs = store.shapes.map((shape, t) => {
      const size = store.sizes[t];
      const before = store.sizes.slice(0, t).reduce((a, b) => a + b, 0);
      const part = new Float32Array(slice.length * size);
      for (let i = 0; i < slice.length; i++) part.set(flat.subarray(i * store.length + before, i * store.length + before + size), i * size);
      return tf.tensor(part, [slice.length, ...shape]);
    });
    yield { inputs, y: targets(slice), n: slice.length };
  }
}

/** What one image's augmentation draws: the study's flip and rotation, and the recipe's X-ray jitter. */
export interface ViewAugment {
  augment: AugmentParams;
  jitter: JitterParams | null;
}

/** Draws both parts of an augmentation from one stream (the jitter only when configured, so study draws are unchanged). */
export function drawViewAugment(rng: Rng, augment: AugmentConfig, jitter: JitterConfig | null): ViewAugment {
  const a = drawAugment(rng, augment);
  return { augment: a, jitter: jitter ? drawJitter(rng, jitter) : null };
}

/** Augmentation of view `k` of an image: fixed by (seed, image hash, k), so cached views are reproducible. */
export function viewAugment(seed: number, sha256: string, k: number, cfg: AugmentConfig, jitter: JitterConfig | null = null): ViewAugment {
  return drawViewAugment(new Rng(seed, 'view', sha256, k), cfg, jitter);
}

/** The input pipeline's options for these image settings. */
export function pipelineOptions(images: ImageSettings, batchSize: number) {
  return { batchSize, inputSize: images.inputSize, fit: images.fit, enhance: images.enhance, prep: images.prep, lungMasks: images.lungMasks };
}

/** One request for cached features: which store, which prefix computes it, for which examples (and views). */
export interface FeatureRequest {
  store: FeatureStore;
  prefix: tf.LayersModel;
  examples: readonly Example[];
  /** Number of augmented views per example; null for the plain, unaugmented features. */
  views: number | null;
  augment: AugmentConfig;
  /** X-ray jitter of the views (null: none). */
  jitter: JitterConfig | null;
  viewSeed: number;
}

/**
 * Computes what is missing from the stores. Plain requests are served together — one pass over the
 * images, one forward through a model with every requested cut as an output — so the quick profile
 * decodes and runs each image once for both of its phases (and both tasks share the result).
 */
export async function ensureFeatures(
  requests: readonly FeatureRequest[],
  fullInputs: tf.SymbolicTensor[],
  pool: ImagePool,
  images: ImageSettings,
  opts: { batchSize: number; quiet?: boolean },
): Promise<void> {
  const plain = requests.filter((r) => r.views === null);
  type Job = { sample: Sample; augment: ViewAugment | null; targets: { req: FeatureRequest; view: number | null }[] };
  const jobs: Job[] = [];
  const plainBySha = new Map<string, Job>();
  for (const req of plain) {
    for (const e of req.examples) {
      if (req.store.has(e.sample.sha256)) continue;
      let job = plainBySha.get(e.sample.sha256);
      if (!job) {
        job = { sample: e.sample, augment: null, targets: [] };
        plainBySha.set(e.sample.sha256, job);
        jobs.push(job);
      }
      // Two phases cut at the same layer share one store: compute and write it once.
      if (!job.targets.some((t) => t.req.store.dir === req.store.dir)) job.targets.push({ req, view: null });
    }
  }
  // Views drawn alike (same seed and settings) are one job whatever the cut, like plain features: each
  // phase's view k of an image is then computed in the same forward pass.
  const viewJobs = new Map<string, Job>();
  for (const req of requests.filter((r) => r.views !== null)) {
    const drawn = JSON.stringify([req.viewSeed, req.augment, req.jitter]);
    for (const e of req.examples) {
      for (let k = 0; k < req.views!; k++) {
        if (req.store.has(e.sample.sha256, k)) continue;
        const id = `${drawn}|${e.sample.sha256}|${k}`;
        let job = viewJobs.get(id);
        if (!job) {
          job = { sample: e.sample, augment: viewAugment(req.viewSeed, e.sample.sha256, k, req.augment, req.jitter), targets: [] };
          viewJobs.set(id, job);
          jobs.push(job);
        }
        if (!job.targets.some((t) => t.req.store.dir === req.store.dir)) job.targets.push({ req, view: k });
      }
    }
  }
  if (jobs.length === 0) return;
  // One model per distinct set of prefixes a job needs (plain jobs may need several cuts, views one).
  // Each compiled for inference (frozen weights): on native TensorFlow a graph session, as Keras runs predict.
  const combined = new Map<string, { model: InferenceModel; reqs: FeatureRequest[] }>();
  const combo = (job: Job) => {
    const reqs = job.targets.map((t) => t.req);
    const key = reqs.map((r) => r.store.dir).join('|');
    let c = combined.get(key);
    if (!c) {
      c = { model: compileInference(tf.model({ inputs: fullInputs, outputs: reqs.flatMap((r) => r.prefix.outputs) })), reqs };
      combined.set(key, c);
    }
    return { key, c };
  };
  const groups = new Map<string, Job[]>();
  for (const job of jobs) {
    const { key } = combo(job);
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  const bar = progress({ label: 'features', total: jobs.length, unit: 'img', silent: opts.quiet });
  try {
    for (const group of groups.values()) {
      const { c } = combo(group[0]);
      const feed = group.map((j) => ({ path: j.sample.path, augment: j.augment?.augment ?? null, jitter: j.augment?.jitter ?? null }));
      for await (const b of imageBatches(feed, pool, pipelineOptions(images, opts.batchSize))) {
        const outs = tf.tidy(() => {
          const x = preprocessInput(tf.tensor4d(b.x, [b.n, images.inputSize, images.inputSize, 3]), images.preprocess);
          const o = c.model.predict(x);
          return Array.isArray(o) ? o : [o];
        });
        const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
        tf.dispose(outs);
        for (let i = 0; i < b.n; i++) {
          const job = group[b.offset + i];
          let t = 0;
          for (const req of c.reqs) {
            const entry = new Float32Array(req.store.length);
            let at = 0;
            for (const size of req.store.sizes) {
              entry.set(values[t].subarray(i * size, (i + 1) * size), at);
              at += size;
              t++;
            }
            const target = job.targets.find((x) => x.req === req)!;
            req.store.write(job.sample.sha256, target.view, entry);
          }
        }
        bar.tick(b.n);
      }
    }
    bar.done();
  } finally {
    for (const c of combined.values()) c.model.dispose();
  }
}
