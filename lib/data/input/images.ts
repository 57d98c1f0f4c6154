import sharp from 'sharp';
import { decodeImage } from '../decode';
import { enhance, type EnhanceOptions } from '../../enhance/pipeline';
import { InputFileError, describeError } from '../../errors';
import { augmentImage, type AugmentParams } from './augment';

/** How one image becomes network input (before the backbone's preprocessing). */
export interface ImageJob {
  /** Absolute path. */
  path: string;
  inputSize: number;
  fit: 'stretch' | 'pad';
  /** Applied at the original resolution, as the study enhanced its images before resizing; null: none. */
  enhance: EnhanceOptions | null;
  /** Flip/rotation to apply after resizing; null: none. */
  augment: AugmentParams | null;
}

/** An input image: `inputSize`² pixels, 1 (grey, to be replicated) or 3 channels, float values 0–255. */
export interface LoadedImage {
  data: Float32Array;
  channels: 1 | 3;
}

async function resizeGrey(grey: Uint8Array, width: number, height: number, size: number, fit: 'stretch' | 'pad'): Promise<Uint8Array> {
  // Same kernel and fit as lib/data's decodeImage, so enhanced and plain inputs are resized alike.
  const out = await sharp(grey, { raw: { width, height, channels: 1 } })
    .resize(size, size, { fit: fit === 'pad' ? 'contain' : 'fill', background: { r: 0, g: 0, b: 0, alpha: 1 }, kernel: 'lanczos3' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Decode → enhance (original resolution) → resize → augment. Errors name the file (InputFileError).
 * Pure per image (no shared state), so it runs the same in a worker thread or inline.
 */
export async function loadTrainingImage(job: ImageJob): Promise<LoadedImage> {
  let pixels: Uint8Array;
  let channels: 1 | 3;
  if (job.enhance) {
    const img = await decodeImage(job.path);
    let grey: Uint8Array;
    try {
      grey = enhance(img.data, img.width, img.height, job.enhance);
    } catch (err) {
      throw new InputFileError(job.path, `cannot enhance (${describeError(err)})`, { cause: err });
    }
    pixels = await resizeGrey(grey, img.width, img.height, job.inputSize, job.fit);
    channels = 1;
  } else {
    pixels = (await decodeImage(job.path, { size: job.inputSize, fit: job.fit })).data;
    channels = 3;
  }
  const data = job.augment ? augmentImage(pixels, job.inputSize, job.inputSize, channels, job.augment) : Float32Array.from(pixels);
  return { data, channels };
}
