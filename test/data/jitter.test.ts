import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadTrainingImage } from '../../lib/data/input/images';
import { drawJitter, jitterImage, XRAY_JITTER, type JitterParams } from '../../lib/data/input/jitter';
import { cropBorder, normaliseFormat } from '../../lib/data/input/normalise';
import { Rng } from '../../lib/random';
import { patternImage, writeTree } from './synth';

const IDENTITY: JitterParams = { side: 1, dx: 0, dy: 0, angle: 0, brightness: 0, contrast: 1, gamma: 1 };

function ramp(w: number, h: number, channels = 1): Float32Array {
  return Float32Array.from({ length: w * h * channels }, (_, i) => (Math.floor(i / channels) % w) * 10 + Math.floor(i / channels / w) * 3);
}

test('jitterImage: identity params give the input back', () => {
  const img = ramp(9, 7, 2);
  const out = jitterImage(img, 9, 7, 2, IDENTITY);
  for (let i = 0; i < img.length; i++) assert.ok(Math.abs(out[i] - img[i]) < 1e-3, `${i}: ${out[i]} vs ${img[i]}`);
});

test('jitterImage: a centred half-side crop zooms in about the centre; a shift moves the crop', () => {
  const w = 21;
  const img = ramp(w, w);
  const zoom = jitterImage(img, w, w, 1, { ...IDENTITY, side: 0.5 });
  const c = 10 * w + 10;
  assert.ok(Math.abs(zoom[c] - img[c]) < 1e-3, 'centre stays');
  // One output step is half an input step: the horizontal gradient halves.
  assert.ok(Math.abs(zoom[c + 1] - zoom[c] - 5) < 1e-3);
  const shifted = jitterImage(img, w, w, 1, { ...IDENTITY, side: 0.5, dx: 0.2 });
  assert.ok(shifted[c] > zoom[c] + 30, 'crop centre moved right');
});

test('jitterImage: brightness, contrast and gamma act on grey levels', () => {
  const img = Float32Array.from([0, 64, 128, 191, 255]);
  const bright = jitterImage(img, 5, 1, 1, { ...IDENTITY, brightness: 0.1 });
  assert.ok(Math.abs(bright[2] - (128 + 25.5)) < 0.2);
  assert.equal(bright[4], 255, 'clamped');
  const flat = jitterImage(img, 5, 1, 1, { ...IDENTITY, contrast: 0.5 });
  assert.ok(flat[0] > 60 && flat[4] < 195 && Math.abs(flat[2] - 128) < 1);
  const gamma = jitterImage(img, 5, 1, 1, { ...IDENTITY, gamma: 0.8 });
  assert.ok(gamma[1] > 64 && gamma[3] > 191, 'gamma < 1 lifts the mid-tones');
  assert.ok(Math.abs(gamma[0]) < 1e-6 && Math.abs(gamma[4] - 255) < 1e-3, 'black and white stay');
});

test('drawJitter: within the configured ranges, the same for the same stream', () => {
  for (let i = 0; i < 200; i++) {
    const p = drawJitter(new Rng(7, 'j', i), XRAY_JITTER);
    assert.ok(p.side >= Math.sqrt(0.8) - 1e-12 && p.side <= 1);
    assert.ok(Math.abs(p.dx) <= (1 - p.side) / 2 + 1e-12 && Math.abs(p.dy) <= (1 - p.side) / 2 + 1e-12);
    assert.ok(Math.abs(p.angle) <= (10 * Math.PI) / 180 + 1e-12);
    assert.ok(Math.abs(p.brightness) <= 0.1 && Math.abs(p.contrast - 1) <= 0.1 && Math.abs(p.gamma - 1) <= 0.15);
  }
  assert.deepEqual(drawJitter(new Rng(1, 'x'), XRAY_JITTER), drawJitter(new Rng(1, 'x'), XRAY_JITTER));
  assert.throws(() => drawJitter(new Rng(1), { ...XRAY_JITTER, area: [0, 1] }), RangeError);
});

test('cropBorder: takes the same fraction off every side', () => {
  const data = Uint8Array.from({ length: 10 * 20 * 3 }, (_, i) => i % 251);
  const out = cropBorder({ data, width: 20, height: 10 }, 0.1);
  assert.equal(out.width, 16);
  assert.equal(out.height, 8);
  assert.deepEqual(Array.from(out.data.subarray(0, 3)), Array.from(data.subarray((1 * 20 + 2) * 3, (1 * 20 + 2) * 3 + 3)));
  assert.throws(() => cropBorder({ data, width: 20, height: 10 }, 0.5), RangeError);
});

test('normaliseFormat: grey, canonical long side, and a PNG and a JPEG of one picture end up alike', async () => {
  const rgb = await sharp(await patternImage(300, 150, 3)).removeAlpha().raw().toBuffer();
  const img = { data: new Uint8Array(rgb), width: 300, height: 150 };
  const out = await normaliseFormat(img, 256);
  assert.equal(out.width, 256);
  assert.equal(out.height, 128);
  for (let i = 0; i < out.data.length; i += 3) assert.ok(out.data[i] === out.data[i + 1] && out.data[i] === out.data[i + 2]);
  const small = await normaliseFormat({ data: img.data, width: 300, height: 150 }, 400);
  assert.equal(small.width, 400, 'small images are brought up to the canonical side too');
});

test('loadTrainingImage: the border crop equals cropping the file first', async () => {
  const png = await patternImage(50, 50, 5);
  const cropped = await sharp(png).extract({ left: 5, top: 5, width: 40, height: 40 }).png().toBuffer();
  const dir = writeTree({ 'a.png': png, 'b.png': cropped });
  try {
    const a = await loadTrainingImage({ path: path.join(dir, 'a.png'), inputSize: 32, fit: 'stretch', enhance: null, augment: null, prep: { border: 0.1, normalise: false } });
    const b = await loadTrainingImage({ path: path.join(dir, 'b.png'), inputSize: 32, fit: 'stretch', enhance: null, augment: null, prep: { border: 0, normalise: true } });
    const c = await loadTrainingImage({ path: path.join(dir, 'b.png'), inputSize: 32, fit: 'stretch', enhance: null, augment: null, prep: { border: 0.0001, normalise: false } });
    assert.equal(a.channels, 1);
    assert.deepEqual(a.data, c.data);
    const diff = a.data.reduce((t, v, i) => t + Math.abs(v - b.data[i]), 0) / a.data.length;
    assert.ok(diff < 3, `normalised copy differs by ${diff} grey levels on average`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
