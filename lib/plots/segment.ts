/**
 * Lung segmentation figures: X-rays with their lung masks overlaid, and the distribution of Dice scores.
 */
import { histogramChart } from './bars';
import type { Figure } from './figure';
import { imageGrid, type RawImage } from './images';

/** A grey image with its lung mask (0/255, same size) and a caption. */
export interface MaskedImage {
  grey: Uint8Array;
  mask: Uint8Array;
  width: number;
  height: number;
  title?: string;
}

/**
 * RGB copy of a grey image with the lungs tinted orange and their outline drawn in full orange (colour-blind
 * safe against grey), so both the region and its edge can be judged.
 * @throws RangeError when the image and mask sizes differ from width × height.
 * @example const rgb = overlayMask(grey, mask, w, h);
 */
export function overlayMask(grey: Uint8Array, mask: Uint8Array, width: number, height: number): RawImage {
  if (grey.length !== width * height || mask.length !== grey.length) {
    throw new RangeError(`overlayMask: image ${grey.length} and mask ${mask.length} values for ${width}×${height}`);
  }
  const tint = [230, 159, 0];
  const data = new Uint8Array(width * height * 3);
  // Outline width grows with the image so it stays visible in a thumbnail.
  const r = Math.max(1, Math.round(Math.max(width, height) / 256));
  const inside = (x: number, y: number) => x < 0 || y < 0 || x >= width || y >= height || mask[y * width + x] !== 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = grey[i];
      let edge = false;
      if (mask[i] !== 0) edge = !inside(x - r, y) || !inside(x + r, y) || !inside(x, y - r) || !inside(x, y + r);
      for (let c = 0; c < 3; c++) data[i * 3 + c] = edge ? tint[c] : mask[i] !== 0 ? Math.round(0.7 * v + 0.3 * tint[c]) : v;
    }
  }
  return { data, width, height, channels: 3 };
}

/**
 * A grid of X-rays with lung masks overlaid, one row per group (e.g. adult COVID, paediatric, adult normal).
 * @example await maskOverlayGrid('Lung masks', [{ label: 'paediatric', images }])
 */
export async function maskOverlayGrid(title: string, rows: readonly { label: string; images: readonly MaskedImage[] }[], cellSize = 180): Promise<Figure> {
  return imageGrid({
    title,
    cellSize,
    rows: rows.map((row) => ({
      label: row.label,
      images: row.images.map((m) => ({ image: overlayMask(m.grey, m.mask, m.width, m.height), title: m.title })),
    })),
  });
}

/**
 * Histogram of per-image Dice scores on bins of 0.02 from 0.5 to 1.
 * @example diceHistogram('Validation Dice', [{ name: 'val', values: scores }])
 */
export function diceHistogram(title: string, series: readonly { name: string; values: readonly number[] }[]): Figure {
  return histogramChart({
    title,
    series,
    xTitle: 'Dice (predicted vs annotated lungs)',
    bins: { start: 0.5, end: 1.0001, size: 0.02 },
  });
}
