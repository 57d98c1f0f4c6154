/**
 * The study's white balance: per channel, stretch the 0.05th..99.95th percentile range to 0..255.
 *
 * Bit-exact with the study's numpy code
 *   low, high = np.percentile(ch, 0.05), np.percentile(ch, 99.95)
 *   out = np.clip((ch - low) * 255 / (high - low), 0, 255).astype(np.uint8)
 * but without numpy's sort: the order statistics of 8-bit data come from a 256-bin histogram, and the
 * float64 arithmetic follows numpy step by step so every rounding matches.
 */

/** The percentiles the study clipped at (low, high). */
export const WHITE_BALANCE_PERCENTILES: readonly [number, number] = [0.05, 99.95];

/** Value of the order statistic `k` (0-based) of the data summarised by `hist`. */
function orderStatistic(hist: ArrayLike<number>, k: number): number {
  let seen = 0;
  for (let v = 0; v < hist.length; v++) {
    seen += hist[v];
    if (seen > k) return v;
  }
  throw new RangeError(`order statistic ${k} is beyond the ${seen} counted values`);
}

/**
 * numpy `percentile(data, q)` with the default 'linear' method, for integer data given as a histogram
 * (`hist[v]` = how many values equal `v`, `n` = their total). Returns the same float64 numpy returns.
 *
 * numpy: virtual index `(n - 1) * (q / 100)`, neighbours `floor` and `floor + 1` (the last value when the
 * index reaches n - 1), gamma = index - floor, then `_lerp`, which computes `a + (b - a) * g` below
 * g = 0.5 and `b - (b - a) * (1 - g)` from 0.5 up, so the result is monotone and exact at both ends.
 */
export function percentileFromHistogram(hist: ArrayLike<number>, n: number, q: number): number {
  if (!(n >= 1)) throw new RangeError('percentile of an empty set');
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile ${q} is outside [0, 100]`);
  const index = (n - 1) * (q / 100);
  if (index >= n - 1) return orderStatistic(hist, n - 1);
  const below = Math.floor(index);
  const gamma = index - below;
  const a = orderStatistic(hist, below);
  const b = orderStatistic(hist, below + 1);
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

function checkImage(pixels: Uint8Array, width: number, height: number, channels: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size ${width}x${height} is not a positive integer size`);
  }
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`channel count ${channels} is invalid`);
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`expected ${width * height * channels} values for ${width}x${height}x${channels}, got ${pixels.length}`);
  }
}

/** Per-channel histograms of an interleaved image, `hist[c * 256 + value]`. */
function channelHistograms(pixels: Uint8Array, channels: number): Int32Array {
  const hist = new Int32Array(channels * 256);
  if (channels === 3) {
    // The usual case, unrolled: one pass, three independent counters.
    for (let i = 0; i < pixels.length; i += 3) {
      hist[pixels[i]]++;
      hist[256 + pixels[i + 1]]++;
      hist[512 + pixels[i + 2]]++;
    }
  } else {
    for (let i = 0, c = 0; i < pixels.length; i++, c = c + 1 === channels ? 0 : c + 1) hist[c * 256 + pixels[i]]++;
  }
  return hist;
}

/**
 * The white balance of each channel as a 256-entry lookup table (value in -> value out): what
 * `whiteBalance` applies, exposed so later steps (grey conversion) can fold it into their own pass.
 * A channel whose low and high percentiles are equal (for example a constant one) gets the identity.
 */
export function whiteBalanceLuts(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array[] {
  checkImage(pixels, width, height, channels);
  const n = width * height;
  const hist = channelHistograms(pixels, channels);
  const [qLow, qHigh] = WHITE_BALANCE_PERCENTILES;
  const luts: Uint8Array[] = [];
  for (let c = 0; c < channels; c++) {
    const h = hist.subarray(c * 256, c * 256 + 256);
    const low = percentileFromHistogram(h, n, qLow);
    const high = percentileFromHistogram(h, n, qHigh);
    const lut = new Uint8Array(256);
    const range = high - low;
    for (let v = 0; v < 256; v++) {
      if (range === 0) {
        lut[v] = v;
        continue;
      }
      // Same operation order as numpy's `(ch - low) * 255 / (high - low)`, all in float64.
      const scaled = ((v - low) * 255) / range;
      lut[v] = scaled <= 0 ? 0 : scaled >= 255 ? 255 : Math.floor(scaled);
    }
    luts.push(lut);
  }
  return luts;
}

/**
 * White balance of an interleaved 8-bit image (`channels` values per pixel, any count). Each channel is
 * stretched independently; a channel whose low and high percentiles are equal is copied unchanged
 * instead of dividing by zero (the study's code would have produced NaN there). Returns a new array.
 */
export function whiteBalance(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const luts = whiteBalanceLuts(pixels, width, height, channels);
  const out = new Uint8Array(pixels.length);
  for (let c = 0; c < channels; c++) {
    const lut = luts[c];
    for (let i = c; i < pixels.length; i += channels) out[i] = lut[pixels[i]];
  }
  return out;
}
