import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { addHistograms, cumulative, greyHistogram, greyStats, normaliseHistogram } from '../../lib/explore/histogram';

test('greyHistogram, normalised and cumulative', () => {
  const h = greyHistogram(Uint8Array.from([0, 0, 255, 10]));
  assert.equal(h.length, 256);
  assert.deepEqual([h[0], h[10], h[255]], [2, 1, 1]);
  assert.equal(h.reduce((a, b) => a + b, 0), 4);
  const f = normaliseHistogram(h);
  assert.deepEqual([f[0], f[10]], [0.5, 0.25]);
  const c = cumulative(h);
  assert.deepEqual([c[0], c[9], c[10], c[254], c[255]], [0.5, 0.5, 0.75, 0.75, 1]);
  assert.deepEqual(addHistograms([h, h]).slice(0, 1), [4]);
  assert.ok(normaliseHistogram(new Array(256).fill(0)).every((v) => v === 0));
});

test('greyStats: mean, population std and percentiles', () => {
  const grey = Uint8Array.from({ length: 200 }, (_, i) => (i < 100 ? 50 : 150));
  const s = greyStats(greyHistogram(grey));
  assert.equal(s.mean, 100);
  assert.equal(s.std, 50);
  assert.equal(s.p1, 50);
  assert.equal(s.p99, 150);
  assert.deepEqual(greyStats(new Array(256).fill(0)), { mean: 0, std: 0, p1: 0, p99: 0 });
});
