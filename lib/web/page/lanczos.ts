/**
 * The page's resize: sharp's `resize(w, h, { fit: 'fill', kernel: 'lanczos3' })` written out for the browser,
 * where sharp (libvips) cannot run. Reductions follow libvips 8.17's `vips_reducev` then `vips_reduceh` (what
 * `vips_resize` runs, gap 2) step for step and in its integer arithmetic: an integer block shrink with the last
 * block padded by the edge (`shrinkv`/`shrinkh` with `ceil`, fixed-point mean), then Lanczos-3 over
 * `2·rint(3·shrink) + 1` taps, the kernel sampled at 1/64-pixel positions and quantised to 12-bit weights, the
 * sum rounded to 8 bits — so a reduction gives sharp's bytes. Enlarging uses a separable Catmull-Rom cubic
 * where libvips runs its 2-D bicubic interpolator, which can differ by a grey level or two;
 * test/web/lanczos.test.ts measures both.
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

/** Catmull-Rom cubic (a = −0.5), libvips' `bicubic` interpolator, which `vips_resize` enlarges with. */
function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return (1.5 * t - 2.5) * t * t + 1;
  if (t < 2) return ((-0.5 * t + 2.5) * t - 4) * t + 2;
  return 0;
}

/** Enlarges along one axis to `outLen` samples with the cubic, pixel centres aligned, edges repeated. */
function enlargeAxis(img: Grey, vertical: boolean, outLen: number): Grey {
  const len = vertical ? img.height : img.width;
  const scale = len / outLen;
  const first = new Int32Array(outLen);
  const weights = Array.from({ length: outLen }, (_, o) => {
    const centre = (o + 0.5) * scale - 0.5;
    first[o] = Math.ceil(centre - 2);
    const w = Float64Array.from({ length: Math.floor(centre + 2) - first[o] + 1 }, (_, k) => cubic(first[o] + k - centre));
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / sum);
  });
  return alongAxis(img, vertical, outLen, (line, o) => {
    let s = 0;
    for (let k = 0; k < weights[o].length; k++) s += weights[o][k] * at(img, vertical, line, Math.min(len - 1, Math.max(0, first[o] + k)));
    return clampByte(s);
  });
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
  if (vscale > 1) img = enlargeAxis(img, true, outH);
  if (hscale > 1) img = enlargeAxis(img, false, outW);
  return img.data === src ? src.slice() : img.data;
}
