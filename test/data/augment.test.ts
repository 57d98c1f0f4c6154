import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { augmentImage, drawAugment, STUDY_AUGMENT } from '../../lib/data/input/augment';
import { Rng } from '../../lib/random';
import { projectPython } from '../../lib/paths';
import { tempDir } from '../train/helpers';

/** A deterministic, non-symmetric test image: w×h×c float values 0–255. */
function pattern(w: number, h: number, c: number): Float32Array {
  const out = new Float32Array(w * h * c);
  for (let i = 0; i < out.length; i++) out[i] = ((i * 37) % 251) + (i % 7) * 0.5;
  return out;
}

test('flip only mirrors columns; angle 0 without flip is the identity', () => {
  const img = pattern(5, 3, 2);
  assert.deepEqual(augmentImage(img, 5, 3, 2, { flip: false, angle: 0 }), img);
  const flipped = augmentImage(img, 5, 3, 2, { flip: true, angle: 0 });
  for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) for (let c = 0; c < 2; c++) {
    assert.equal(flipped[(y * 5 + x) * 2 + c], img[(y * 5 + (4 - x)) * 2 + c]);
  }
});

test('a half turn is a point reflection, with no interpolation error', () => {
  const img = pattern(6, 4, 1);
  const out = augmentImage(img, 6, 4, 1, { flip: false, angle: Math.PI });
  for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) {
    assert.ok(Math.abs(out[y * 6 + x] - img[(3 - y) * 6 + (5 - x)]) < 1e-3, `(${x},${y})`);
  }
});

test('draws stay within the configured ranges and flip about half the time', () => {
  const rng = new Rng(3, 'augment');
  let flips = 0;
  for (let i = 0; i < 2000; i++) {
    const p = drawAugment(rng, STUDY_AUGMENT);
    assert.ok(Math.abs(p.angle) <= 0.1 * 2 * Math.PI);
    if (p.flip) flips++;
  }
  assert.ok(flips > 900 && flips < 1100, `${flips} flips of 2000`);
  assert.deepEqual(drawAugment(new Rng(1), { flip: false, rotation: 0 }), { flip: false, angle: 0 });
});

test('rotation with reflect fill matches Keras RandomRotation (TensorFlow backend)', (t) => {
  const python = projectPython();
  if (!fs.existsSync(python)) {
    t.skip(`reference Python not set up (${python}); run npm run setup`);
    return;
  }
  const dir = tempDir('cxr-aug-');
  const [w, h, c] = [23, 17, 3];
  const img = pattern(w, h, c);
  fs.writeFileSync(path.join(dir, 'in.f32'), Buffer.from(img.buffer));
  const factors = [0.07, -0.1, 0.25, 0.5];
  const script = `
import sys, numpy as np, keras
w, h, c = ${w}, ${h}, ${c}
x = np.fromfile(sys.argv[1] + '/in.f32', dtype=np.float32).reshape(1, h, w, c)
for i, f in enumerate([${factors.join(', ')}]):
    layer = keras.layers.RandomRotation((f, f), fill_mode='reflect', interpolation='bilinear')
    np.asarray(layer(x, training=True), dtype=np.float32).tofile(sys.argv[1] + f'/out{i}.f32')
    flipped = keras.layers.RandomRotation((f, f), fill_mode='reflect', interpolation='bilinear')(x[:, :, ::-1, :], training=True)
    np.asarray(flipped, dtype=np.float32).tofile(sys.argv[1] + f'/flip{i}.f32')
`;
  const r = spawnSync(python, ['-c', script, dir], { env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: '0', TF_CPP_MIN_LOG_LEVEL: '3', KERAS_BACKEND: 'tensorflow' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  factors.forEach((f, i) => {
    for (const [name, flip] of [[`out${i}`, false], [`flip${i}`, true]] as const) {
      const buf = fs.readFileSync(path.join(dir, `${name}.f32`));
      const keras = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
      const ours = augmentImage(img, w, h, c, { flip, angle: f * 2 * Math.PI });
      let worst = 0;
      for (let k = 0; k < ours.length; k++) worst = Math.max(worst, Math.abs(ours[k] - keras[k]));
      assert.ok(worst < 1e-2, `factor ${f} flip ${flip}: max |ours − keras| = ${worst}`);
    }
  });
});
