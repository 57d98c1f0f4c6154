import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { resizeGreyLanczos3 } from '../../lib/web/page/lanczos';

/** A seeded grey test card: smooth waves plus noise. */
function card(w: number, h: number): Uint8Array {
  const src = new Uint8Array(w * h);
  let seed = 7;
  for (let i = 0; i < src.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = i % w;
    const y = Math.floor(i / w);
    src[i] = Math.max(0, Math.min(255, Math.round(128 + 100 * Math.sin(x / 7) * Math.cos(y / 9) + ((seed >> 16) % 40) - 20)));
  }
  return src;
}

// Reductions (block shrink + Lanczos-3, any factor), enlargements (affine bicubic) and one axis of each: sharp's bytes.
const EXACT: [number, number, number, number][] = [
  [48, 40, 32, 32], [300, 250, 64, 64], [480, 480, 160, 160], [640, 640, 160, 160], [1000, 800, 160, 160], [256, 213, 32, 32],
  [480, 432, 32, 32], [768, 768, 128, 128], [1024, 900, 128, 128], [333, 517, 128, 128], [418, 265, 256, 162], [3000, 2500, 224, 224],
  [48, 40, 256, 213], [64, 64, 224, 224], [37, 53, 224, 224], [256, 162, 224, 224], [100, 300, 200, 100], [200, 100, 201, 300],
];

async function compare(w: number, h: number, ow: number, oh: number): Promise<{ mean: number; max: number }> {
  const src = card(w, h);
  const ref = await sharp(src, { raw: { width: w, height: h, channels: 1 } }).resize(ow, oh, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0).raw().toBuffer();
  const ours = resizeGreyLanczos3(src, w, h, ow, oh);
  assert.equal(ours.length, ref.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / ours.length, max };
}

for (const [w, h, ow, oh] of EXACT) {
  test(`resize ${w}×${h} → ${ow}×${oh} gives sharp's bytes`, async () => {
    const { mean, max } = await compare(w, h, ow, oh);
    assert.equal(max, 0, `mean |Δ| ${mean.toFixed(3)}, max ${max}`);
  });
}

test('Lanczos-3 resize refuses inconsistent sizes', () => {
  assert.throws(() => resizeGreyLanczos3(new Uint8Array(5), 2, 2, 1, 1), /5 values for 2×2/);
  assert.throws(() => resizeGreyLanczos3(new Uint8Array(4), 2, 2, 0, 1), /not a positive integer/);
});
