/**
 * The run's input steps in the browser, on the same lib code where it can run here: decode (DICOM with
 * lib/data/dicom; other files with the browser's own decoder, EXIF orientation applied, alpha over black, as
 * lib/data/decode does) → lung crop or mask on the full
 * decoded image (lungs.ts: the run's own segmenter and lib/segment's code) → border crop (lib's cropBorder)
 * → format normalisation (grey, long side to 256 with the TypeScript resize, one JPEG round trip through the
 * canvas at quality 0.8 instead of sharp's) → enhancement (lib/enhance: white balance + CLAHE, the same
 * TypeScript and WebAssembly) → resize to the network input (lanczos.ts, sharp's bytes). What can differ from
 * `cxr predict` is the decoder, the canvas's JPEG codec and the TF.js backend's arithmetic (classifier and
 * U-Net): README's "cxr serve" section gives the measured effect on probabilities.
 */
import { cropBorder, CANONICAL_QUALITY, CANONICAL_SIDE, type RgbImage } from '../../data/input/normalise';
import { decodeDicom } from '../../data/dicom/image';
import { isDicom } from '../../data/dicom/parse';
import type { InputPrep } from '../../data/input/images';
import { greyToRgb, rgbToGrey } from '../../enhance/grey';
import { enhance, type EnhanceOptions } from '../../enhance/pipeline';
import type { Box } from '../../segment/mask';
import { resizeGreyLanczos3 } from './lanczos';
import type { PageSegmenter } from './lungs';

/** The run settings the input steps need (from /run.json). */
export interface InputSettings {
  inputSize: number;
  fit: 'stretch' | 'pad';
  enhance: EnhanceOptions | null;
  prep: InputPrep;
}

/** What the network sees, and the enhanced image to draw the explanation on. */
export interface PreparedInput {
  /** `inputSize² × 3` RGB values 0–255 (before the backbone's preprocessing). */
  x: Float32Array;
  /** The enhanced grey image at its working resolution (the network input before resizing). */
  shown: { data: Uint8Array; width: number; height: number };
  /** The lung box the decoded image was cropped to (runs that crop to the lungs), else null. */
  lungBox: Box | null;
}

function canvas(width: number, height: number): { c: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2-D canvas');
  return { c, ctx };
}

/** RGB bytes of a decoded bitmap drawn over black (alpha composited onto black). */
function bitmapRgb(bitmap: ImageBitmap): RgbImage {
  const { width, height } = bitmap;
  const { ctx } = canvas(width, height);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < data.length; p += 3, q += 4) {
    data[p] = rgba[q];
    data[p + 1] = rgba[q + 1];
    data[p + 2] = rgba[q + 2];
  }
  return { data, width, height };
}

/** A decoded upload, with what the user should be told about it (e.g. only the first DICOM frame was used). */
export interface DecodedUpload extends RgbImage {
  warnings: string[];
}

/**
 * Decodes an uploaded file: DICOM (the `DICM` preamble, whatever the name) through lib/data/dicom — the same
 * parser, codecs and display pipeline as `cxr predict` — anything else with the browser's decoder, without colour
 * management (as sharp reads the samples).
 * @throws Error naming the file when it cannot be decoded, or when a DICOM is a lateral view, another body part
 *   or has no image
 */
export async function decodeFile(file: Blob, name: string): Promise<DecodedUpload> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isDicom(bytes)) {
    const img = await decodeDicom(bytes, name);
    const data = img.channels === 3 ? img.data : greyToRgb(img.data);
    return { data, width: img.width, height: img.height, warnings: img.warnings };
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch {
    throw new Error(`${name}: not an image this browser can decode (PNG, JPEG or DICOM)`);
  }
  try {
    return { ...bitmapRgb(bitmap), warnings: [] };
  } finally {
    bitmap.close();
  }
}

/** lib's normaliseFormat with the canvas's JPEG codec: grey, long side `side`, one JPEG round trip. */
async function normalise(img: RgbImage, side: number): Promise<RgbImage> {
  const grey = rgbToGrey(img.data, img.width, img.height);
  const scale = side / Math.max(img.width, img.height);
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  const small = resizeGreyLanczos3(grey, img.width, img.height, width, height);
  const { c, ctx } = canvas(width, height);
  const rgba = ctx.createImageData(width, height);
  for (let p = 0; p < small.length; p++) {
    rgba.data.set([small[p], small[p], small[p], 255], p * 4);
  }
  ctx.putImageData(rgba, 0, 0);
  const jpeg = await new Promise<Blob>((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no JPEG'))), 'image/jpeg', CANONICAL_QUALITY / 100));
  const back = await decodeFile(jpeg, 'normalised image');
  // The round trip's luma: the red channel of a grey image decoded to RGB.
  const out = new Uint8Array(width * height);
  for (let p = 0; p < out.length; p++) out[p] = back.data[p * 3];
  return { data: greyToRgb(out), width, height };
}

/**
 * The network input of one decoded image under the run's settings.
 * @param segmenter the run's lung segmenter, needed when the run restricts images to the lungs (`prep.lungs`)
 * @throws Error when the run letterboxes (`fit: 'pad'`), which the page does not do, or needs a segmenter and has none
 * @example const { x } = await prepareInput(await decodeFile(file, file.name), info, segmenter)
 */
export async function prepareInput(img: RgbImage, s: InputSettings, segmenter: PageSegmenter | null = null): Promise<PreparedInput> {
  if (s.fit !== 'stretch') throw new Error(`the page resizes by stretching only; this run uses fit '${s.fit}'`);
  const size = s.inputSize;
  let work = img;
  let lungBox: Box | null = null;
  if (s.prep.lungs) {
    if (!segmenter) throw new Error('this run restricts images to the lungs, and no lung segmenter is loaded');
    ({ image: work, box: lungBox } = await segmenter.restrict(work, s.prep.lungs));
  }
  if (s.prep.border > 0) work = cropBorder(work, s.prep.border);
  if (s.prep.normalise) work = await normalise(work, Math.max(CANONICAL_SIDE, size));
  const x = new Float32Array(size * size * 3);
  if (!s.enhance && !(s.prep.border > 0 || s.prep.normalise || s.prep.lungs)) {
    // lib's plain path: each RGB channel resized, no grey conversion.
    for (let c = 0; c < 3; c++) {
      const plane = Uint8Array.from({ length: work.width * work.height }, (_, p) => work.data[p * 3 + c]);
      const r = resizeGreyLanczos3(plane, work.width, work.height, size, size);
      for (let p = 0; p < r.length; p++) x[p * 3 + c] = r[p];
    }
    return { x, shown: { data: rgbToGrey(work.data, work.width, work.height), width: work.width, height: work.height }, lungBox };
  }
  const grey = s.enhance ? enhance(work.data, work.width, work.height, s.enhance) : rgbToGrey(work.data, work.width, work.height);
  const small = resizeGreyLanczos3(grey, work.width, work.height, size, size);
  for (let p = 0; p < small.length; p++) x[p * 3] = x[p * 3 + 1] = x[p * 3 + 2] = small[p];
  return { x, shown: { data: grey, width: work.width, height: work.height }, lungBox };
}
