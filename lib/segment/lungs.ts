import { boundingBox, type Box } from './mask';

/**
 * Restricting an image to its lungs, given a lung mask of the same size: the box to crop to, and the crop or
 * the masked image itself. Pure functions over grey typed arrays.
 */

/** How a classifier input is restricted to the lungs: crop to their box, or zero everything outside them. */
export type LungsMode = 'crop' | 'mask';

/** A grey image with its size. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * The lungs' bounding box grown by `margin` (a fraction of the box's own width and height on each side),
 * clipped to the image. An empty mask gives the whole image, so a failed segmentation never blanks an input.
 * @param margin e.g. 0.05 adds 5 % of the box width left and right, 5 % of its height above and below.
 * @throws RangeError for a negative or non-finite margin, or a mask of the wrong size.
 * @example lungBox(mask, 512, 512, 0.05) // { x: 40, y: 52, width: 430, height: 401 }
 */
export function lungBox(mask: Uint8Array, width: number, height: number, margin = 0.05): Box {
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new RangeError(`lungBox: margin must be a finite number ≥ 0, got ${margin}`);
  const box = boundingBox(mask, width, height);
  if (!box) return { x: 0, y: 0, width, height };
  const mx = Math.round(box.width * margin);
  const my = Math.round(box.height * margin);
  const x0 = Math.max(0, box.x - mx);
  const y0 = Math.max(0, box.y - my);
  const x1 = Math.min(width, box.x + box.width + mx);
  const y1 = Math.min(height, box.y + box.height + my);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Copies the pixels of `box` out of an image with `channels` interleaved values per pixel.
 * @throws RangeError when the box leaves the image or the data does not match width × height × channels.
 * @example cropPixels(rgb, w, h, 3, { x: 10, y: 10, width: 100, height: 80 }).data.length // 24000
 */
export function cropPixels(data: Uint8Array, width: number, height: number, channels: number, box: Box): GreyImage {
  if (data.length !== width * height * channels) throw new RangeError(`crop: ${data.length} values for ${width}×${height}×${channels}`);
  if (box.x < 0 || box.y < 0 || box.width < 1 || box.height < 1 || box.x + box.width > width || box.y + box.height > height) {
    throw new RangeError(`crop: box ${box.x},${box.y} ${box.width}×${box.height} outside ${width}×${height}`);
  }
  const out = new Uint8Array(box.width * box.height * channels);
  const row = box.width * channels;
  for (let y = 0; y < box.height; y++) {
    const from = ((box.y + y) * width + box.x) * channels;
    out.set(data.subarray(from, from + row), y * row);
  }
  return { data: out, width: box.width, height: box.height };
}

/**
 * Copies the pixels of `box` out of a grey image.
 * @example cropGrey(grey, w, h, { x: 10, y: 10, width: 100, height: 80 }).data.length // 8000
 */
export function cropGrey(grey: Uint8Array, width: number, height: number, box: Box): GreyImage {
  return cropPixels(grey, width, height, 1, box);
}

/**
 * Restricts an image (`channels` interleaved values per pixel, e.g. 3 for RGB) to its lungs: `crop` cuts out
 * {@link lungBox} (with `margin`), `mask` keeps the image's size and sets every pixel outside the mask to 0
 * (`margin` unused).
 * @param mask the lung mask, width × height (nonzero = lung).
 * @throws RangeError when the image and the mask do not match width × height.
 * @example const rgb = restrictToLungs(img.data, img.width, img.height, 3, mask, 'crop', 0.05);
 */
export function restrictToLungs(data: Uint8Array, width: number, height: number, channels: number, mask: Uint8Array, mode: LungsMode, margin = 0.05): GreyImage {
  if (data.length !== width * height * channels || mask.length !== width * height) {
    throw new RangeError(`applyLungs: image ${data.length} values (${channels} per pixel) and mask ${mask.length} values for ${width}×${height}`);
  }
  if (mode === 'crop') return cropPixels(data, width, height, channels, lungBox(mask, width, height, margin));
  const out = new Uint8Array(data.length);
  for (let p = 0; p < mask.length; p++) {
    if (mask[p] === 0) continue;
    for (let c = 0; c < channels; c++) out[p * channels + c] = data[p * channels + c];
  }
  return { data: out, width, height };
}

/**
 * Restricts a grey image to its lungs (see {@link restrictToLungs}).
 * @param mask the lung mask, same size as the image (nonzero = lung).
 * @throws RangeError when the image and the mask do not match width × height.
 * @example const { data, width, height } = applyLungs(grey, w, h, mask, 'crop', 0.05);
 */
export function applyLungs(grey: Uint8Array, width: number, height: number, mask: Uint8Array, mode: LungsMode, margin = 0.05): GreyImage {
  return restrictToLungs(grey, width, height, 1, mask, mode, margin);
}
