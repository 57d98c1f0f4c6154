/**
 * The page's resize: sharp's `resize(w, h, { fit: 'fill', kernel: 'lanczos3' })` written out for the browser,
 * where sharp (libvips) cannot run. It follows libvips' `vips_resize` (gap 2): an integer box shrink while the
 * image is more than twice the target, then a separable Lanczos-3 pass (vertical, rounded to 8 bits, then
 * horizontal) whose kernel widens with the remaining shrink, pixel centres aligned, edges repeated; enlarging
 * uses the bicubic interpolator as `vips_resize` does. libvips
 * quantises its kernel positions and weights to fixed point, so values can differ by a grey level from sharp's;
 * test/web/lanczos.test.ts measures how much.
 */

const LANCZOS_A = 3;

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -LANCZOS_A || x >= LANCZOS_A) return 0;
  const px = Math.PI * x;
  return (LANCZOS_A * Math.sin(px) * Math.sin(px / LANCZOS_A)) / (px * px);
}

/** Box average by an integer factor along one axis (libvips `shrink`: rounded mean, trailing partial block dropped). */
function boxShrink(src: Uint8Array, width: number, height: number, fx: number, fy: number): { data: Uint8Array; width: number; height: number } {
  const w = Math.max(1, Math.floor(width / fx));
  const h = Math.max(1, Math.floor(height / fy));
  const out = new Uint8Array(w * h);
  const n = fx * fy;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < fy; dy++) {
        const row = Math.min(height - 1, y * fy + dy) * width;
        for (let dx = 0; dx < fx; dx++) s += src[row + Math.min(width - 1, x * fx + dx)];
      }
      out[y * w + x] = Math.floor((s + n / 2) / n);
    }
  }
  return { data: out, width: w, height: h };
}

/** Catmull-Rom cubic (a = −0.5), libvips' `bicubic` interpolator, which `vips_resize` enlarges with. */
function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return (1.5 * t - 2.5) * t * t + 1;
  if (t < 2) return ((-0.5 * t + 2.5) * t - 4) * t + 2;
  return 0;
}

/**
 * Per output position: first input index and normalised weights of the taps — Lanczos-3 widened by the shrink
 * when reducing, the cubic when enlarging.
 */
function taps(inSize: number, outSize: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const stretch = Math.max(1, scale);
  const kernel = scale < 1 ? cubic : lanczos;
  const support = (scale < 1 ? 2 : LANCZOS_A) * stretch;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const first = Math.ceil(centre - support);
    const last = Math.floor(centre + support);
    const w = new Float64Array(last - first + 1);
    let sum = 0;
    for (let i = first; i <= last; i++) sum += w[i - first] = kernel((i - centre) / stretch);
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    start[o] = first;
    weights.push(w);
  }
  return { start, weights };
}

const clampByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * Resizes an 8-bit grey image to `outW × outH`, aspect ratio ignored (sharp's `fit: 'fill'`).
 * @throws RangeError when `src` does not hold `width × height` values or a size is not a positive integer
 * @example resizeGreyLanczos3(grey, 640, 480, 160, 160)
 */
export function resizeGreyLanczos3(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (src.length !== width * height) throw new RangeError(`resizeGreyLanczos3: ${src.length} values for ${width}×${height}`);
  for (const v of [width, height, outW, outH]) if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`resizeGreyLanczos3: size ${v} is not a positive integer`);
  // vips_resize's gap: box-shrink by the integer part of (scale / 2), so Lanczos works on at most a 2–4× reduction.
  const fx = Math.max(1, Math.floor(width / outW / 2));
  const fy = Math.max(1, Math.floor(height / outH / 2));
  let img = { data: src, width, height };
  if (fx > 1 || fy > 1) img = boxShrink(src, width, height, fx, fy);
  const { data, width: w, height: h } = img;
  const v = taps(h, outH);
  const mid = new Uint8Array(w * outH);
  for (let y = 0; y < outH; y++) {
    const wt = v.weights[y];
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = 0; k < wt.length; k++) s += wt[k] * data[Math.min(h - 1, Math.max(0, v.start[y] + k)) * w + x];
      mid[y * w + x] = clampByte(s);
    }
  }
  const hz = taps(w, outW);
  const out = new Uint8Array(outW * outH);
  for (let x = 0; x < outW; x++) {
    const wt = hz.weights[x];
    for (let y = 0; y < outH; y++) {
      let s = 0;
      const row = y * w;
      for (let k = 0; k < wt.length; k++) s += wt[k] * mid[row + Math.min(w - 1, Math.max(0, hz.start[x] + k))];
      out[y * outW + x] = clampByte(s);
    }
  }
  return out;
}
