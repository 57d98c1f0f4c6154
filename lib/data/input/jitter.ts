/**
 * X-ray-realistic augmentation for the de-confounded recipe: a random resized crop (zoom and shift), a
 * small rotation, and brightness / contrast / gamma jitter — the variation between two hospitals'
 * radiographs of the same chest (positioning, exposure, detector response). Unlike the study's flip and
 * ±36° rotation it never makes an image no scanner would produce. One resampling for the whole geometry.
 */
import type { Rng } from '../../random';

export interface JitterConfig {
  /** Range of the crop's area as a fraction of the image (e.g. [0.8, 1]); the crop is resized to the full input. */
  area: [number, number];
  /** Largest rotation in degrees (uniform in ±rotation). */
  rotationDeg: number;
  /** Largest brightness shift as a fraction of full scale (uniform in ±brightness). */
  brightness: number;
  /** Largest contrast change (factor uniform in 1 ± contrast, about mid-grey). */
  contrast: number;
  /** Largest gamma change (exponent uniform in [1 − gamma, 1 + gamma]). */
  gamma: number;
}

/** The recipe's defaults (issue #24): crop 0.8–1.0 of the area, ±10°, ±10 % brightness and contrast, gamma 0.85–1.15. */
export const XRAY_JITTER: Readonly<JitterConfig> = Object.freeze({ area: [0.8, 1] as [number, number], rotationDeg: 10, brightness: 0.1, contrast: 0.1, gamma: 0.15 });

/** A fresh copy of {@link XRAY_JITTER} for a run config (which is written out and may be edited). */
export function xrayJitter(): JitterConfig {
  return { ...XRAY_JITTER, area: [...XRAY_JITTER.area] };
}

/** One draw of the jitter for one image. */
export interface JitterParams {
  /** Side of the crop as a fraction of the image side (√area). */
  side: number;
  /** Crop centre offset from the image centre, as fractions of the image size, within what the side allows. */
  dx: number;
  dy: number;
  /** Rotation in radians. */
  angle: number;
  brightness: number;
  contrast: number;
  gamma: number;
}

/**
 * Draws one image's jitter.
 * @throws RangeError when the config is out of range (area outside (0, 1], negative amounts)
 */
export function drawJitter(rng: Rng, cfg: JitterConfig): JitterParams {
  const [lo, hi] = cfg.area;
  if (!(lo > 0 && lo <= hi && hi <= 1) || cfg.rotationDeg < 0 || cfg.brightness < 0 || cfg.contrast < 0 || !(cfg.gamma >= 0 && cfg.gamma < 1)) {
    throw new RangeError(`jitter config out of range: ${JSON.stringify(cfg)}`);
  }
  const side = Math.sqrt(rng.uniform(lo, hi));
  const room = (1 - side) / 2;
  return {
    side,
    dx: rng.uniform(-room, room),
    dy: rng.uniform(-room, room),
    angle: (rng.uniform(-cfg.rotationDeg, cfg.rotationDeg) * Math.PI) / 180,
    brightness: rng.uniform(-cfg.brightness, cfg.brightness),
    contrast: 1 + rng.uniform(-cfg.contrast, cfg.contrast),
    gamma: 1 + rng.uniform(-cfg.gamma, cfg.gamma),
  };
}

/**
 * Applies a jitter to an interleaved image with values 0–255: output pixel (x, y) samples the input at
 * the crop's rotated, scaled position (bilinear, edges clamped so no black wedges appear), then
 * v ← 255·clamp(((v/255)^γ − ½)·contrast + ½ + brightness).
 * @param src `width·height·channels` values
 * @example jitterImage(px, 160, 160, 1, drawJitter(rng, XRAY_JITTER))
 */
export function jitterImage(src: ArrayLike<number>, width: number, height: number, channels: number, p: JitterParams): Float32Array {
  if (src.length !== width * height * channels) throw new RangeError(`jitterImage: ${src.length} values for ${width}×${height}×${channels}`);
  const out = new Float32Array(src.length);
  const cos = Math.cos(p.angle) * p.side;
  const sin = Math.sin(p.angle) * p.side;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const sx0 = cx + p.dx * width;
  const sy0 = cy + p.dy * height;
  const lut = photometricLut(p);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x - cx;
      const v = y - cy;
      const ix = Math.min(width - 1, Math.max(0, sx0 + cos * u - sin * v));
      const iy = Math.min(height - 1, Math.max(0, sy0 + sin * u + cos * v));
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const fx = ix - x0;
      const fy = iy - y0;
      const o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const top = src[(y0 * width + x0) * channels + c] * (1 - fx) + src[(y0 * width + x1) * channels + c] * fx;
        const bottom = src[(y1 * width + x0) * channels + c] * (1 - fx) + src[(y1 * width + x1) * channels + c] * fx;
        out[o + c] = applyLut(lut, top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/** Photometric map sampled at 1/4 grey level (1021 points), interpolated: exact enough, 30× cheaper than pow per pixel. */
function photometricLut(p: JitterParams): Float32Array {
  const lut = new Float32Array(1021);
  for (let i = 0; i < lut.length; i++) {
    const v = i / (lut.length - 1);
    lut[i] = 255 * Math.min(1, Math.max(0, (v ** p.gamma - 0.5) * p.contrast + 0.5 + p.brightness));
  }
  return lut;
}

function applyLut(lut: Float32Array, value: number): number {
  const t = (Math.min(255, Math.max(0, value)) / 255) * (lut.length - 1);
  const i = Math.min(lut.length - 2, Math.floor(t));
  return lut[i] + (lut[i + 1] - lut[i]) * (t - i);
}
