import { clahe, DEFAULT_CLIP_LIMIT, DEFAULT_TILE_GRID, tileGridSize } from './clahe';
import { greyToRgb, rgbToGrey } from './grey';
import { whiteBalanceLuts } from './white-balance';

/** What the enhancement does to an image before the networks see it. */
export interface EnhanceOptions {
  /** The study's per-channel percentile stretch, applied to the RGB image before grey conversion. */
  whiteBalance: boolean;
  /** CLAHE on the grey image, or null to skip it. */
  clahe: { clipLimit: number; tileGrid: number | [number, number] } | null;
}

/** The study's enhancement: white balance, grey, CLAHE with clip limit 2.0 on a 16×16 grid. */
export const DEFAULT_ENHANCE: Readonly<EnhanceOptions> = Object.freeze({
  whiteBalance: true,
  clahe: Object.freeze({ clipLimit: DEFAULT_CLIP_LIMIT, tileGrid: DEFAULT_TILE_GRID }),
});

/**
 * Enhances an interleaved RGB image (3 values per pixel): white balance → grey (OpenCV RGB2GRAY
 * weights) → CLAHE. Returns the 8-bit grey image, one value per pixel.
 */
export function enhance(rgb: Uint8Array, width: number, height: number, opts: EnhanceOptions = DEFAULT_ENHANCE): Uint8Array {
  // White balance is a per-channel lookup, folded into the grey conversion's single pass.
  const grey = rgbToGrey(rgb, width, height, opts.whiteBalance ? whiteBalanceLuts(rgb, width, height, 3) : undefined);
  return opts.clahe ? clahe(grey, width, height, opts.clahe) : grey;
}

/** `enhance` replicated to 3 channels (R = G = B), the input the RGB backbones take. */
export function enhanceToRgb(rgb: Uint8Array, width: number, height: number, opts: EnhanceOptions = DEFAULT_ENHANCE): Uint8Array {
  return greyToRgb(enhance(rgb, width, height, opts));
}

/**
 * A short stable text naming the enhancement settings, for cache keys and file names: equal settings
 * give equal keys whatever their spelling (16 and [16, 16] are the same grid).
 * Examples: `wb1-clahe2x16x16`, `wb0-noclahe`.
 */
export function enhanceKey(opts: EnhanceOptions): string {
  const wb = opts.whiteBalance ? 'wb1' : 'wb0';
  if (!opts.clahe) return `${wb}-noclahe`;
  const [tx, ty] = tileGridSize(opts.clahe.tileGrid);
  return `${wb}-clahe${String(opts.clahe.clipLimit)}x${tx}x${ty}`;
}
