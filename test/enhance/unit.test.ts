import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clahe } from '../../lib/enhance/clahe';
import { outputNames } from '../../lib/enhance/folder';
import { greyToRgb, rgbToGrey } from '../../lib/enhance/grey';
import { DEFAULT_ENHANCE, enhance, enhanceKey, enhanceToRgb } from '../../lib/enhance/pipeline';
import { percentileFromHistogram, whiteBalance } from '../../lib/enhance/white-balance';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** numpy's percentile ('linear') by sorting, as numpy computes it: the reference for the histogram version. */
function sortedPercentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = (sorted.length - 1) * (q / 100);
  if (index >= sorted.length - 1) return sorted[sorted.length - 1];
  const below = Math.floor(index);
  const g = index - below;
  const [a, b] = [sorted[below], sorted[below + 1]];
  return g >= 0.5 ? b - (b - a) * (1 - g) : a + (b - a) * g;
}

test('percentileFromHistogram equals the sort-based numpy formula for many sizes and percentiles', () => {
  const rand = random(7);
  for (const n of [1, 2, 3, 5, 10, 35, 100, 1000, 2001, 50176]) {
    const values = Array.from({ length: n }, () => Math.floor(rand() ** 3 * 256));
    const hist = new Float64Array(256);
    for (const v of values) hist[v]++;
    for (const q of [0, 0.05, 1, 25, 50, 73.3, 99.95, 100]) {
      assert.equal(percentileFromHistogram(hist, n, q), sortedPercentile(values, q), `n ${n} q ${q}`);
    }
  }
  assert.throws(() => percentileFromHistogram(new Float64Array(256), 0, 50), RangeError);
  assert.throws(() => percentileFromHistogram(new Float64Array(256), 1, 101), RangeError);
});

test('a 1x1 image goes through every step unchanged in size', () => {
  const rgb = new Uint8Array([200, 100, 50]);
  assert.deepEqual([...whiteBalance(rgb, 1, 1, 3)], [200, 100, 50]); // each channel has high == low
  const grey = rgbToGrey(rgb, 1, 1);
  assert.equal(grey[0], (200 * 9798 + 100 * 19235 + 50 * 3735 + 16384) >> 15);
  for (const tileGrid of [1, 16, [3, 5]] as const) {
    const out = clahe(grey, 1, 1, { clipLimit: 2, tileGrid: tileGrid as number | [number, number] });
    assert.equal(out.length, 1);
  }
  assert.equal(enhance(rgb, 1, 1).length, 1);
  assert.equal(enhanceToRgb(rgb, 1, 1).length, 3);
});

test('white balance leaves a channel with high == low unchanged and stretches the others', () => {
  const w = 40, h = 30;
  const rand = random(3);
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    rgb[i * 3] = 60 + Math.floor(rand() * 100);
    rgb[i * 3 + 1] = 77;
    rgb[i * 3 + 2] = Math.floor(rand() * 256);
  }
  const out = whiteBalance(rgb, w, h, 3);
  const channel = (a: Uint8Array, c: number) => Array.from({ length: w * h }, (_, i) => a[i * 3 + c]);
  assert.deepEqual(channel(out, 1), channel(rgb, 1));
  assert.equal(Math.min(...channel(out, 0)), 0);
  assert.equal(Math.max(...channel(out, 0)), 255);
  // Not in place.
  assert.equal(rgb[1], 77);
});

test('a constant image stays constant through white balance, grey and CLAHE', () => {
  const w = 23, h = 17;
  const rgb = new Uint8Array(w * h * 3).fill(131);
  const balanced = whiteBalance(rgb, w, h, 3);
  assert.ok(balanced.every((v) => v === 131));
  for (const tileGrid of [1, 4, 16, [3, 5]] as const) {
    const out = clahe(rgbToGrey(rgb, w, h), w, h, { tileGrid: tileGrid as number | [number, number] });
    assert.equal(new Set(out).size, 1, `grid ${tileGrid}`);
  }
});

