/**
 * Contrast Limited Adaptive Histogram Equalisation, bit-exact with OpenCV's
 * `cv2.createCLAHE(clipLimit, tileGridSize).apply(img)` on 8-bit grey images of any size.
 *
 * Same algorithm and the same arithmetic as OpenCV's clahe.cpp (CPU path):
 * - when the size is not a multiple of the grid, tile histograms come from the image extended on the
 *   right and bottom with BORDER_REFLECT_101 by `grid - size % grid` pixels in BOTH directions (OpenCV
 *   extends a dimension by a whole extra tile row/column even when only the other one is uneven);
 * - clip limit in pixels = trunc(clipLimit · tileArea / 256), at least 1 (0 or less disables clipping);
 *   the clipped excess is spread evenly, the remainder one pixel every `max(256 / residual, 1)` bins;
 * - LUT = round-half-even(float32(cumulative count · float32(255 / tileArea)));
 * - bilinear interpolation between the four nearest tile centres in float32, rounded half to even.
 * The per-pixel and per-bin loops run in the small WebAssembly module of clahe-wasm.ts, whose float32
 * arithmetic is exactly OpenCV's; the per-row and per-column float32 steps here use Math.fround (a
 * float64 product or sum of two float32 values rounded once to float32 is exactly the float32
 * operation). The goldens and fresh random cases check the result against OpenCV itself.
 */

import { claheKernels } from './clahe-wasm';

export interface ClaheOptions {
  /** Contrast limit relative to a uniform histogram (OpenCV's clipLimit). Default 2.0; <= 0 disables clipping. */
  clipLimit?: number;
  /** Tiles across and down: a number for a square grid or [columns, rows] (OpenCV's Size(width, height)). Default 16. */
  tileGrid?: number | [number, number];
}

export const DEFAULT_CLIP_LIMIT = 2.0;
export const DEFAULT_TILE_GRID = 16;

const HIST_SIZE = 256;
const fround = Math.fround;
/** [columns, rows] of a tile grid option, validated. */
export function tileGridSize(tileGrid: number | [number, number] = DEFAULT_TILE_GRID): [number, number] {
  const [tx, ty] = typeof tileGrid === 'number' ? [tileGrid, tileGrid] : tileGrid;
  for (const t of [tx, ty]) {
    if (!Number.isInteger(t) || t < 1) throw new RangeError(`tile grid ${JSON.stringify(tileGrid)} must be positive integers`);
  }
  return [tx, ty];
}

/** OpenCV's borderInterpolate for BORDER_REFLECT_101 (…c b | a b c … | b a…), any distance outside. */
function reflect101(p: number, len: number): number {
  if (len === 1) return 0;
  while (p < 0 || p >= len) p = p < 0 ? -p : 2 * len - p - 2;
  return p;
}

// Kept for the next call: a batch of images has one geometry, so one tile area.
let scaledArea = -1;
let scaledTable = new Uint8Array(0);

