import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diceHistogram, maskOverlayGrid, overlayMask } from '../../lib/plots/segment';
import { ellipseMask } from './synth';

test('overlayMask: grey outside, tinted inside, outline at the edge', () => {
  const w = 20;
  const h = 16;
  const mask = ellipseMask(w, h, [{ cx: 10, cy: 8, rx: 6, ry: 5 }]);
  const grey = new Uint8Array(w * h).fill(100);
  const { data, channels } = overlayMask(grey, mask, w, h);
  assert.equal(channels, 3);
  assert.deepEqual([...data.subarray(0, 3)], [100, 100, 100]);
  const centre = (8 * w + 10) * 3;
  assert.deepEqual([...data.subarray(centre, centre + 3)], [Math.round(70 + 69), Math.round(70 + 47.7), 70]);
  const edge = (8 * w + 4) * 3;
  assert.deepEqual([...data.subarray(edge, edge + 3)], [230, 159, 0]);
  assert.throws(() => overlayMask(grey, new Uint8Array(5), w, h), RangeError);
});

test('mask figures: a grid row per group and a Dice histogram on fixed bins', async () => {
  const mask = ellipseMask(8, 8, [{ cx: 4, cy: 4, rx: 2, ry: 3 }]);
  const fig = await maskOverlayGrid('t', [{ label: 'a', images: [{ grey: new Uint8Array(64), mask, width: 8, height: 8, title: 'x' }] }]);
  assert.ok(JSON.stringify(fig).includes('data:image/png;base64,'));
  const hist = diceHistogram('Dice', [{ name: 'val', values: [0.91, 0.95] }]);
  assert.deepEqual(hist.data[0].x, [0.91, 0.95]);
  assert.equal((hist.data[0] as unknown as { xbins: { size: number } }).xbins.size, 0.02);
});
