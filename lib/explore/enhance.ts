import { decodeImage } from '../data/decode';
import type { Sample } from '../data/types';
import { clahe } from '../enhance/clahe';
import { rgbToGrey } from '../enhance/grey';
import { whiteBalance } from '../enhance/white-balance';
import type { RawImage } from '../plots/images';
import { addHistograms, greyHistogram, greyStats } from './histogram';

/** The enhancement's steps for notebook 02, each image kept so they can be shown side by side. */

/** The stages compared, in pipeline order. */
export const STAGES = ['original', 'white balance', 'white balance + CLAHE'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageImages {
  /** The decoded RGB image. */
  original: RawImage;
  /** After the per-channel percentile stretch (still RGB). */
  whiteBalanced: RawImage;
  /** Grey levels of each stage (what the histograms compare; the last is the network input). */
  grey: Record<Stage, Uint8Array>;
}

/** CLAHE settings as the pipeline takes them. */
export interface ClaheSettings {
  clipLimit: number;
  tileGrid: number | [number, number];
}

/** Runs the pipeline step by step on one RGB image (as `enhance`, keeping each intermediate). */
export function enhancementStages(rgb: Uint8Array, width: number, height: number, settings: ClaheSettings): StageImages {
  const balanced = whiteBalance(rgb, width, height, 3);
  const balancedGrey = rgbToGrey(balanced, width, height);
  return {
    original: { data: rgb, width, height, channels: 3 },
    whiteBalanced: { data: balanced, width, height, channels: 3 },
    grey: {
      original: rgbToGrey(rgb, width, height),
      'white balance': balancedGrey,
      'white balance + CLAHE': clahe(balancedGrey, width, height, settings),
    },
  };
}

/**
 * Decodes a sample at its stored size and runs `enhancementStages`: the training pipeline enhances at
 * the original resolution too, before resizing (a letterbox border would also skew the percentiles).
 */
export async function sampleStages(sample: Sample, settings: ClaheSettings): Promise<StageImages> {
  const img = await decodeImage(sample.path);
  return enhancementStages(img.data, img.width, img.height, settings);
}

/**
 * Pooled grey-level histogram of each stage over a class's samples (counts; normalise to compare).
 * Images are decoded at their stored size so the histograms describe what the pipeline sees.
 */
export async function stageHistograms(samples: readonly Sample[], settings: ClaheSettings): Promise<Record<Stage, number[]>> {
  const per: Record<Stage, number[][]> = { original: [], 'white balance': [], 'white balance + CLAHE': [] };
  for (const s of samples) {
    const { grey } = await sampleStages(s, settings);
    for (const stage of STAGES) per[stage].push(greyHistogram(grey[stage]));
  }
  return { original: addHistograms(per.original), 'white balance': addHistograms(per['white balance']), 'white balance + CLAHE': addHistograms(per['white balance + CLAHE']) };
}

/** One CLAHE setting applied to one grey image. */
export interface SweepCell {
  clipLimit: number;
  tileGrid: number;
  image: Uint8Array;
  /** Global contrast (standard deviation of grey levels) of the result. */
  std: number;
}

/**
 * CLAHE with every combination of clip limit and tile grid on one grey image: the small multiples of
 * notebook 02. Returns `cells[clipIndex][gridIndex]`.
 */
export function claheSweep(grey: Uint8Array, width: number, height: number, clipLimits: readonly number[], tileGrids: readonly number[]): SweepCell[][] {
  return clipLimits.map((clipLimit) =>
    tileGrids.map((tileGrid) => {
      const image = clahe(grey, width, height, { clipLimit, tileGrid });
      return { clipLimit, tileGrid, image, std: greyStats(greyHistogram(image)).std };
    }),
  );
}

/** Mean contrast (std) of each setting over several images' sweeps (all with the same settings). */
export function meanContrast(sweeps: readonly SweepCell[][][]): number[][] {
  if (sweeps.length === 0) throw new RangeError('meanContrast: no sweeps');
  return sweeps[0].map((row, i) => row.map((_, j) => sweeps.reduce((t, sw) => t + sw[i][j].std, 0) / sweeps.length));
}
