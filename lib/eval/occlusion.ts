/**
 * Pixel-level shortcut test: score the CNN on its test images with parts of each image hidden, and compare with
 * the intact images. A model that reads the lungs should fail when the centre of the radiograph is hidden and
 * keep much of its accuracy when only the border is hidden; a model that survives with nothing but the border
 * (corners, text markers, collimation edges, padding) is using something other than the lungs.
 *
 * Masks act on the network input exactly as the run saw it (after enhancement and resizing to the input size,
 * before the backbone's preprocessing). Regions are boxes in fractions of the image side, so they mean the same
 * at every input size.
 */
import { taskLabelIndex } from '../data/labels';
import type { BootstrapOptions } from './bootstrap';
import type { ImageSample } from './evaluate';
import { predictImages, runImageBatches, type BatchOptions, type RunModel } from '../train/run-model';
import { summarise, type EvaluationSummary } from './summary';
import type { Prediction } from './types';

/** A box in fractions of the image width (left, right) and height (top, bottom), 0 ≤ left < right ≤ 1. */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** One way of hiding part of the image: the pixels inside (or outside) `box` are replaced by the fill. */
export interface OcclusionVariant {
  name: string;
  description: string;
  box: Box;
  hide: 'inside' | 'outside';
}

/**
 * Where the lungs lie in a frontal (PA/AP) radiograph stretched to a square: the middle 70 % of each side
 * covers both lung fields in the great majority of images, leaving the shoulders, neck, corners and borders.
 */
export const LUNG_BOX: Readonly<Box> = Object.freeze({ left: 0.15, top: 0.15, right: 0.85, bottom: 0.85 });

/** Width of the frame kept by the border-only test, as a fraction of the side. */
export const BORDER_FRACTION = 0.1;

/** The box inside a frame of `border` (fraction of the side) on every edge. */
export function insideBorder(border: number): Box {
  if (!(border > 0 && border < 0.5)) throw new RangeError(`border must be in (0, 0.5), got ${border}`);
  return { left: border, top: border, right: 1 - border, bottom: 1 - border };
}

/**
 * The standard variants, parameterised:
 * - `lungs-hidden`: the lung box is filled (the centre masked); what survives is read from outside the lungs;
 * - `border-only`: everything but a frame of `border` is filled; the model sees only the image's edges;
 * - `lungs-only`: everything outside the lung box is filled (the control: what the lungs alone support).
 */
export function standardVariants(opts: { lungBox?: Box; border?: number } = {}): OcclusionVariant[] {
  const lungs = opts.lungBox ?? LUNG_BOX;
  const border = opts.border ?? BORDER_FRACTION;
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  return [
    { name: 'lungs-hidden', description: `centre box (${pct(lungs.right - lungs.left)} × ${pct(lungs.bottom - lungs.top)} of the image) hidden`, box: lungs, hide: 'inside' },
    { name: 'border-only', description: `only a ${pct(border)} frame at the edges kept`, box: insideBorder(border), hide: 'inside' },
    { name: 'lungs-only', description: `only the centre box (${pct(lungs.right - lungs.left)} × ${pct(lungs.bottom - lungs.top)}) kept`, box: lungs, hide: 'outside' },
  ];
}

function checkBox(b: Box): void {
  const ok = [b.left, b.top, b.right, b.bottom].every((v) => v >= 0 && v <= 1) && b.left < b.right && b.top < b.bottom;
  if (!ok) throw new RangeError(`occlusion box must satisfy 0 ≤ left < right ≤ 1 and 0 ≤ top < bottom ≤ 1, got ${JSON.stringify(b)}`);
}

/**
 * The hidden pixels of a `width` × `height` image under `variant`: 1 = hidden. A pixel belongs to the box when its
 * centre lies inside it.
 */
export function occlusionMask(variant: OcclusionVariant, width: number, height = width): Uint8Array {
  checkBox(variant.box);
  const { left, top, right, bottom } = variant.box;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const cy = (y + 0.5) / height;
    for (let x = 0; x < width; x++) {
      const cx = (x + 0.5) / width;
      const inside = cx >= left && cx < right && cy >= top && cy < bottom;
      mask[y * width + x] = inside === (variant.hide === 'inside') ? 1 : 0;
    }
  }
  return mask;
}

/** How hidden pixels are filled: each image's own mean value (no structure, same brightness) or a constant. */
export type Fill = 'mean' | number;