/** OpenCV's LUT value saturate_cast<uchar>(sum * lutScale) in float32 for every cumulative count. */
function lutValues(tileArea: number): Uint8Array {
  if (tileArea !== scaledArea) {
    const lutScale = fround(fround(HIST_SIZE - 1) / tileArea);
    const clamped = new Uint8ClampedArray(tileArea + 1);
    for (let sum = 0; sum <= tileArea; sum++) clamped[sum] = fround(sum * lutScale);
    scaledTable = new Uint8Array(clamped.buffer);
    scaledArea = tileArea;
  }
  return scaledTable;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * CLAHE of an 8-bit grey image (one value per pixel, row-major). Returns a new image of the same size.
 * Defaults are the study's: clip limit 2.0, 16×16 tiles.
 */
export function clahe(grey: Uint8Array, width: number, height: number, opts: ClaheOptions = {}): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size ${width}x${height} is not a positive integer size`);
  }
  if (grey.length !== width * height) {
    throw new RangeError(`expected ${width * height} grey values for ${width}x${height}, got ${grey.length}`);
  }
  const clipOpt = opts.clipLimit ?? DEFAULT_CLIP_LIMIT;
  if (!Number.isFinite(clipOpt)) throw new RangeError(`clip limit ${clipOpt} is not a finite number`);
  const [tilesX, tilesY] = tileGridSize(opts.tileGrid);

  const even = width % tilesX === 0 && height % tilesY === 0;
  const extW = even ? width : width + tilesX - (width % tilesX);
  const extH = even ? height : height + tilesY - (height % tilesY);
  const tileW = extW / tilesX;
  const tileH = extH / tilesY;
  const tileArea = tileW * tileH;
  const clipLimit = clipOpt > 0 ? Math.max(Math.trunc((clipOpt * tileArea) / HIST_SIZE), 1) : 0;

  // Everything lives in the kernels' memory, reused from call to call: the extended image (plus slack
  // for the last group's reads), the output (plus slack for its writes past the last pixel), the tile
  // histograms, the LUTs with the edge tiles repeated around them (so every pixel has four neighbours
  // at fixed strides), the per-column table of the interpolation, and the LUT value table.
  const k = claheKernels();
  const groups = Math.ceil(width / 4);
  const planeStride = (tilesX + 2) * HIST_SIZE;
  const srcOff = 0;
  const dstOff = align16(extW * extH + 16);
  const histOff = align16(dstOff + width * height + 16);
  const lutOff = histOff + tilesX * tilesY * HIST_SIZE * 4;
  const colOff = align16(lutOff + (tilesY + 2) * planeStride);
  const scaledOff = colOff + groups * 48;
  const total = scaledOff + tileArea + 1;
  const have = k.memory.buffer.byteLength;
  if (total > have) k.memory.grow(Math.ceil((total - have) / 65536));
  const buf = k.memory.buffer;
  const u8 = new Uint8Array(buf);

  // The histograms count the extended image; the interpolation reads its first `width` columns.
  if (extW === width) {
    u8.set(grey, srcOff);
  } else {
    const padCols = new Int32Array(extW - width);
    for (let i = 0; i < padCols.length; i++) padCols[i] = reflect101(width + i, width);
    for (let y = 0; y < height; y++) {
      const s = y * width;
      const d = srcOff + y * extW;
      u8.set(grey.subarray(s, s + width), d);
      for (let i = 0; i < padCols.length; i++) u8[d + width + i] = grey[s + padCols[i]];
    }
  }
  for (let y = height; y < extH; y++) {
    const from = srcOff + reflect101(y, height) * extW;
    u8.copyWithin(srcOff + y * extW, from, from + extW);
  }

  u8.fill(0, histOff, lutOff);
  for (let ty = 0; ty < tilesY; ty++) {
    k.histBand(srcOff + ty * tileH * extW, tileH, tileW, tilesX, histOff + ty * tilesX * HIST_SIZE * 4);
  }

  u8.set(lutValues(tileArea), scaledOff);
  // The kernel takes an int32; a limit that large (or none) clips nothing, as no bin can exceed it.
  const clipArg = clipLimit > 0 && clipLimit < 0x7fffffff ? clipLimit : 0x7fffffff;
  // Repeating the edge tiles around the LUTs stands in for OpenCV's clamping of tile indexes at the borders.
  for (let ty = 0; ty < tilesY; ty++) {
    const plane = lutOff + (ty + 1) * planeStride;
    k.lutBand(histOff + ty * tilesX * HIST_SIZE * 4, plane + HIST_SIZE, tilesX, clipArg, scaledOff);
    u8.copyWithin(plane, plane + HIST_SIZE, plane + 2 * HIST_SIZE);
    u8.copyWithin(plane + (tilesX + 1) * HIST_SIZE, plane + tilesX * HIST_SIZE, plane + (tilesX + 1) * HIST_SIZE);
  }
  u8.copyWithin(lutOff, lutOff + planeStride, lutOff + 2 * planeStride);
  u8.copyWithin(lutOff + (tilesY + 1) * planeStride, lutOff + tilesY * planeStride, lutOff + (tilesY + 1) * planeStride);

  // Horizontal weights and left tiles per column, as OpenCV precomputes them; the columns past the
  // width (up to the next group of four) point at valid LUT entries and their results are dropped.
  const colI32 = new Int32Array(buf, colOff, groups * 12);
  const colF32 = new Float32Array(buf, colOff, groups * 12);
  const invTw = fround(1 / tileW);
  for (let x = 0; x < groups * 4; x++) {
    const at = (x >> 2) * 12 + (x & 3);
    if (x >= width) {
      colI32[at] = 0;
      colF32[at + 4] = 0;
      colF32[at + 8] = 0;
      continue;
    }
    const txf = fround(fround(x * invTw) - 0.5);
    const tx1 = Math.floor(txf);
    const xa = fround(txf - tx1);
    // tx1 is -1 left of the first tile centre, where OpenCV's max(tx1, 0) reads the repeated first tile.
    colI32[at] = (Math.min(Math.max(tx1, -1), tilesX - 1) + 1) * HIST_SIZE;
    colF32[at + 4] = fround(1 - xa);
    colF32[at + 8] = xa;
  }

  const invTh = fround(1 / tileH);
  for (let y = 0; y < height; y++) {
    const tyf = fround(fround(y * invTh) - 0.5);
    const ty1 = Math.floor(tyf);
    const ya = fround(tyf - ty1);
    const top = lutOff + (Math.min(Math.max(ty1, -1), tilesY - 1) + 1) * planeStride;
    k.interpRow(srcOff + y * extW, dstOff + y * width, groups, colOff, top, planeStride, fround(1 - ya), ya);
  }
  return u8.slice(dstOff, dstOff + width * height);
}
