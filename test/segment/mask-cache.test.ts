import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { CxrError, InputFileError } from '../../lib/errors';
import { dice } from '../../lib/segment/mask';
import { ensureLungMasks, fileSha256, openMaskSource } from '../../lib/segment/mask-cache';
import { MASK_SIDE, maskCacheFile, readCachedMask, scaleMask, writeCachedMask } from '../../lib/segment/mask-file';
import { saveModel, modelId } from '../../lib/segment/store';
import { buildUnet } from '../../lib/segment/unet';
import { chestImage, ellipseMask, lungEllipses } from './synth';

let tmp: string;

before(() => {
  process.env.CXR_BACKEND = 'cpu';
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-maskcache-'));
  process.env.CXR_CACHE = path.join(tmp, 'cache');
});

test('scaleMask: nearest neighbour keeps 0/255 exactly, in both directions', () => {
  const m = Uint8Array.from([0, 255, 255, 0]); // 2×2
  assert.deepEqual(Array.from(scaleMask(m, 2, 2, 4, 2)), [0, 0, 255, 255, 255, 255, 0, 0]);
  assert.deepEqual(Array.from(scaleMask(scaleMask(m, 2, 2, 6, 6), 6, 6, 2, 2)), Array.from(m));
  assert.throws(() => scaleMask(m, 3, 2, 4, 4), RangeError);
});

test('a cached mask round-trips through its small PNG to any image size', async () => {
  const [w, h] = [200, 150];
  const mask = ellipseMask(w, h, lungEllipses(w, h, 4));
  const file = maskCacheFile('seg-test', 'a'.repeat(64));
  await writeCachedMask(file, mask, w, h);
  assert.ok(file.startsWith(path.join(tmp, 'cache', 'lung-masks', 'seg-test')));
  const meta = await sharp(file).metadata();
  assert.deepEqual([meta.width, meta.height], [MASK_SIDE, MASK_SIDE]);
  assert.ok(fs.statSync(file).size < 4000, `${fs.statSync(file).size} bytes`);
  const back = await readCachedMask(file, w, h);
  assert.ok(back.every((v) => v === 0 || v === 255));
  assert.ok(dice(back, mask) > 0.98, `Dice ${dice(back, mask)}`);
  // A file of another size is not one of ours: named in the error.
  const odd = path.join(tmp, 'odd.png');
  await sharp(mask, { raw: { width: w, height: h, channels: 1 } }).png().toFile(odd);
  await assert.rejects(readCachedMask(odd, w, h), (e: unknown) => e instanceof InputFileError && e.message.includes('odd.png'));
  await assert.rejects(readCachedMask(path.join(tmp, 'none.png'), w, h), InputFileError);
});

test('ensureLungMasks segments only what is missing, once, with the source it was given', async () => {
  const segDir = path.join(tmp, 'seg');
  await saveModel(segDir, buildUnet({ size: 32, channels: [4, 8] }, 3));
  const images = [];
  for (let i = 0; i < 3; i++) {
    const [w, h] = [64 + 8 * i, 48];
    const file = path.join(tmp, `img${i}.png`);
    await sharp(chestImage(w, h, ellipseMask(w, h, lungEllipses(w, h, i)), i), { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
    images.push({ path: file, sha256: fileSha256(file) });
  }
  const source = await openMaskSource({ dir: segDir, quiet: true });
  assert.equal(source.id, modelId(segDir));
  const seg = await source.segmenter();
  const masks = await ensureLungMasks(images.slice(0, 2), source, { quiet: true });
  assert.deepEqual([...masks.keys()], images.slice(0, 2).map((i) => i.path));
  for (const [file, maskFile] of masks) {
    assert.equal(maskFile, maskCacheFile(source.id, fileSha256(file)));
    // The stored mask is the segmenter's own answer (at the stored size).
    const img = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const own = await seg.segmentGrey(new Uint8Array(img.data), img.info.width, img.info.height);
    assert.deepEqual(await readCachedMask(maskFile, img.info.width, img.info.height), scaleMask(scaleMask(own, img.info.width, img.info.height, MASK_SIDE, MASK_SIDE), MASK_SIDE, MASK_SIDE, img.info.width, img.info.height));
  }
  const stamp = fs.statSync(masks.get(images[0].path)!).mtimeMs;
  source.dispose();

  // A run's recorded segmenter: cached masks are read without loading it; a missing one needs that very model.
  const recorded = await openMaskSource({ recorded: { id: source.id, dir: path.join(tmp, 'gone') }, quiet: true });
  const again = await ensureLungMasks(images.slice(0, 2), recorded, { quiet: true });
  assert.equal(fs.statSync(again.get(images[0].path)!).mtimeMs, stamp);
  await assert.rejects(ensureLungMasks(images, recorded, { quiet: true }), (e: unknown) => e instanceof CxrError && e.message.includes('gone'));
  const other = await openMaskSource({ recorded: { id: 'unet-0000000000000000', dir: segDir }, quiet: true });
  await assert.rejects(ensureLungMasks(images, other, { quiet: true }), (e: unknown) => e instanceof CxrError && /not the one the masks were made with/.test(e.message));
  other.dispose();
  assert.throws(() => fileSha256(path.join(tmp, 'missing.png')), InputFileError);
});
