/**
 * Binary mask maths over typed arrays (row-major, one byte per pixel, nonzero = inside): connected components,
 * hole filling, bounding box, overlap scores and the probability-map resize the segmenter's output goes through.
 * Pure functions; every mask they return holds 0 and 255, the values mask PNGs store.
 */

/** An axis-aligned pixel rectangle. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function checkSize(length: number, width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || length !== width * height) {
    throw new RangeError(`${what}: ${length} values for ${width}×${height}`);
  }
}

/**
 * Labels the 8-connected components of the pixels where `inside(i)` holds (flood fill with an explicit stack).
 * @returns `labels` (0 outside, 1…n inside) and `sizes` (sizes[k] = pixels of component k; sizes[0] = 0).
 */
function label(width: number, height: number, inside: (i: number) => boolean, eight: boolean): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(width * height);
  const sizes = [0];
  const stack = new Int32Array(width * height);
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== 0 || !inside(start)) continue;
    const id = sizes.length;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    labels[start] = id;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const px = p % width;
      const py = (p - px) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const y = py + dy;
        if (y < 0 || y >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (!eight && dx !== 0 && dy !== 0)) continue;
          const x = px + dx;
          if (x < 0 || x >= width) continue;
          const q = y * width + x;
          if (labels[q] === 0 && inside(q)) {
            labels[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/**
 * 8-connected components of a mask.
 * @param mask nonzero = foreground.
 * @returns per-pixel labels (0 = background, 1…n) and each component's size (`sizes[0]` is 0).
 * @throws RangeError when the array does not hold width × height values.
 * @example const { labels, sizes } = connectedComponents(mask, 256, 256); // sizes.length − 1 components
 */
export function connectedComponents(mask: Uint8Array, width: number, height: number): { labels: Int32Array; sizes: number[] } {
  checkSize(mask.length, width, height, 'connectedComponents');
  return label(width, height, (i) => mask[i] !== 0, true);
}

/**
 * Keeps the `count` largest 8-connected components (ties: the one met first in row order).
 * @example const lungs = keepLargestComponents(raw, w, h, 2);
 */
export function keepLargestComponents(mask: Uint8Array, width: number, height: number, count = 2): Uint8Array {
  const { labels, sizes } = connectedComponents(mask, width, height);
  const keep = new Uint8Array(sizes.length);
  sizes
    .map((size, id) => ({ size, id }))
    .slice(1)
    .sort((a, b) => b.size - a.size || a.id - b.id)
    .slice(0, count)
    .forEach(({ id }) => (keep[id] = 1));
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) if (keep[labels[i]]) out[i] = 255;
  return out;
}

/**
 * Fills holes: background regions (4-connected, so a diagonal gap in the outline does not leak) that do not
 * touch the image border become foreground.
 * @example const solid = fillHoles(mask, w, h);
 */
export function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  checkSize(mask.length, width, height, 'fillHoles');
  const { labels, sizes } = label(width, height, (i) => mask[i] === 0, false);
  const open = new Uint8Array(sizes.length);
  for (let x = 0; x < width; x++) {
    open[labels[x]] = 1;
    open[labels[(height - 1) * width + x]] = 1;
  }
  for (let y = 0; y < height; y++) {
    open[labels[y * width]] = 1;
    open[labels[y * width + width - 1]] = 1;
  }
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] !== 0 || !open[labels[i]] ? 255 : 0;
  return out;
}

/**
 * Smallest box holding every foreground pixel.
 * @returns the box, or null for an empty mask.
 * @example boundingBox(mask, w, h) // { x: 10, y: 20, width: 100, height: 120 }
 */
export function boundingBox(mask: Uint8Array, width: number, height: number): Box | null {
  checkSize(mask.length, width, height, 'boundingBox');
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      if (mask[i] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function overlap(a: Uint8Array, b: Uint8Array): { both: number; sizeA: number; sizeB: number } {
  if (a.length !== b.length) throw new RangeError(`masks differ in size: ${a.length} and ${b.length} pixels`);
  let both = 0;
  let sizeA = 0;
  let sizeB = 0;
  for (let i = 0; i < a.length; i++) {
    const ia = a[i] !== 0;
    const ib = b[i] !== 0;
    if (ia) sizeA++;
    if (ib) sizeB++;
    if (ia && ib) both++;
  }
  return { both, sizeA, sizeB };
}

/**
 * Dice coefficient 2|A∩B| / (|A| + |B|); 1 when both masks are empty.
 * @throws RangeError when the masks differ in length.
 * @example dice(predicted, truth) // 0.93
 */
export function dice(a: Uint8Array, b: Uint8Array): number {
  const { both, sizeA, sizeB } = overlap(a, b);
  return sizeA + sizeB === 0 ? 1 : (2 * both) / (sizeA + sizeB);
}

/**
 * Intersection over union |A∩B| / |A∪B|; 1 when both masks are empty.
 * @throws RangeError when the masks differ in length.
 * @example iou(predicted, truth) // 0.87
 */
export function iou(a: Uint8Array, b: Uint8Array): number {
  const { both, sizeA, sizeB } = overlap(a, b);
  const union = sizeA + sizeB - both;
  return union === 0 ? 1 : both / union;
}

/**
 * Bilinear resize of a one-channel float map with pixel centres aligned (OpenCV's INTER_LINEAR, edges
 * clamped): the segmenter's probability map goes back to the image's size before thresholding, so the
 * outline is smooth at any size.
 * @example const full = resizeBilinear(prob, 128, 128, 640, 512);
 */
export function resizeBilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  checkSize(src.length, sw, sh, 'resizeBilinear');
  checkSize(dw * dh, dw, dh, 'resizeBilinear output');
  const out = new Float32Array(dw * dh);
  const sx = sw / dw;
  const sy = sh / dh;
  const x0s = new Int32Array(dw);
  const x1s = new Int32Array(dw);
  const fxs = new Float32Array(dw);
  for (let x = 0; x < dw; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x] + 1, sw - 1);
    fxs[x] = fx - x0s[x];
  }
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const r0 = Math.floor(fy) * sw;
    const r1 = Math.min(Math.floor(fy) + 1, sh - 1) * sw;
    const wy = fy - Math.floor(fy);
    for (let x = 0; x < dw; x++) {
      const top = src[r0 + x0s[x]] + (src[r0 + x1s[x]] - src[r0 + x0s[x]]) * fxs[x];
      const bottom = src[r1 + x0s[x]] + (src[r1 + x1s[x]] - src[r1 + x0s[x]]) * fxs[x];
      out[y * dw + x] = top + (bottom - top) * wy;
    }
  }
  return out;
}

/**
 * The segmenter's post-processing: probability map (any size) → image-sized 0/255 mask with the two largest
 * components kept and their holes filled.
 * @param prob lung probabilities, `pw × ph`.
 * @param threshold probability at and above which a pixel is lung (default 0.5).
 * @example const mask = lungMaskFromProbability(prob, 128, 128, image.width, image.height);
 */
export function lungMaskFromProbability(
  prob: Float32Array, pw: number, ph: number, width: number, height: number, threshold = 0.5,
): Uint8Array {
  const full = pw === width && ph === height ? prob : resizeBilinear(prob, pw, ph, width, height);
  const raw = new Uint8Array(full.length);
  for (let i = 0; i < raw.length; i++) raw[i] = full[i] >= threshold ? 255 : 0;
  return fillHoles(keepLargestComponents(raw, width, height, 2), width, height);
}