/**
 * Fills the masked pixels of `n` interleaved images (`channels` values per pixel, `mask.length` pixels each) in
 * place. With 'mean' the fill of each channel is that image's mean over all its pixels before masking.
 */
export function applyMask(x: Float32Array, n: number, channels: number, mask: Uint8Array, fill: Fill = 'mean'): Float32Array {
  const pixels = mask.length;
  if (x.length !== n * pixels * channels) throw new RangeError(`applyMask: ${x.length} values for ${n} images of ${pixels}×${channels}`);
  for (let i = 0; i < n; i++) {
    const base = i * pixels * channels;
    const value = new Float64Array(channels);
    if (fill === 'mean') {
      for (let p = 0; p < pixels; p++) for (let c = 0; c < channels; c++) value[c] += x[base + p * channels + c];
      for (let c = 0; c < channels; c++) value[c] /= pixels;
    } else value.fill(fill);
    for (let p = 0; p < pixels; p++) {
      if (!mask[p]) continue;
      for (let c = 0; c < channels; c++) x[base + p * channels + c] = value[c];
    }
  }
  return x;
}

/** The model on one version of the images. */
export interface OcclusionScore {
  /** `intact` for the unmasked images. */
  name: string;
  description: string;
  summary: EvaluationSummary;
  /** Accuracy relative to the intact images' (1 = nothing lost). */
  retained: number;
  /**
   * Share of the intact accuracy's margin over chance that survives: (acc − chance) / (intact − chance); 0 means
   * the masked model is no better than always answering the majority class. NaN when intact is not above chance.
   */
  retainedAboveChance: number;
  predictions: Prediction[];
}

/** The occlusion test of one run. */
export interface OcclusionResult {
  classes: string[];
  n: number;
  /** Accuracy of always predicting the most frequent class of the evaluated images. */
  chance: number;
  fill: Fill;
  intact: OcclusionScore;
  variants: OcclusionScore[];
}

/** Options of {@link occlusionTest}. */
export interface OcclusionOptions extends BatchOptions {
  variants?: OcclusionVariant[];
  fill?: Fill;
  bootstrap?: BootstrapOptions | false;
  onProgress?: (done: number, total: number) => void;
}

/** Scores the run's model on `samples` intact and under each variant (each image decoded once). */
export async function occlusionTest(rm: RunModel, samples: readonly ImageSample[], opts: OcclusionOptions = {}): Promise<OcclusionResult> {
  if (samples.length === 0) throw new RangeError('occlusion test: no images');
  const variants = opts.variants ?? standardVariants();
  const fill = opts.fill ?? 'mean';
  const size = rm.config.inputSize;
  const masks = variants.map((v) => occlusionMask(v, size));
  const preds: Prediction[][] = [[], ...variants.map(() => [])];
  let done = 0;
  for await (const batch of runImageBatches(rm, samples.map((s) => s.path), opts)) {
    const versions = [batch.x, ...masks.map((m) => applyMask(Float32Array.from(batch.x), batch.n, 3, m, fill))];
    for (let v = 0; v < versions.length; v++) {
      const probs = await predictImages(rm, versions[v], batch.n);
      probs.forEach((p, i) => {
        const s = samples[batch.offset + i];
        preds[v].push({ file: s.file, patientId: s.patientId, label: taskLabelIndex(s.label, rm.config.task), probs: p });
      });
    }
    done += batch.n;
    opts.onProgress?.(done, samples.length);
  }
  const counts = rm.classes.map((_, k) => preds[0].filter((p) => p.label === k).length);
  const chance = Math.max(...counts) / samples.length;
  const intactSummary = summarise(preds[0], rm.classes, { bootstrap: opts.bootstrap });
  const intactAcc = intactSummary.accuracy.point;
  const score = (name: string, description: string, p: Prediction[], summary = summarise(p, rm.classes, { bootstrap: opts.bootstrap })): OcclusionScore => ({
    name,
    description,
    summary,
    retained: intactAcc > 0 ? summary.accuracy.point / intactAcc : NaN,
    retainedAboveChance: intactAcc > chance ? (summary.accuracy.point - chance) / (intactAcc - chance) : NaN,
    predictions: p,
  });
  return {
    classes: rm.classes,
    n: samples.length,
    chance,
    fill,
    intact: score('intact', 'the whole image', preds[0], intactSummary),
    variants: variants.map((v, i) => score(v.name, v.description, preds[i + 1])),
  };
}
