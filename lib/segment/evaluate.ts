import { bootstrapCis, type BootstrapCi } from '../eval/bootstrap';
import type { MaskExample } from './data';
import { segmentImages, type LungPredictor } from './infer';
import { dice, iou } from './mask';

/**
 * Scores a segmenter on examples with known masks, at each image's own size and after post-processing (what
 * `cxr segment` writes), with patient-bootstrap intervals of the mean Dice and IoU.
 */

/** Dice below this counts as a failed segmentation (the acceptance bar: at most 2 of 41 below it). */
export const FAIL_DICE = 0.8;

export interface ImageScore {
  image: string;
  patientId: string;
  dice: number;
  iou: number;
}

export interface SegmentScores {
  images: number;
  patients: number;
  dice: BootstrapCi;
  iou: BootstrapCi;
  /** Images with Dice below {@link FAIL_DICE}. */
  belowFail: number;
  minDice: number;
  perImage: ImageScore[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Summarises per-image scores: mean Dice and IoU with 95 % patient-bootstrap intervals (2,000 resamples, seed 0).
 * @throws RangeError for no scores.
 */
export function summariseScores(perImage: ImageScore[]): SegmentScores {
  const cis = bootstrapCis(perImage, (s) => s.patientId, {
    dice: (sample) => mean(sample.map((s) => s.dice)),
    iou: (sample) => mean(sample.map((s) => s.iou)),
  });
  return {
    images: perImage.length,
    patients: cis.dice.patients,
    dice: cis.dice,
    iou: cis.iou,
    belowFail: perImage.filter((s) => s.dice < FAIL_DICE).length,
    minDice: Math.min(...perImage.map((s) => s.dice)),
    perImage,
  };
}

/** Segments every example's full-size image and scores it against its full-size mask. */
export async function scoreSegmenter(model: LungPredictor, size: number, examples: readonly MaskExample[]): Promise<SegmentScores> {
  const masks = await segmentImages(model, size, examples.map((e) => e.image));
  return summariseScores(
    examples.map((e, i) => ({ image: e.entry.image, patientId: e.entry.patientId, dice: dice(masks[i], e.mask.data), iou: iou(masks[i], e.mask.data) })),
  );
}
