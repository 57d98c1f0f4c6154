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
 * float32 steps use Math.fround (a float64 product or sum of two float32 values rounded once to float32
 * is exactly the float32 operation); Uint8ClampedArray stores round half to even and saturate, which is
 * OpenCV's saturate_cast<uchar>(float). The interpolation computes in float64 first and only replays
 * OpenCV's float32 steps for the rare pixels whose value lies near a rounding boundary (see
 * ROUNDING_MARGIN); the goldens and fresh random cases check the result against OpenCV itself.
 */

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
/**
 * OpenCV's float32 interpolation rounds nine times, each time by at most half an ulp of a value below
 * 256 (2^-17); the six roundings inside the two horizontal sums are then scaled by weights summing to
 * about 1, so the float32 result is within 6 · 2^-17 < 2^-14 of the exact one. A float64 result further
 * than this margin (16 times that) from a .5 boundary therefore rounds to the same integer.
 */
const ROUNDING_MARGIN = 1 / 1024;

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

// Scratch buffers reused between calls so a batch of images allocates nothing per image but the result.
let histScratch = new Int32Array(0);
let lutScratch = new Uint8Array(0);

/**
 * Tile histograms of the image extended to `tileW·tilesX` × `tileH·tilesY` (reflect-101 beyond the
 * image), laid out as `hist[(ty * tilesX + tx) * 256 + value]`, counted row by row, tile by tile.
 */
function tileHistograms(
  src: Uint8Array, width: number, height: number,
  tileW: number, tileH: number, tilesX: number, tilesY: number,
): Int32Array {
  const size = tilesX * tilesY * HIST_SIZE;
  if (histScratch.length < size) histScratch = new Int32Array(size);
  const hist = histScratch.subarray(0, size);
  hist.fill(0);
  const extW = tileW * tilesX;
  const extH = tileH * tilesY;
  // Columns past the right edge, mapped back into the image (empty when the width needs no padding).
  const padCols = new Int32Array(extW - Math.min(width, extW));
  for (let i = 0; i < padCols.length; i++) padCols[i] = reflect101(width + i, width);
  for (let y = 0; y < extH; y++) {
    const rowOff = reflect101(y, height) * width;
    const planeOff = Math.floor(y / tileH) * tilesX * HIST_SIZE;
    for (let tx = 0; tx < tilesX; tx++) {
      const off = planeOff + tx * HIST_SIZE;
      const x0 = tx * tileW;
      const inside = Math.min(x0 + tileW, width);
      for (let i = rowOff + x0, end = rowOff + inside; i < end; i++) hist[off + src[i]]++;
      for (let x = Math.max(x0, width); x < x0 + tileW; x++) hist[off + src[rowOff + padCols[x - width]]]++;
    }
  }
  return hist;
}

/**
 * Clips one tile histogram (at `off`), spreads the excess as OpenCV does, and writes its LUT.
 * `scaled[sum]` is the LUT value of a cumulative count (the sums never exceed the tile area).
 */
