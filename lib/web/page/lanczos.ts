/**
 * The page's resize: sharp's `resize(w, h, { fit: 'fill', kernel: 'lanczos3' })` written out for the browser,
 * where sharp (libvips) cannot run, following libvips 8.17's `vips_resize` step for step and in its integer
 * arithmetic, so that the page sees sharp's bytes. Reducing: `vips_reducev` then `vips_reduceh` (gap 2) — an
 * integer block shrink with the last block padded by the edge (`shrinkv`/`shrinkh` with `ceil`, fixed-point
 * mean), then Lanczos-3 over `2·rint(3·shrink) + 1` taps, the kernel sampled at 1/64-pixel positions and quantised
 * to 12-bit weights, the sum rounded to 8 bits. Enlarging: `vips_affine` with the bicubic interpolator (Catmull-Rom,
 * the same 1/64-pixel tables, rows then columns rounded in fixed point). test/web/lanczos.test.ts checks it byte for
 * byte against sharp.
 */

/** libvips' VIPS_TRANSFORM_SCALE (kernel positions per pixel) and VIPS_INTERPOLATE_SHIFT (weight bits). */
const TRANSFORM_SCALE = 64;
const INTERPOLATE_SHIFT = 12;
const INTERPOLATE_SCALE = 1 << INTERPOLATE_SHIFT;

/** An 8-bit grey image. */
interface Grey {
  data: Uint8Array;
  width: number;
  height: number;
}

/** C's rint (ties to even). */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos3(x: number): number {
  return x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0;
}

/** Reads sample `i` of line `line` along one axis (vertical: a column, horizontal: a row). */
const at = (img: Grey, vertical: boolean, line: number, i: number) => img.data[vertical ? i * img.width + line : line * img.width + i];

/** A new image of the same extent across the axis and `len` samples along it, filled line by line. */
function alongAxis(img: Grey, vertical: boolean, len: number, fill: (line: number, o: number) => number): Grey {
  const width = vertical ? img.width : len;
  const height = vertical ? len : img.height;
  const data = new Uint8Array(width * height);
  const lines = vertical ? img.width : img.height;
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < len; o++) data[vertical ? o * width + line : line * width + o] = fill(line, o);
  }
  return { data, width, height };
}

/** libvips' shrinkv/shrinkh with `ceil`: means of `factor` samples, the last block padded with the edge sample. */
function blockShrink(img: Grey, vertical: boolean, factor: number): Grey {
  const len = vertical ? img.height : img.width;
  const amend = Math.floor(factor / 2);
  const multiplier = Math.floor(2 ** 32 / (256 * factor));
  return alongAxis(img, vertical, Math.ceil(len / factor), (line, o) => {
    let sum = amend;
    for (let k = 0; k < factor; k++) sum += at(img, vertical, line, Math.min(len - 1, o * factor + k));
    return Math.floor((sum * multiplier) / 2 ** 24);
  });
}

/** libvips' `vips_reduce_make_mask` for Lanczos-3 at sub-pixel position `x`, quantised as its uchar path uses it. */
function reduceMask(points: number, shrink: number, x: number): Int16Array {
  const half = x + points / 2 - 1;
  const c = new Float64Array(points);
  let sum = 0;
  for (let i = 0; i < points; i++) sum += c[i] = lanczos3((i - half) / shrink);
  return Int16Array.from(c, (v) => Math.trunc((v / sum) * INTERPOLATE_SCALE));
}

/**
 * libvips' `vips_reducev` (vertical) or `vips_reduceh` by `shrink` (> 1) with the Lanczos-3 kernel and gap 2.
 * @returns the image with `round(len / shrink)` samples along the axis.
 */
