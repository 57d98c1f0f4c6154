/**
 * Grey conversion, bit-exact with OpenCV's 8-bit `cvtColor(src, COLOR_RGB2GRAY)` (OpenCV 4 and 5):
 * Y = (9798·R + 19235·G + 3735·B + 2^14) >> 15, the BT.601 weights 0.299 / 0.587 / 0.114 in 15-bit fixed
 * point with round-half-up (color_rgb.simd.hpp). OpenCV 3 used 14 bits (4899 / 9617 / 1868), which
 * differs by one grey level on about 0.3% of colour pixels; the 15-bit form was checked against OpenCV
 * 5.0 on all 2^24 RGB triples, and the goldens check it on every run.
 *
 * Difference from the study: it read images with `cv2.imread` (BGR order) and then applied
 * `COLOR_RGB2GRAY`, so its red weight went to blue and vice versa (Y = 0.299·B + 0.587·G + 0.114·R).
 * For the grey X-rays that dominate the data the two agree; for tinted images they do not. We convert
 * real RGB with the intended weights.
 */

const R_WEIGHT = 9798;
const G_WEIGHT = 19235;
const B_WEIGHT = 3735;
const SHIFT = 15;
const HALF = 1 << (SHIFT - 1);

const IDENTITY = Uint8Array.from({ length: 256 }, (_, v) => v);

/**
 * Interleaved RGB (3 values per pixel) to one grey value per pixel. `channelLuts`, when given, maps
 * each channel's values before weighting (a white balance folded into the same pass): the result equals
 * converting the mapped image.
 */
export function rgbToGrey(
  rgb: Uint8Array, width: number, height: number,
  channelLuts?: readonly [Uint8Array, Uint8Array, Uint8Array] | readonly Uint8Array[],
): Uint8Array {
  const n = width * height;
  if (rgb.length !== n * 3) throw new RangeError(`expected ${n * 3} RGB values for ${width}x${height}, got ${rgb.length}`);
  // Weighted tables: one lookup per channel replaces the map and the multiply.
  const weigh = (lut: Uint8Array, w: number, half: number) => Int32Array.from(lut, (v) => v * w + half);
  const wr = weigh(channelLuts?.[0] ?? IDENTITY, R_WEIGHT, HALF);
  const wg = weigh(channelLuts?.[1] ?? IDENTITY, G_WEIGHT, 0);
  const wb = weigh(channelLuts?.[2] ?? IDENTITY, B_WEIGHT, 0);
  const grey = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) grey[i] = (wr[rgb[j]] + wg[rgb[j + 1]] + wb[rgb[j + 2]]) >> SHIFT;
  return grey;
}

/** One grey value per pixel to interleaved RGB with R = G = B (what the RGB networks take). */
export function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0, j = 0; i < grey.length; i++, j += 3) {
    const v = grey[i];
    rgb[j] = v;
    rgb[j + 1] = v;
    rgb[j + 2] = v;
  }
  return rgb;
}
