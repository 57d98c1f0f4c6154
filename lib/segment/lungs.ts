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
 * Copies the pixels of `box` out of a grey image.
 * @example cropGrey(grey, w, h, { x: 10, y: 10, width: 100, height: 80 }).data.length // 8000
 */
export function cropGrey(grey: Uint8Array, width: number, height: number, box: Box): GreyImage {
  if (grey.length !== width * height) throw new RangeError(`cropGrey: ${grey.length} values for ${width}×${height}`);
  if (box.x < 0 || box.y < 0 || box.width < 1 || box.height < 1 || box.x + box.width > width || box.y + box.height > height) {
    throw new RangeError(`cropGrey: box ${box.x},${box.y} ${box.width}×${box.height} outside ${width}×${height}`);
  }
  const data = new Uint8Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const from = (box.y + y) * width + box.x;
    data.set(grey.subarray(from, from + box.width), y * box.width);
  }
  return { data, width: box.width, height: box.height };
}

/**
 * Restricts a grey image to its lungs: `crop` cuts out {@link lungBox} (with `margin`), `mask` keeps the
 * image's size and sets every pixel outside the mask to 0 (`margin` unused).
 * @param mask the lung mask, same size as the image (nonzero = lung).
 * @throws RangeError when the image and the mask do not match width × height.
 * @example const { data, width, height } = applyLungs(grey, w, h, mask, 'crop', 0.05);
 */
export function applyLungs(grey: Uint8Array, width: number, height: number, mask: Uint8Array, mode: LungsMode, margin = 0.05): GreyImage {
  if (grey.length !== width * height || mask.length !== grey.length) {
    throw new RangeError(`applyLungs: image ${grey.length} and mask ${mask.length} values for ${width}×${height}`);
  }
  if (mode === 'crop') return cropGrey(grey, width, height, lungBox(mask, width, height, margin));
  const data = new Uint8Array(grey.length);
  for (let i = 0; i < data.length; i++) if (mask[i] !== 0) data[i] = grey[i];
  return { data, width, height };
}
