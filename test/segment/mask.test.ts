import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundingBox, connectedComponents, dice, fillHoles, iou, keepLargestComponents, lungMaskFromProbability, resizeBilinear,
} from '../../lib/segment/mask';
import { ellipseMask } from './synth';

const W = 40;
const H = 30;
const count = (m: Uint8Array) => m.reduce((n, v) => n + (v ? 1 : 0), 0);

test('connectedComponents: 8-connected labels and sizes', () => {
  const m = new Uint8Array(W * H);
  m[0] = m[W + 1] = 1; // diagonal neighbours: one component
  m[5] = 1;
  const { labels, sizes } = connectedComponents(m, W, H);
  assert.deepEqual(sizes, [0, 2, 1]);
  assert.equal(labels[0], labels[W + 1]);
  assert.notEqual(labels[0], labels[5]);
  assert.equal(labels[2], 0);
  assert.throws(() => connectedComponents(m, W, H + 1), RangeError);
});

test('keepLargestComponents keeps the two lungs and drops specks', () => {
  const lungs = ellipseMask(W, H, [{ cx: 10, cy: 15, rx: 6, ry: 10 }, { cx: 30, cy: 15, rx: 5, ry: 9 }]);
  const noisy = lungs.slice();
  noisy[0] = noisy[W - 1] = noisy[(H - 1) * W] = 255;
  const kept = keepLargestComponents(noisy, W, H, 2);
  assert.deepEqual(kept, lungs);
  assert.equal(count(keepLargestComponents(noisy, W, H, 1)), count(ellipseMask(W, H, [{ cx: 10, cy: 15, rx: 6, ry: 10 }])));
  assert.equal(count(keepLargestComponents(new Uint8Array(W * H), W, H)), 0);
});

test('fillHoles fills enclosed background but not background open to the border', () => {
  const solid = ellipseMask(W, H, [{ cx: 20, cy: 15, rx: 12, ry: 10 }]);
  const holed = solid.slice();
  for (const [x, y] of [[20, 15], [21, 15], [20, 16], [15, 12]]) holed[y * W + x] = 0;
  assert.deepEqual(fillHoles(holed, W, H), solid);
  // A notch reaching the border stays open.
  const bay = solid.slice();
  for (let y = 0; y <= 15; y++) bay[y * W + 20] = 0;
  assert.deepEqual(fillHoles(bay, W, H), bay);
  // A ring touching the border only diagonally still encloses its hole (4-connected background).
  const ring = new Uint8Array(9);
  [0, 1, 2, 3, 5, 6, 7, 8].forEach((i) => (ring[i] = 255));
  assert.equal(fillHoles(ring, 3, 3)[4], 255);
});

test('boundingBox, dice and iou on known shapes', () => {
  const a = new Uint8Array(W * H);
  for (let y = 5; y < 15; y++) for (let x = 10; x < 20; x++) a[y * W + x] = 255;
  assert.deepEqual(boundingBox(a, W, H), { x: 10, y: 5, width: 10, height: 10 });
  assert.equal(boundingBox(new Uint8Array(W * H), W, H), null);
  const b = new Uint8Array(W * H);
  for (let y = 5; y < 15; y++) for (let x = 15; x < 25; x++) b[y * W + x] = 1;
  // |A| = |B| = 100, |A∩B| = 50.
  assert.equal(dice(a, b), 0.5);
  assert.equal(iou(a, b), 50 / 150);
  assert.equal(dice(a, a), 1);
  assert.equal(dice(new Uint8Array(4), new Uint8Array(4)), 1);
  assert.equal(iou(a, new Uint8Array(W * H)), 0);
  assert.throws(() => dice(a, new Uint8Array(3)), RangeError);
});

test('resizeBilinear matches OpenCV INTER_LINEAR on a ramp and keeps constants', () => {
  const src = Float32Array.from([0, 1, 2, 3]);
  // cv2.resize(np.float32([[0,1,2,3]]), (8,1), interpolation=cv2.INTER_LINEAR)
  assert.deepEqual([...resizeBilinear(src, 4, 1, 8, 1)], [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  assert.deepEqual([...resizeBilinear(src, 4, 1, 2, 1)], [0.5, 2.5]);
  assert.ok(resizeBilinear(new Float32Array(16).fill(0.7), 4, 4, 9, 5).every((v) => Math.abs(v - 0.7) < 1e-6));
});

test('lungMaskFromProbability: upsampled ellipses with a speck and a hole come back clean at full size', () => {
  const small = ellipseMask(32, 32, [{ cx: 9, cy: 16, rx: 5, ry: 10 }, { cx: 23, cy: 16, rx: 5, ry: 10 }]);
  const prob = Float32Array.from(small, (v) => (v ? 0.9 : 0.1));
  prob[0] = 0.99; // speck
  prob[16 * 32 + 9] = 0.2; // hole
  const truth = ellipseMask(128, 96, [{ cx: 37.5, cy: 48, rx: 20.5, ry: 31 }, { cx: 93.5, cy: 48, rx: 20.5, ry: 31 }]);
  const mask = lungMaskFromProbability(prob, 32, 32, 128, 96);
  assert.equal(mask.length, 128 * 96);
  assert.ok(mask.every((v) => v === 0 || v === 255));
  assert.equal(connectedComponents(mask, 128, 96).sizes.length - 1, 2);
  assert.equal(mask[0], 0);
  assert.ok(dice(mask, truth) > 0.95, `dice ${dice(mask, truth)}`);
});
