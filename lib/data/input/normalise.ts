/**
 * Steps of the input stage that take away what a source stamps on its images rather than what the chest
 * shows: the border (burnt-in text, side markers, collimator edges and the frame of a paper figure —
 * COVID-Net crops the top 8 % for this reason) and the file's own fingerprint (colour vs grey, PNG vs
 * JPEG, bit depth and stored resolution, each of which predicts the class in the shared data).
 */
import sharp from 'sharp';
import { greyToRgb, rgbToGrey } from '../../enhance/grey';

/** An 8-bit RGB image (3 values per pixel). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Long side every image is brought to by `normaliseFormat` (never below the network input). */
export const CANONICAL_SIDE = 256;
/** JPEG quality of the round trip: every image then carries the same compression, whatever it was stored as. */
export const CANONICAL_QUALITY = 80;

/**
 * Crops a fixed fraction off every side (at least one pixel is kept).
 * @param fraction of the width taken off the left and off the right, of the height off the top and off the bottom (0 ≤ f < 0.5)
 * @throws RangeError for a fraction outside [0, 0.5)
 * @example cropBorder(img, 0.08) // 84 % of the width and height, centred
 */
export function cropBorder(img: RgbImage, fraction: number): RgbImage {
  if (!(fraction >= 0 && fraction < 0.5)) throw new RangeError(`border fraction must be in [0, 0.5), got ${fraction}`);
  const left = Math.floor(img.width * fraction);
  const top = Math.floor(img.height * fraction);
  const width = Math.max(1, img.width - 2 * left);
  const height = Math.max(1, img.height - 2 * top);
  if (width === img.width && height === img.height) return img;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y + top) * img.width + left) * 3;
    data.set(img.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height };
}

/**
 * Grey, resampled so the long side is `side` (up or down, aspect kept), then one JPEG encode–decode: the
 * same colour model, resolution and compression for every source, so none of them can carry the class.
 * @param side target long side (default CANONICAL_SIDE)
 * @example await normaliseFormat(decoded, Math.max(CANONICAL_SIDE, inputSize))
 */
export async function normaliseFormat(img: RgbImage, side = CANONICAL_SIDE): Promise<RgbImage> {
  const grey = rgbToGrey(img.data, img.width, img.height);
  const scale = side / Math.max(img.width, img.height);
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  const jpeg = await sharp(grey, { raw: { width: img.width, height: img.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .jpeg({ quality: CANONICAL_QUALITY, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const out = await sharp(jpeg).extractChannel(0).raw().toBuffer();
  return { data: greyToRgb(new Uint8Array(out.buffer, out.byteOffset, out.length)), width, height };
}
