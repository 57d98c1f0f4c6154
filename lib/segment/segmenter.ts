import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { CxrError } from '../errors';
import { compileInference } from '../graph/inference';
import { defaultMaskDir, manifestDigest } from './data';
import { segmentImages } from './infer';
import type { GreyImage } from './lungs';
import { hasModel, loadModel, modelId } from './store';
import { DEFAULT_SEGMENT_SETTINGS, segmenterCacheDir, segmenterKey, trainSegmenter, type SegmentRecord } from './train';

/** A loaded lung segmenter. */
export interface Segmenter {
  /** The folder it was loaded from. */
  dir: string;
  /** Identity of its weights (see modelId): cached masks are keyed by it. */
  id: string;
  /** Its training record (data, split, epochs, validation Dice and IoU), when the folder has one. */
  record: SegmentRecord | null;
  /**
   * Lung mask of one grey image.
   * @returns 0/255, `width × height`.
   */
  segmentGrey(grey: Uint8Array, width: number, height: number): Promise<Uint8Array>;
  /** Lung masks of several grey images at once (faster than one at a time). */
  segmentGreyBatch(images: readonly GreyImage[]): Promise<Uint8Array[]>;
  /** Frees the model's weights. */
  dispose(): void;
}

function readRecord(dir: string): SegmentRecord | null {
  const file = path.join(dir, 'record.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as SegmentRecord) : null;
}

function wrap(dir: string, model: tf.LayersModel): Segmenter {
  const size = model.inputs[0].shape[1];
  if (typeof size !== 'number') throw new CxrError(`${dir}: the model's input has no fixed size`);
  // A graph session where the native backend runs: Keras's kernels, fused, instead of one eager op at a time.
  const inference = compileInference(model);
  const batch = (images: readonly GreyImage[]) => {
    for (const img of images) {
      if (img.data.length !== img.width * img.height) throw new RangeError(`segmentGrey: ${img.data.length} values for ${img.width}×${img.height}`);
    }
    return segmentImages(inference, size, images);
  };
  return {
    dir,
    id: modelId(dir),
    record: readRecord(dir),
    segmentGrey: async (data, width, height) => (await batch([{ data, width, height }]))[0],
    segmentGreyBatch: batch,
    dispose: () => {
      inference.dispose();
      model.dispose();
    },
  };
}

/** The cache folder of the default segmenter for the mask data in `maskDir`. */
export function defaultSegmenterDir(maskDir = defaultMaskDir()): string {
  if (!fs.existsSync(path.join(maskDir, 'manifest.csv'))) {
    throw new CxrError(`${maskDir}: no lung-mask data to find or train the default segmenter (set CXR_LUNGMASKS or pass a model folder)`);
  }
  return segmenterCacheDir(segmenterKey(DEFAULT_SEGMENT_SETTINGS, manifestDigest(maskDir)));
}

export interface LoadSegmenterOptions {
  /** Mask data used when the default segmenter must be trained. */
  maskDir?: string;
  quiet?: boolean;
}

/**
 * Loads a segmenter from `dir` (a folder holding `model/`), or the default one from the cache; when the
 * default one is not there yet, trains it first (minutes on two cores) and says so on stderr.
 * @throws CxrError when `dir` holds no model, or the default must be trained and no mask data is found.
 * @example const seg = await loadSegmenter(); const mask = await seg.segmentGrey(grey, w, h);
 */
export async function loadSegmenter(dir?: string, opts: LoadSegmenterOptions = {}): Promise<Segmenter> {
  await initBackend({ quiet: opts.quiet });
  if (dir !== undefined) {
    if (!hasModel(dir)) throw new CxrError(`${dir}: no segmentation model here (expected ${path.join(dir, 'model', 'model.json')})`);
    return wrap(dir, await loadModel(dir));
  }
  const maskDir = opts.maskDir ?? defaultMaskDir();
  const target = defaultSegmenterDir(maskDir);
  if (!hasModel(target)) {
    if (!opts.quiet) console.error(`no lung segmenter cached in ${target}: training the default one first (about 10 minutes on 2 cores)`);
    await trainSegmenter({ dataDir: maskDir, quiet: opts.quiet });
  }
  return wrap(target, await loadModel(target));
}