test('CLAHE accepts grids larger than the image and uneven grids, and is deterministic', () => {
  const rand = random(11);
  for (const [w, h] of [[3, 2], [7, 5], [17, 1], [1, 19]]) {
    const grey = Uint8Array.from({ length: w * h }, () => Math.floor(rand() * 256));
    for (const tileGrid of [16, [3, 5], [20, 1], [1, 20]] as const) {
      const a = clahe(grey, w, h, { clipLimit: 4, tileGrid: tileGrid as number | [number, number] });
      const b = clahe(grey, w, h, { clipLimit: 4, tileGrid: tileGrid as number | [number, number] });
      assert.equal(a.length, w * h);
      assert.deepEqual(a, b);
    }
  }
});

test('CLAHE refuses invalid sizes, grids and clip limits with RangeError', () => {
  const grey = new Uint8Array(16);
  assert.throws(() => clahe(grey, 4, 5), RangeError);
  assert.throws(() => clahe(grey, 0, 16), RangeError);
  assert.throws(() => clahe(grey, 4, 4, { tileGrid: 0 }), RangeError);
  assert.throws(() => clahe(grey, 4, 4, { tileGrid: [2, 1.5] }), RangeError);
  assert.throws(() => clahe(grey, 4, 4, { clipLimit: NaN }), RangeError);
  assert.throws(() => whiteBalance(new Uint8Array(5), 1, 2, 3), RangeError);
  assert.throws(() => rgbToGrey(new Uint8Array(5), 1, 2), RangeError);
});

test('greyToRgb replicates each value to three channels', () => {
  assert.deepEqual([...greyToRgb(new Uint8Array([0, 9, 255]))], [0, 0, 0, 9, 9, 9, 255, 255, 255]);
});

test('enhance follows its options: no CLAHE is plain grey, no white balance skips the stretch', () => {
  const rand = random(5);
  const w = 32, h = 24;
  const rgb = Uint8Array.from({ length: w * h * 3 }, () => 50 + Math.floor(rand() * 60));
  assert.deepEqual(enhance(rgb, w, h, { whiteBalance: false, clahe: null }), rgbToGrey(rgb, w, h));
  assert.deepEqual(enhance(rgb, w, h, { whiteBalance: true, clahe: null }), rgbToGrey(whiteBalance(rgb, w, h, 3), w, h));
  assert.deepEqual(
    enhance(rgb, w, h, { whiteBalance: true, clahe: { clipLimit: 3, tileGrid: [4, 2] } }),
    clahe(rgbToGrey(whiteBalance(rgb, w, h, 3), w, h), w, h, { clipLimit: 3, tileGrid: [4, 2] }),
  );
  assert.deepEqual(enhance(rgb, w, h), enhance(rgb, w, h, DEFAULT_ENHANCE));
});

test('enhanceKey is stable and tells settings apart', () => {
  assert.equal(enhanceKey(DEFAULT_ENHANCE), 'wb1-clahe2x16x16');
  assert.equal(enhanceKey({ whiteBalance: true, clahe: { clipLimit: 2, tileGrid: [16, 16] } }), 'wb1-clahe2x16x16');
  assert.equal(enhanceKey({ whiteBalance: false, clahe: null }), 'wb0-noclahe');
  assert.notEqual(enhanceKey({ whiteBalance: true, clahe: { clipLimit: 2, tileGrid: [8, 16] } }), enhanceKey({ whiteBalance: true, clahe: { clipLimit: 2, tileGrid: [16, 8] } }));
  assert.notEqual(enhanceKey({ whiteBalance: true, clahe: { clipLimit: 2.5, tileGrid: 8 } }), enhanceKey({ whiteBalance: true, clahe: { clipLimit: 2, tileGrid: 8 } }));
});

test('folder output names mirror the inputs as .png and keep both names apart on a clash', () => {
  assert.deepEqual(outputNames(['covid/a.jpg', 'covid/a.png', 'normal/b.jpeg', 'viral/c.PNG']), [
    'covid/a.jpg.png',
    'covid/a.png.png',
    'normal/b.png',
    'viral/c.png',
  ]);
});
