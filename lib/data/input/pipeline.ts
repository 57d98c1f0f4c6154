import type { EnhanceOptions } from '../../enhance/pipeline';
import type { AugmentParams } from './augment';
import type { ImagePool } from './image-pool';
import type { InputPrep } from './images';
import type { JitterParams } from './jitter';

/** One image to feed, with its augmentation (null: as is). */
export interface FeedItem {
  path: string;
  augment: AugmentParams | null;
  jitter?: JitterParams | null;
}

/** A batch of network inputs before preprocessing: NHWC float32, RGB values 0–255. */
export interface ImageBatch {
  /** `n × size × size × 3` values. */
  x: Float32Array;
  n: number;
  /** Position of the batch's first item in the feed. */
  offset: number;
}

export interface PipelineOptions {
  batchSize: number;
  inputSize: number;
  fit: 'stretch' | 'pad';
  enhance: EnhanceOptions | null;
  /** Border crop and format normalisation (absent: none). */
  prep?: InputPrep;
  /** Image path → its cached lung mask, for `prep.lungs` (made beforehand by lib/segment/mask-cache.ts). */
  lungMasks?: ReadonlyMap<string, string>;
  /** Batches prepared ahead of the one being consumed (memory: about (prefetch + 1) batches). */
  prefetch?: number;
}

/**
 * Streams `items` from disk as batches in order: the pool decodes, enhances and augments images while
 * the caller trains on the previous batch. Memory stays at a few batches whatever the dataset size.
 */
export async function* imageBatches(items: readonly FeedItem[], pool: ImagePool, opts: PipelineOptions): AsyncGenerator<ImageBatch> {
  const { batchSize, inputSize } = opts;
  const prefetch = Math.max(0, opts.prefetch ?? 2);
  const count = Math.ceil(items.length / batchSize);
  const pixels = inputSize * inputSize;
  const start = (b: number): Promise<ImageBatch> => {
    const slice = items.slice(b * batchSize, (b + 1) * batchSize);
    const loads = slice.map((item) =>
      pool.load({
        path: item.path, inputSize, fit: opts.fit, enhance: opts.enhance, augment: item.augment, prep: opts.prep, jitter: item.jitter,
        lungMask: opts.lungMasks?.get(item.path),
      }),
    );
    return Promise.all(loads).then((images) => {
      const x = new Float32Array(slice.length * pixels * 3);
      images.forEach((img, i) => {
        const base = i * pixels * 3;
        if (img.channels === 3) x.set(img.data, base);
        else {
          for (let p = 0; p < pixels; p++) {
            const v = img.data[p];
            x[base + 3 * p] = v;
            x[base + 3 * p + 1] = v;
            x[base + 3 * p + 2] = v;
          }
        }
      });
      return { x, n: slice.length, offset: b * batchSize };
    });
  };
  const ahead: Promise<ImageBatch>[] = [];
  // Rejections of batches still ahead surface when they are awaited; keep Node from calling them unhandled.
  const hold = (p: Promise<ImageBatch>) => {
    p.catch(() => undefined);
    return p;
  };
  let next = 0;
  for (let b = 0; b < count; b++) {
    while (next < count && next <= b + prefetch) ahead.push(hold(start(next++)));
    yield await ahead.shift()!;
  }
}
