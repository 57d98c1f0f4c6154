import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyLungs, cropGrey, lungBox } from '../../lib/segment/lungs';
import { augmentPair, drawSegmentAugment, warp } from '../../lib/segment/augment';
import { splitByPatient, standardise } from '../../lib/segment/data';
import { mulberry32 } from '../../lib/random';
import { ellipseMask } from './synth';

const W = 50;
const H = 40;
const lungs = ellipseMask(W, H, [{ cx: 15, cy: 20, rx: 5, ry: 10 }, { cx: 35, cy: 20, rx: 5, ry: 10 }]);

test('lungBox: the box with a margin, clipped; the whole image for an empty mask', () => {
  assert.deepEqual(lungBox(lungs, W, H, 0), { x: 10, y: 10, width: 31, height: 21 });
  // 10 % of 31 → 3 px each side; 10 % of 21 → 2 px.
  assert.deepEqual(lungBox(lungs, W, H, 0.1), { x: 7, y: 8, width: 37, height: 25 });
  assert.deepEqual(lungBox(lungs, W, H, 1), { x: 0, y: 0, width: W, height: H });
  assert.deepEqual(lungBox(new Uint8Array(W * H), W, H, 0.1), { x: 0, y: 0, width: W, height: H });
  assert.throws(() => lungBox(lungs, W, H, -1), RangeError);
});

test('applyLungs crops to the box or zeroes outside the mask', () => {
  const grey = Uint8Array.from({ length: W * H }, (_, i) => (i % 200) + 1);
  const crop = applyLungs(grey, W, H, lungs, 'crop', 0);
  assert.deepEqual([crop.width, crop.height], [31, 21]);
  assert.equal(crop.data[0], grey[10 * W + 10]);
  assert.equal(crop.data[crop.data.length - 1], grey[30 * W + 40]);
  const masked = applyLungs(grey, W, H, lungs, 'mask');
  assert.deepEqual([masked.width, masked.height], [W, H]);
  for (let i = 0; i < grey.length; i++) assert.equal(masked.data[i], lungs[i] ? grey[i] : 0);
  assert.throws(() => applyLungs(grey, W, H, new Uint8Array(3), 'mask'), RangeError);
  assert.throws(() => cropGrey(grey, W, H, { x: 45, y: 0, width: 10, height: 5 }), RangeError);
});

test('augmentation moves the image and its mask together', () => {
  const size = 32;
  const mask = Float32Array.from(ellipseMask(size, size, [{ cx: 16, cy: 16, rx: 6, ry: 10 }]), (v) => v / 255);
  const grey = Float32Array.from(mask, (m) => (m ? 50 : 200));
  const identity = { angle: 0, scale: 1, dx: 0, dy: 0, brightness: 0, contrast: 1, gamma: 1 };
  assert.deepEqual(warp(mask, size, identity), mask);
  // A quarter turn maps the tall ellipse onto a wide one.
  const turned = warp(mask, size, { ...identity, angle: Math.PI / 2 });
  assert.equal(turned[16 * size + 16 + 8], 1);
  assert.equal(turned[(16 + 8) * size + 16], 0);
  const random = mulberry32(3);
  for (let k = 0; k < 5; k++) {
    const a = augmentPair(grey, mask, size, drawSegmentAugment(random));
    // Where the warped mask is sure, the image is a lung or body value after the same move.
    for (let i = 0; i < size * size; i++) if (a.mask[i] > 0.99) assert.ok(a.grey[i] < 150, `pixel ${i}: ${a.grey[i]}`);
  }
});

test('standardise gives zero mean and unit deviation, finite for a blank image', () => {
  const x = standardise(Uint8Array.from([0, 50, 100, 150, 200, 250]));
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
  assert.ok(Math.abs(mean) < 1e-6 && Math.abs(sd - 1) < 1e-5);
  assert.ok(standardise(new Uint8Array(9).fill(7)).every((v) => v === 0));
});

test('splitByPatient keeps each patient on one side and is order-independent', () => {
  const entries = Array.from({ length: 30 }, (_, i) => ({ image: `i${i}`, mask: `m${i}`, patientId: `p${i % 11}` }));
  const s = splitByPatient(entries, 0.2, 7);
  assert.equal(s.train.length + s.val.length, 30);
  assert.ok(s.val.length >= 6);
  const valPatients = new Set(s.val.map((e) => e.patientId));
  assert.ok(s.train.every((e) => !valPatients.has(e.patientId)));
  assert.deepEqual(splitByPatient([...entries].reverse(), 0.2, 7), s);
  assert.notDeepEqual(splitByPatient(entries, 0.2, 8).val, s.val);
});
