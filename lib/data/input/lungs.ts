/**
 * The input stage's lung step: an image restricted to its lungs with the mask the main thread cached for it
 * (lib/segment/mask-cache.ts), on the full decoded image before every other step.
 */
import { restrictToLungs, type LungsMode } from '../../segment/lungs';
import { readCachedMask } from '../../segment/mask-file';
import type { RgbImage } from './normalise';

/** How inputs are restricted to the lungs: crop to their box grown by `margin`, or zero outside them. */
export interface LungsPrep {
  mode: LungsMode;
  /** Fraction of the lung box's width and height added on each side (crop only). */
  margin: number;
}

/** Margin of `--lungs crop`: 5 % keeps the costophrenic angles and apices a tight box may clip. */
export const DEFAULT_LUNG_MARGIN = 0.05;

/**
 * `img` cropped to its lung box or masked outside its lungs, with the cached mask scaled to its size.
 * @throws InputFileError naming the mask file when it cannot be read.
 * @example img = await restrictImage(await decodeImage(file), job.lungMask, { mode: 'crop', margin: 0.05 });
 */
export async function restrictImage(img: RgbImage, maskFile: string, lungs: LungsPrep): Promise<RgbImage> {
  const mask = await readCachedMask(maskFile, img.width, img.height);
  return restrictToLungs(img.data, img.width, img.height, 3, mask, lungs.mode, lungs.margin);
}