function tileLut(hist: Int32Array, off: number, clipLimit: number, scaled: Uint8Array, lut: Uint8Array): void {
  let batch = 0;
  let residual = 0;
  let step = HIST_SIZE;
  if (clipLimit > 0) {
    let clipped = 0;
    for (let i = off, end = off + HIST_SIZE; i < end; i++) {
      const h = hist[i];
      if (h > clipLimit) {
        clipped += h - clipLimit;
        hist[i] = clipLimit;
      }
    }
    batch = Math.trunc(clipped / HIST_SIZE);
    residual = clipped - batch * HIST_SIZE;
    if (residual !== 0) step = Math.max(Math.trunc(HIST_SIZE / residual), 1);
  }
  // Cumulative sum with the even share added to every bin and one more pixel to bins 0, step, 2·step…
  // for the first `residual` of them.
  let sum = 0;
  let nextResidual = residual > 0 ? 0 : HIST_SIZE;
  for (let i = 0; i < HIST_SIZE; i++) {
    sum += hist[off + i] + batch;
    if (i === nextResidual) {
      sum++;
      residual--;
      nextResidual = residual > 0 ? i + step : HIST_SIZE;
    }
    lut[off + i] = scaled[sum];
  }
}

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
  const lutScale = fround(fround(HIST_SIZE - 1) / tileArea);
  const clipLimit = clipOpt > 0 ? Math.max(Math.trunc((clipOpt * tileArea) / HIST_SIZE), 1) : 0;

  const hist = tileHistograms(grey, width, height, tileW, tileH, tilesX, tilesY);
  const lutSize = tilesX * tilesY * HIST_SIZE;
  if (lutScratch.length < lutSize) lutScratch = new Uint8Array(lutSize);
  const lut = lutScratch;
  // OpenCV's LUT entry saturate_cast<uchar>(sum * lutScale) in float32, tabulated once per call.
  const scaled = new Uint8Array(tileArea + 1);
  const scaledClamped = new Uint8ClampedArray(scaled.buffer);
  for (let sum = 0; sum <= tileArea; sum++) scaledClamped[sum] = fround(sum * lutScale);
  for (let t = 0; t < tilesX * tilesY; t++) tileLut(hist, t * HIST_SIZE, clipLimit, scaled, lut);

  // Horizontal weights per column, as OpenCV precomputes them, and the runs of columns that share the
  // same pair of tiles (so the inner loop reads four fixed LUT rows).
  const invTw = fround(1 / tileW);
  const xa = new Float64Array(width);
  const xa1 = new Float64Array(width);
  const runStart: number[] = [];
  const runLeft: number[] = [];
  const runRight: number[] = [];
  for (let x = 0; x < width; x++) {
    const txf = fround(fround(x * invTw) - 0.5);
    const tx1 = Math.floor(txf);
    xa[x] = fround(txf - tx1);
    xa1[x] = fround(1 - xa[x]);
    const left = Math.max(tx1, 0) * HIST_SIZE;
    const right = Math.min(tx1 + 1, tilesX - 1) * HIST_SIZE;
    const last = runStart.length - 1;
    if (last < 0 || runLeft[last] !== left || runRight[last] !== right) {
      runStart.push(x);
      runLeft.push(left);
      runRight.push(right);
    }
  }
  runStart.push(width);

  const out = new Uint8Array(width * height);
  const outClamped = new Uint8ClampedArray(out.buffer);
  const invTh = fround(1 / tileH);
  const planeSize = tilesX * HIST_SIZE;
  for (let y = 0; y < height; y++) {
    const tyf = fround(fround(y * invTh) - 0.5);
    const ty1 = Math.floor(tyf);
    const ya = fround(tyf - ty1);
    const ya1 = fround(1 - ya);
    const plane1 = Math.max(ty1, 0) * planeSize;
    const plane2 = Math.min(ty1 + 1, tilesY - 1) * planeSize;
    const row = y * width;
    for (let r = 0; r < runLeft.length; r++) {
      const topLeft = plane1 + runLeft[r];
      const topRight = plane1 + runRight[r];
      const bottomLeft = plane2 + runLeft[r];
      const bottomRight = plane2 + runRight[r];
      const end = runStart[r + 1];
      for (let x = runStart[r]; x < end; x++) {
        const v = grey[row + x];
        const w1 = xa1[x];
        const w2 = xa[x];
        const l11 = lut[topLeft + v];
        const l12 = lut[topRight + v];
        const l21 = lut[bottomLeft + v];
        const l22 = lut[bottomRight + v];
        // The same sum in float64 lies within 2^-13 of OpenCV's float32 result, so unless it is that close
        // to a rounding boundary both round to the same integer; near one, redo it step by step in float32.
        const shifted = (l11 * w1 + l12 * w2) * ya1 + (l21 * w1 + l22 * w2) * ya + 0.5;
        const rounded = shifted | 0;
        const frac = shifted - rounded;
        if (frac > ROUNDING_MARGIN && frac < 1 - ROUNDING_MARGIN) {
          outClamped[row + x] = rounded;
        } else {
          const top = fround(fround(l11 * w1) + fround(l12 * w2));
          const bottom = fround(fround(l21 * w1) + fround(l22 * w2));
          outClamped[row + x] = fround(fround(top * ya1) + fround(bottom * ya));
        }
      }
    }
  }
  return out;
}
