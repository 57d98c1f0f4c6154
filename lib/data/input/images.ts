import sharp from 'sharp';
import { decodeImage } from '../decode';
import { greyToRgb, rgbToGrey } from '../../enhance/grey';
import { enhance, type EnhanceOptions } from '../../enhance/pipeline';
import { InputFileError, describeError } from '../../errors';
import { augmentImage, type AugmentParams } from './augment';
import { jitterImage, type JitterParams } from './jitter';
import { restrictImage, type LungsPrep } from './lungs';
import { CANONICAL_SIDE, cropBorder, normaliseFormat, type RgbImage } from './normalise';
import { readCachedMask } from '../../segment/mask-file';
import { cropPixels, lungBox } from '../../segment/lungs';

/**
 * What is taken away before enhancement (the de-confounded recipe; all off in the study's recipe):
 * everything outside the lungs (when asked), a fixed border, and the file's format fingerprint.
 */
export interface InputPrep {
  /** Fraction cropped off each side (0: none). */
  border: number;
  /** Grey, canonical resolution and one JPEG round trip for every image (see normaliseFormat). */
  normalise: boolean;
  /** Crop to the lungs or mask outside them, first, on the full decoded image; null or absent: neither. */
  lungs?: LungsPrep | null;
}

export const NO_PREP: Readonly<InputPrep> = Object.freeze({ border: 0, normalise: false, lungs: null });

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
  /** The image's cached lung mask (lib/segment/mask-file.ts), needed when `prep.lungs` is set. */
  lungMask?: string;
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
  if (job.enhance || prep.border > 0 || prep.normalise || prep.lungs) {
    const img = await prepared(job, prep);
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

/** Decoded at full resolution, restricted to the lungs, border cropped and format normalised as `prep` says. */
async function prepared(job: ImageJob, prep: InputPrep): Promise<RgbImage> {
  const file = job.path;
  let img: RgbImage = await decodeImage(file);
  if (prep.lungs) img = await restrictImage(img, lungMaskOf(job), prep.lungs);
  if (prep.border > 0) img = cropBorder(img, prep.border);
  if (prep.normalise) {
    try {
      img = await normaliseFormat(img, Math.max(CANONICAL_SIDE, job.inputSize));
    } catch (err) {
      throw new InputFileError(file, `cannot normalise (${describeError(err)})`, { cause: err });
    }
  }
  return img;
}

function lungMaskOf(job: ImageJob): string {
  if (!job.lungMask) throw new InputFileError(job.path, 'no lung mask given (masks are made before images are read: see lib/segment/mask-cache.ts)');
  return job.lungMask;
}

/**
 * A lung mask (cached in `maskFile`) carried through the same geometric steps as the image in `job` — lung
 * crop, border crop, resize with the job's fit — so it lies on the network's view of the image (Grad-CAM maps
 * are scored against it). Format normalisation only rescales, so it is left out; no augmentation.
 * @returns 0/255, `inputSize²`.
 * @throws InputFileError naming the image or the mask file when either cannot be read.
 */
export async function lungMaskView(job: ImageJob, maskFile: string): Promise<Uint8Array> {
  const prep = job.prep ?? NO_PREP;
  const decoded = await decodeImage(job.path);
  let mask = await readCachedMask(maskFile, decoded.width, decoded.height);
  let [w, h] = [decoded.width, decoded.height];
  if (prep.lungs?.mode === 'crop') {
    const cut = cropPixels(mask, w, h, 1, lungBox(mask, w, h, prep.lungs.margin));
    [mask, w, h] = [cut.data, cut.width, cut.height];
  }
  if (prep.border > 0) {
    const cut = cropBorder({ data: greyToRgb(mask), width: w, height: h }, prep.border);
    [mask, w, h] = [rgbToGrey(cut.data, cut.width, cut.height), cut.width, cut.height];
  }
  const view = await resizeGrey(mask, w, h, job.inputSize, job.fit);
  for (let i = 0; i < view.length; i++) view[i] = view[i] >= 128 ? 255 : 0;
  return view;
}
