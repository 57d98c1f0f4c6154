/**
 * Image figures: raw pixels to PNG thumbnails, and grids of images with captions and row labels.
 */
import sharp from 'sharp';
import { axisKey, baseLayout, domain, escapeText, panelTitle, type Figure, type Trace } from './figure';

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

/** One cell of an image grid: a PNG (or any browser-readable image) as a data URI. */
export interface ImageCell {
  /** `data:image/png;base64,...` (see {@link pngDataUri}). */
  source: string;
  /** Natural size of the encoded image, in pixels. */
  width: number;
  height: number;
  /** Caption above the image. */
  title?: string;
}

/** Options of {@link imageGridFigure}. */
export interface ImageGridOptions {
  title: string;
  /** Rows of images; rows may have different lengths. */
  rows: readonly { label?: string; cells: readonly ImageCell[] }[];
  /** Displayed size of each cell's longer side, in CSS pixels (default 220). */
  cellSize?: number;
}

/**
 * Images (already encoded, as data URIs) in a grid with a caption per image and a label per row (e.g. one
 * row per class); {@link imageGrid} builds one from raw pixels.
 * @example imageGridFigure({ title: 'Samples', rows: [{ label: 'covid', cells: [{ source: pngDataUri(png), width: 220, height: 180, title: 'a.png' }] }] })
 */
export function imageGridFigure(o: ImageGridOptions): Figure {
  const columns = Math.max(1, ...o.rows.map((r) => r.cells.length));
  const rows = o.rows.length;
  const cell = o.cellSize ?? 220;
  const captionPx = 24;
  const hasLabels = o.rows.some((r) => r.label);
  const margin = { l: hasLabels ? 40 : 10, r: 10, t: 60, b: 10 };
  const width = margin.l + margin.r + columns * (cell + 10);
  const height = margin.t + margin.b + rows * (cell + captionPx + 10);
  const plotW = width - margin.l - margin.r;
  const plotH = height - margin.t - margin.b;
  const data: Trace[] = [];
  const layoutAxes: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  let k = 0;
  o.rows.forEach((row, r) => {
    const top = 1 - (r * (cell + captionPx + 10)) / plotH;
    const yDomain = domain(top - (captionPx + cell) / plotH, top - captionPx / plotH);
    row.cells.forEach((c, col) => {
      const left = (col * (cell + 10)) / plotW;
      const xDomain = domain(left, left + cell / plotW);
      const ref = k === 0 ? '' : String(k + 1);
      data.push({
        type: 'image',
        source: c.source,
        xaxis: `x${ref}`,
        yaxis: `y${ref}`,
        hoverinfo: 'skip',
        name: c.title ?? '',
      });
      // Fixed ranges with constrain: 'domain' keep each image's aspect ratio inside its square cell.
      layoutAxes[axisKey('xaxis', k)] = { domain: xDomain, range: [-0.5, c.width - 0.5], visible: false, constrain: 'domain', anchor: `y${ref}` };
      layoutAxes[axisKey('yaxis', k)] = {
        domain: yDomain,
        range: [c.height - 0.5, -0.5],
        visible: false,
        scaleanchor: `x${ref}`,
        constrain: 'domain',
        // A landscape image sits right under its caption rather than in the middle of the cell.
        constraintoward: 'top',
        anchor: `x${ref}`,
      };
      if (c.title) annotations.push(panelTitle(c.title, xDomain, [yDomain[0], yDomain[1] + 2 / plotH]));
      k++;
    });
    if (row.label) {
      annotations.push({
        text: `<b>${escapeText(row.label)}</b>`,
        xref: 'paper',
        yref: 'paper',
        x: 0,
        xshift: -12,
        y: (yDomain[0] + yDomain[1]) / 2,
        xanchor: 'right',
        yanchor: 'middle',
        textangle: -90,
        showarrow: false,
        font: { size: 14 },
      });
    }
  });
  return {
    data,
    layout: baseLayout(o.title, { ...layoutAxes, annotations, margin, width, height, showlegend: false }),
  };
}
