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

// Measured mean |Δ| here: 0.06–0.4 for reductions up to 4× without a box shrink, 3.0 for 1000×800 → 160 (libvips'
// shrink and fixed-point kernel differ from ours), 1.8 for the 5× enlargement (libvips' affine bicubic).
const CASES: [number, number, number, number, number][] = [[48, 40, 32, 32, 0.6], [300, 250, 64, 64, 0.6], [480, 480, 160, 160, 0.2], [640, 640, 160, 160, 0.6], [1000, 800, 160, 160, 3.5], [48, 40, 256, 213, 2.5], [256, 213, 32, 32, 0.6]];
for (const [w, h, ow, oh, tolerance] of CASES) {
  test(`Lanczos-3 ${w}×${h} → ${ow}×${oh} stays within ${tolerance} grey levels (mean) of sharp's`, async () => {
    const src = card(w, h);
    const ref = await sharp(src, { raw: { width: w, height: h, channels: 1 } }).resize(ow, oh, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0).raw().toBuffer();
    const ours = resizeGreyLanczos3(src, w, h, ow, oh);
    assert.equal(ours.length, ref.length);
    let sum = 0;
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(ours[i] - ref[i]);
      sum += d;
    }
    const mean = sum / ours.length;
    assert.ok(mean < tolerance, `mean |Δ| ${mean.toFixed(3)}`);
  });
}

test('Lanczos-3 resize refuses inconsistent sizes', () => {
  assert.throws(() => resizeGreyLanczos3(new Uint8Array(5), 2, 2, 1, 1), /5 values for 2×2/);
  assert.throws(() => resizeGreyLanczos3(new Uint8Array(4), 2, 2, 0, 1), /not a positive integer/);
});
