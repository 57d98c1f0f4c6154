/**
 * The gate's second test: a colour image is not a chest X-ray. The classifier sees grey (the enhancement converts
 * to grey first), so a colour photo reaches the feature-distance test with its colour gone; this test looks at the
 * decoded image itself. Measured on the 2,604 images of cxr-data + cxr-adult: a pixel counts as coloured when its
 * channels differ by more than 40 levels; the share of such pixels is 0 in half of the images, 0.2 % at the 99th
 * percentile and at most 2.7 % except four ieee8023 figures that are colour-tinted reproductions (49–86 %). A
 * colour photo has most of its pixels coloured (a landscape 99.9 %, colour noise 60 %).
 */

/** Channel spread above which a pixel counts as coloured. */
export const COLOURED_PIXEL_SPREAD = 40;
/** Share of coloured pixels above which an image is refused: almost 4 times the largest of a plain X-ray above. */
export const COLOUR_REFUSAL_SHARE = 0.1;

/**
 * Share of coloured pixels in interleaved RGB bytes.
 * @example colourShare(rgb, width * height) // 0 for a grey image
 */
export function colourShare(rgb: Uint8Array, pixels: number): number {
  if (rgb.length !== pixels * 3) throw new RangeError(`colourShare: ${rgb.length} bytes for ${pixels} RGB pixels`);
  if (pixels === 0) return 0;
  let coloured = 0;
  for (let p = 0; p < rgb.length; p += 3) {
    const r = rgb[p];
    const g = rgb[p + 1];
    const b = rgb[p + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > COLOURED_PIXEL_SPREAD) coloured++;
  }
  return coloured / pixels;
}

/** Why the gate refuses an image, or null: `colour` (a colour picture) or `distance` (features far from training). */
export type Refusal = 'colour' | 'distance' | null;

/**
 * The gate's verdict from both tests.
 * @param colour the image's {@link colourShare}
 * @param distance its squared Mahalanobis distance; `threshold` the gate's
 */
export function refusal(colour: number, distance: number, threshold: number): Refusal {
  if (colour > COLOUR_REFUSAL_SHARE) return 'colour';
  return distance > threshold ? 'distance' : null;
}