function reduceAxis(src: Grey, vertical: boolean, shrink: number): Grey {
  const inLen = vertical ? src.height : src.width;
  const outLen = Math.floor(inLen / shrink + 0.5);
  let extra = outLen * shrink - inLen;
  let residual = shrink;
  let img = src;
  const factor = Math.max(1, Math.floor(inLen / outLen / 2));
  if (factor > 1) {
    img = blockShrink(img, vertical, factor);
    residual /= factor;
    extra /= factor;
  }
  if (residual === 1) return img;
  const len = vertical ? img.height : img.width;
  const points = 2 * rint(3 * residual) + 1;
  const offset = (1 + extra) / 2 - 1;
  const masks = Array.from({ length: TRANSFORM_SCALE + 1 }, (_, t) => reduceMask(points, residual, t / TRANSFORM_SCALE));
  // libvips pads by ceil(points / 2) − 1 edge copies before the first sample.
  const pad = Math.ceil(points / 2) - 1;
  const starts = new Int32Array(outLen);
  const phase = new Int32Array(outLen);
  for (let o = 0, pos = 0.5 * residual - 0.5 - offset; o < outLen; o++, pos += residual) {
    starts[o] = Math.trunc(pos) - pad;
    phase[o] = ((Math.trunc(pos * TRANSFORM_SCALE * 2) & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1;
  }
  return alongAxis(img, vertical, outLen, (line, o) => {
    const mask = masks[phase[o]];
    let sum = 0;
    for (let i = 0; i < points; i++) sum += mask[i] * at(img, vertical, line, Math.min(len - 1, Math.max(0, starts[o] + i)));
    return clampByte((sum + (INTERPOLATE_SCALE >> 1)) >> INTERPOLATE_SHIFT);
  });
}

/** libvips' `calculate_coefficients_catmull`: the four Catmull-Rom weights at sub-pixel position `x`, in its operation order. */
function catmull(x: number): number[] {
  const cr1 = 1 - x;
  const cr2 = -0.5 * x;
  const cr3 = cr1 * cr2;
  const cone = cr1 * cr3;
  const cfou = x * cr3;
  const cr4 = cfou - cone;
  return [cone, cr1 - cone + cr4, x - cfou - cr4, cfou];
}

/** libvips' bicubic interpolator's fixed-point tables (weights × 4096, truncated), one per 1/64 pixel. */
const BICUBIC = Array.from({ length: TRANSFORM_SCALE + 1 }, (_, t) => Int32Array.from(catmull(t / TRANSFORM_SCALE), (v) => Math.trunc(v * INTERPOLATE_SCALE)));

const fixedRound = (v: number) => (v + (INTERPOLATE_SCALE >> 1)) >> INTERPOLATE_SHIFT;

/**
 * One axis of libvips' affine sampling: per output index, the first of 4 input taps (clamped later) and the table.
 * @param ia the inverse matrix's entry for this axis, as vips__transform_calc_inverse computes it
 */
function affineAxis(ia: number, outLen: number): { first: Int32Array; table: Int32Array[] } {
  // The input displacement (idx 0.5, less the 1-pixel border vips_affine adds) and the bicubic's window offset 1:
  // input position x · ia − 0.5, in a space 2 pixels in.
  const first = new Int32Array(outLen);
  const table: Int32Array[] = [];
  for (let o = 0; o < outLen; o++) {
    const pos = ia * o + 0.5 + 1;
    first[o] = Math.trunc(pos) - 1 - 2;
    table.push(BICUBIC[((Math.trunc(pos * TRANSFORM_SCALE * 2) & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1]);
  }
  return { first, table };
}

/**
 * libvips' `vips_affine` by `hscale × vscale` (each ≥ 1) with its bicubic interpolator, as `vips_resize` enlarges:
 * output pixel x samples input x / scale − 0.5 (so an axis with scale 1 is sampled half-way between pixels, as
 * libvips does when only the other axis is enlarged), edges repeated, rows then columns rounded in fixed point.
 */
function enlarge(img: Grey, hscale: number, vscale: number): Grey {
  const width = Math.round(hscale * img.width);
  const height = Math.round(vscale * img.height);
  const det = 1 / (hscale * vscale);
  const h = affineAxis(det * vscale, width);
  const v = affineAxis(det * hscale, height);
  const px = (x: number, y: number) => img.data[Math.min(img.height - 1, Math.max(0, y)) * img.width + Math.min(img.width - 1, Math.max(0, x))];
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const cy = v.table[y];
    for (let x = 0; x < width; x++) {
      const cx = h.table[x];
      let sum = 0;
      for (let k = 0; k < 4; k++) {
        const yy = v.first[y] + k;
        const x0 = h.first[x];
        sum += cy[k] * fixedRound(cx[0] * px(x0, yy) + cx[1] * px(x0 + 1, yy) + cx[2] * px(x0 + 2, yy) + cx[3] * px(x0 + 3, yy));
      }
      data[y * width + x] = clampByte(fixedRound(sum));
    }
  }
  return { data, width, height };
}

const clampByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * Resizes an 8-bit grey image to `outW × outH`, aspect ratio ignored (sharp's `fit: 'fill'`): reductions as
 * libvips runs them (vertical, then horizontal), then enlargements.
 * @throws RangeError when `src` does not hold `width × height` values or a size is not a positive integer
 * @example resizeGreyLanczos3(grey, 640, 480, 160, 160)
 */
export function resizeGreyLanczos3(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (src.length !== width * height) throw new RangeError(`resizeGreyLanczos3: ${src.length} values for ${width}×${height}`);
  for (const v of [width, height, outW, outH]) if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`resizeGreyLanczos3: size ${v} is not a positive integer`);
  // sharp asks vips_resize for scale 1 / (in / out), and vips_reduce{v,h} for 1 / scale: the same doubles here.
  const hscale = 1 / (width / outW);
  const vscale = 1 / (height / outH);
  let img: Grey = { data: src, width, height };
  if (vscale < 1) img = reduceAxis(img, true, 1 / vscale);
  if (hscale < 1) img = reduceAxis(img, false, 1 / hscale);
  if (hscale > 1 || vscale > 1) img = enlarge(img, Math.max(1, hscale), Math.max(1, vscale));
  return img.data === src ? src.slice() : img.data;
}
