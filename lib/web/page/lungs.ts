/**
 * The run's lung step in the browser: its own segmenter (the U-Net `cxr serve` serves from the folder the run
 * recorded) and the same code `cxr predict` runs — grey → resize to the network's side → standardise → U-Net →
 * lib/segment/mask.ts's post-processing (two largest components, holes filled) → the mask cache's 256²
 * round trip (lib/segment/mask-file.ts's scaleMask both ways, so the lung box is the one a cached mask gives)
 * → lib/segment/lungs.ts's crop or mask on the full decoded image. The resize (lanczos.ts) gives sharp's
 * bytes, so only the decoder and the backend's arithmetic can move a lung border from the command line's.
 */
import type { LungsPrep } from '../../data/input/lungs';
import type { RgbImage } from '../../data/input/normalise';
import { rgbToGrey } from '../../enhance/grey';
import { standardise } from '../../segment/data';
import { predictProbabilities } from '../../segment/infer';
import { lungBox, restrictToLungs } from '../../segment/lungs';
import { lungMaskFromProbability, type Box } from '../../segment/mask';
import { MASK_SIDE, scaleMask } from '../../segment/mask-file';
import { resizeGreyLanczos3 } from './lanczos';
import { loadServedModel } from './load-model';

/** Where `cxr serve` serves the run's segmenter (lib/web/assets.ts). */
export const SEGMENTER_URL = '/segmenter/model.json';

/** An image restricted to its lungs, and the box it was cropped to (crop mode; null when masked). */
export interface LungRestriction {
  image: RgbImage;
  box: Box | null;
}

/** The run's lung segmenter, loaded in the browser. */
export interface PageSegmenter {
  /** The network's input side. */
  size: number;
  /**
   * The lung mask of a decoded image as a cached mask reads back: 0/255, the image's size.
   * @example const mask = await seg.mask(img);
   */
  mask(img: RgbImage): Promise<Uint8Array>;
  /**
   * `img` cropped to its lung box or masked outside its lungs, as the run's input step does.
   * @example const { image, box } = await seg.restrict(img, { mode: 'crop', margin: 0.05 });
   */
  restrict(img: RgbImage, lungs: LungsPrep): Promise<LungRestriction>;
}

/**
 * Loads the segmenter `cxr serve` serves (call after the TF.js backend is chosen).
 * @throws Error when it cannot be fetched or its input has no fixed square size
 */
export async function loadPageSegmenter(): Promise<PageSegmenter> {
  const model = await loadServedModel(SEGMENTER_URL);
  const [, size, side] = model.inputs[0].shape;
  if (typeof size !== 'number' || size !== side) throw new Error(`${SEGMENTER_URL}: the segmenter's input is not a fixed square (${model.inputs[0].shape})`);
  const mask = async (img: RgbImage): Promise<Uint8Array> => {
    const { width, height } = img;
    const grey = rgbToGrey(img.data, width, height);
    const [prob] = await predictProbabilities(model, [standardise(resizeGreyLanczos3(grey, width, height, size, size))], size);
    const full = lungMaskFromProbability(prob, size, size, width, height);
    // What ensureLungMasks stores and restrictImage reads back.
    return scaleMask(scaleMask(full, width, height, MASK_SIDE, MASK_SIDE), MASK_SIDE, MASK_SIDE, width, height);
  };
  return {
    size,
    mask,
    async restrict(img, lungs) {
      const m = await mask(img);
      const image = restrictToLungs(img.data, img.width, img.height, 3, m, lungs.mode, lungs.margin);
      return { image, box: lungs.mode === 'crop' ? lungBox(m, img.width, img.height, lungs.margin) : null };
    },
  };
}
