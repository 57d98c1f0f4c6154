import sharp from 'sharp';
import { imageGridFigure, type Figure } from './figure';

/** Raw 8-bit pixels, interleaved: 1 channel (grey) or 3 (RGB). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/**
 * Encodes raw pixels as PNG, shrunk (never enlarged) so the longer side is at most `maxSide` — so
 * notebooks and figure files carry thumbnails, not full radiographs.
 */
export async function encodePng(img: RawImage, maxSide?: number): Promise<{ png: Buffer; width: number; height: number }> {
  if (img.data.length !== img.width * img.height * img.channels) {
    throw new RangeError(`raw image: ${img.data.length} bytes for ${img.width}×${img.height}×${img.channels}`);
  }
  let pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  if (maxSide && Math.max(img.width, img.height) > maxSide) {
    pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
  }
  // sharp would store grey input as RGB: a third of the bytes in notebooks and SVGs when kept grey.
  if (img.channels === 1) pipeline = pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.png({ compressionLevel: 9 }).toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height };
}

/** `data:image/png;base64,…` for a PNG. */
export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

/** One image of a grid with its caption. */
export interface GridImage {
  image: RawImage;
  title?: string;
}

export interface ImageGridInput {
  title: string;
  rows: readonly { label?: string; images: readonly GridImage[] }[];
  /** Displayed size of each cell's longer side, CSS pixels (default 220). */
  cellSize?: number;
}

/**
 * A figure of raw images in rows (e.g. one row per class, or original / white balance / CLAHE side
 * by side). Images are stored as PNG thumbnails at twice the cell size, sharp on high-density screens.
 */
export async function imageGrid(o: ImageGridInput): Promise<Figure> {
  const cellSize = o.cellSize ?? 220;
  const rows = [];
  for (const row of o.rows) {
    const cells = [];
    for (const { image, title } of row.images) {
      const { png, width, height } = await encodePng(image, 2 * cellSize);
      cells.push({ source: pngDataUri(png), width, height, title });
    }
    rows.push({ label: row.label, cells });
  }
  return imageGridFigure({ title: o.title, rows, cellSize });
}
