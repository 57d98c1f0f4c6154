/**
 * Training augmentation for the lung segmenter: one random similarity transform (rotation, scale, shift)
 * applied identically to the image and its mask, then brightness, contrast and gamma on the image alone.
 * Pure functions over square float maps (grey 0–255, mask 0–1).
 */

/** Ranges the draws come from. */
export interface SegmentAugment {
  /** Largest rotation, degrees. */
  rotateDeg: number;
  /** Largest relative scale change (0.1: 0.9–1.1). */
  scale: number;
  /** Largest shift as a fraction of the side. */
  shift: number;
  /** Largest brightness offset as a fraction of 255. */
  brightness: number;
  /** Largest relative contrast change about the mean. */
  contrast: number;
  /** Largest |log gamma|. */
  logGamma: number;
}

export const DEFAULT_SEGMENT_AUGMENT: Readonly<SegmentAugment> = Object.freeze({
  rotateDeg: 10,
  scale: 0.1,
  shift: 0.06,
  brightness: 0.1,
  contrast: 0.2,
  logGamma: 0.3,
});

/** One draw. */
export interface AugmentDraw {
  angle: number;
  scale: number;
  dx: number;
  dy: number;
  brightness: number;
  contrast: number;
  gamma: number;
}

/** Draws one image's transform from `random` (uniform in [0, 1)). */
export function drawSegmentAugment(random: () => number, cfg: SegmentAugment = DEFAULT_SEGMENT_AUGMENT): AugmentDraw {
  const u = (r: number) => (2 * random() - 1) * r;
  return {
    angle: (u(cfg.rotateDeg) * Math.PI) / 180,
    scale: 1 + u(cfg.scale),
    dx: u(cfg.shift),
    dy: u(cfg.shift),
    brightness: u(cfg.brightness) * 255,
    contrast: 1 + u(cfg.contrast),
    gamma: Math.exp(u(cfg.logGamma)),
  };
}

/**
 * Resamples a `size × size` map through the draw's similarity transform about the centre (bilinear;
 * outside the source reads 0: black for the image, background for the mask).
 */
export function warp(src: Float32Array, size: number, d: AugmentDraw): Float32Array {
  const out = new Float32Array(size * size);
  const c = (size - 1) / 2;
  // Inverse map: output pixel → source pixel.
  const cos = Math.cos(d.angle) / d.scale;
  const sin = Math.sin(d.angle) / d.scale;
  const tx = d.dx * size;
  const ty = d.dy * size;
  const read = (x: number, y: number) => (x < 0 || y < 0 || x >= size || y >= size ? 0 : src[y * size + x]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const ox = x - c - tx;
      const oy = y - c - ty;
      const sx = cos * ox + sin * oy + c;
      const sy = -sin * ox + cos * oy + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = read(x0, y0) * (1 - fx) + read(x0 + 1, y0) * fx;
      const bottom = read(x0, y0 + 1) * (1 - fx) + read(x0 + 1, y0 + 1) * fx;
      out[y * size + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Brightness, contrast about the mean, then gamma, clipped to 0–255 (the clipping is what survives standardisation of the first two). */
export function adjustIntensity(grey: Float32Array, d: AugmentDraw): Float32Array {
  let mean = 0;
  for (let i = 0; i < grey.length; i++) mean += grey[i];
  mean /= grey.length;
  const out = new Float32Array(grey.length);
  for (let i = 0; i < grey.length; i++) {
    const v = Math.min(255, Math.max(0, (grey[i] - mean) * d.contrast + mean + d.brightness));
    out[i] = 255 * (v / 255) ** d.gamma;
  }
  return out;
}

/**
 * Augments one example.
 * @example const { grey, mask } = augmentPair(example.small.grey, example.small.mask, 128, drawSegmentAugment(random));
 */
export function augmentPair(grey: Float32Array, mask: Float32Array, size: number, d: AugmentDraw): { grey: Float32Array; mask: Float32Array } {
  if (grey.length !== size * size || mask.length !== size * size) throw new RangeError(`augmentPair: expected ${size}×${size} maps`);
  return { grey: adjustIntensity(warp(grey, size, d), d), mask: warp(mask, size, d) };
}
