import type { Rng } from '../../random';

/** The study's augmentation: Keras `RandomFlip('horizontal')` then `RandomRotation(rotation)` with reflect fill. */
export interface AugmentConfig {
  /** Mirror left–right with probability 1/2. */
  flip: boolean;
  /** Largest rotation as a fraction of a full turn (Keras `RandomRotation(factor)`; 0.1 = ±36°). 0 disables it. */
  rotation: number;
}

export const STUDY_AUGMENT: Readonly<AugmentConfig> = Object.freeze({ flip: true, rotation: 0.1 });

/** One draw of the augmentation for one image. */
export interface AugmentParams {
  flip: boolean;
  /** Rotation in radians (positive: counter-clockwise as Keras draws it). */
  angle: number;
}

/** Draws one image's flip and angle as Keras does: flip if u < 0.5, angle ~ U(−factor, factor)·2π. */
export function drawAugment(rng: Rng, cfg: AugmentConfig): AugmentParams {
  const flip = cfg.flip ? rng.next() < 0.5 : false;
  const angle = cfg.rotation > 0 ? rng.uniform(-cfg.rotation, cfg.rotation) * 2 * Math.PI : 0;
  return { flip, angle };
}

const f32 = Math.fround;

/**
 * TensorFlow's `reflect` fill for a coordinate (ImageProjectiveTransformV3: d c b a | a b c d | d c b a,
 * the edge pixel repeated), then clamped into [0, len − 1].
 */
function reflect(coord: number, len: number): number {
  let c = coord;
  if (c < 0) {
    if (len <= 1) c = 0;
    else {
      const sz2 = 2 * len;
      c = sz2 * Math.trunc(-c / sz2) + c;
      c = c < -len ? c + sz2 : -c - 1;
    }
  } else if (c > len - 1) {
    if (len <= 1) c = 0;
    else {
      const sz2 = 2 * len;
      c -= sz2 * Math.trunc(c / sz2);
      if (c >= len) c = sz2 - c - 1;
    }
  }
  return Math.min(len - 1, Math.max(0, c));
}

/**
 * Applies a flip and a rotation about the image centre to an interleaved image (`channels` values per
 * pixel, 0–255 or any scale), returning float values as the Keras layers do (no rounding): bilinear
 * interpolation, reflect fill, and the exact transform Keras builds for `ImageProjectiveTransformV3`
 * (float32 arithmetic on the coordinates, as TensorFlow computes them).
 */
export function augmentImage(
  src: Uint8Array | Float32Array,
  width: number,
  height: number,
  channels: number,
  p: AugmentParams,
): Float32Array {
  if (src.length !== width * height * channels) {
    throw new RangeError(`augmentImage: ${src.length} values for ${width}×${height}×${channels}`);
  }
  const out = new Float32Array(src.length);
  if (p.angle === 0) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sx = p.flip ? width - 1 - x : x;
        const o = (y * width + x) * channels;
        const s = (y * width + sx) * channels;
        for (let c = 0; c < channels; c++) out[o + c] = src[s + c];
      }
    }
    return out;
  }
  const cos = f32(Math.cos(f32(p.angle)));
  const sin = f32(Math.sin(f32(p.angle)));
  const w1 = width - 1;
  const h1 = height - 1;
  // Keras RandomRotation: output (x, y) samples the input at (cos·x − sin·y + ox, sin·x + cos·y + oy).
  const ox = f32(f32(w1 - f32(f32(cos * w1) - f32(sin * h1))) / 2);
  const oy = f32(f32(h1 - f32(f32(sin * w1) + f32(cos * h1))) / 2);
  const read = (yi: number, xi: number, c: number): number => {
    if (yi < 0 || yi >= height || xi < 0 || xi >= width) return 0;
    const sx = p.flip ? width - 1 - xi : xi;
    return src[(yi * width + sx) * channels + c];
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ix = reflect(f32(f32(f32(cos * x) - f32(sin * y)) + ox), width);
      const iy = reflect(f32(f32(f32(sin * x) + f32(cos * y)) + oy), height);
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const x1 = x0 + 1;
      const y1 = y0 + 1;
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const top = f32(f32((x1 - ix) * read(y0, x0, c)) + f32((ix - x0) * read(y0, x1, c)));
        const bottom = f32(f32((x1 - ix) * read(y1, x0, c)) + f32((ix - x0) * read(y1, x1, c)));
        out[o + c] = f32((y1 - iy) * top) + f32((iy - y0) * bottom);
      }
    }
  }
  return out;
}
