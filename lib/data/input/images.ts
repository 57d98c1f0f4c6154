import sharp from 'sharp';
import { decodeImage } from '../decode';
import { rgbToGrey } from '../../enhance/grey';
import { enhance, type EnhanceOptions } from '../../enhance/pipeline';
import { InputFileError, describeError } from '../../errors';
import { augmentImage, type AugmentParams } from './augment';
import { jitterImage, type JitterParams } from './jitter';
import { CANONICAL_SIDE, cropBorder, normaliseFormat, type RgbImage } from './normalise';

/**
 * What is taken away before enhancement (the de-confounded recipe; both off in the study's recipe):
 * a fixed border, and the file's format fingerprint.
 */
export interface InputPrep {
  /** Fraction cropped off each side (0: none). */
  border: number;
  /** Grey, canonical resolution and one JPEG round trip for every image (see normaliseFormat). */
  normalise: boolean;
}

export const NO_PREP: Readonly<InputPrep> = Object.freeze({ border: 0, normalise: false });

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
  /** Border crop and format normalisation at the original resolution, before enhancement; absent: none. */
  prep?: InputPrep;
  /** X-ray jitter (crop, rotation, exposure) after resizing; null or absent: none. */
  jitter?: JitterParams | null;
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
  const prep = job.prep ?? NO_PREP;
  let pixels: Uint8Array;
  let channels: 1 | 3;
  if (job.enhance || prep.border > 0 || prep.normalise) {
    const img = await prepared(job.path, prep, job.inputSize);
    let grey: Uint8Array;
    try {
      grey = job.enhance ? enhance(img.data, img.width, img.height, job.enhance) : rgbToGrey(img.data, img.width, img.height);
    } catch (err) {
      throw new InputFileError(job.path, `cannot enhance (${describeError(err)})`, { cause: err });
    }
    pixels = await resizeGrey(grey, img.width, img.height, job.inputSize, job.fit);
    channels = 1;
  } else {
    pixels = (await decodeImage(job.path, { size: job.inputSize, fit: job.fit })).data;
    channels = 3;
  }
  let data: Float32Array = job.augment ? augmentImage(pixels, job.inputSize, job.inputSize, channels, job.augment) : Float32Array.from(pixels);
  if (job.jitter) data = jitterImage(data, job.inputSize, job.inputSize, channels, job.jitter);
  return { data, channels };
}

/** Decoded at full resolution, border cropped and format normalised as `prep` says. */
async function prepared(file: string, prep: InputPrep, inputSize: number): Promise<RgbImage> {
  let img: RgbImage = await decodeImage(file);
  if (prep.border > 0) img = cropBorder(img, prep.border);
  if (prep.normalise) {
    try {
      img = await normaliseFormat(img, Math.max(CANONICAL_SIDE, inputSize));
    } catch (err) {
      throw new InputFileError(file, `cannot normalise (${describeError(err)})`, { cause: err });
    }
  }
  return img;
}
