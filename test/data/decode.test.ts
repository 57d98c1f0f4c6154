import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeImage, decodeImageBuffer } from '../../lib/data/decode';
import { InputFileError } from '../../lib/errors';
import { encodePng, patternImage, pngClaimingSize, writeTree } from './synth';

/** Pixel (x, y) of an RGB image. */
const px = (img: { data: Uint8Array; width: number }, x: number, y: number) => {
  const i = (y * img.width + x) * 3;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
};

test('1x1 images decode, at original size and resized', async () => {
  const png = encodePng({ width: 1, height: 1, colourType: 2, depth: 8, samples: [10, 20, 30] });
  const img = await decodeImageBuffer(png, 'one.png');
  assert.deepEqual([img.width, img.height, [...img.data]], [1, 1, [10, 20, 30]]);
  const big = await decodeImageBuffer(png, 'one.png', { size: 4 });
  assert.deepEqual([big.width, big.height, big.data.length], [4, 4, 48]);
  assert.ok([...big.data].every((v, i) => v === [10, 20, 30][i % 3]));
});

test('16-bit grey PNG: samples scaled by round(v/257), grey replicated to RGB', async () => {
  const values = [0, 255, 256, 383, 32896, 65280, 65534, 65535];
  const png = encodePng({ width: values.length, height: 1, colourType: 0, depth: 16, samples: values });
  const img = await decodeImageBuffer(png, 'g16.png');
  assert.deepEqual(img.source, { format: 'png', width: 8, height: 1, channels: 1, bitDepth: 16 });
  assert.deepEqual(values.map((_, x) => px(img, x, 0)), values.map((v) => Array(3).fill(Math.round(v / 257))));
});

test('16-bit RGBA PNG: alpha composited onto black', async () => {
  const png = encodePng({ width: 2, height: 1, colourType: 6, depth: 16, samples: [65535, 32896, 0, 65535, 65535, 65535, 65535, 0] });
  const img = await decodeImageBuffer(png, 'rgba16.png');
  assert.deepEqual([px(img, 0, 0), px(img, 1, 0)], [[255, 128, 0], [0, 0, 0]]);
});

test('8-bit RGBA, grey+alpha and palette PNGs', async () => {
  const rgba = encodePng({ width: 3, height: 1, colourType: 6, depth: 8, samples: [200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128] });
  const a = await decodeImageBuffer(rgba, 'rgba.png');
  assert.deepEqual([px(a, 0, 0), px(a, 1, 0), px(a, 2, 0)], [[200, 100, 50], [0, 0, 0], [100, 50, 25]]);

  const ga = encodePng({ width: 2, height: 1, colourType: 4, depth: 8, samples: [180, 255, 180, 64] });
  const g = await decodeImageBuffer(ga, 'ga.png');
  assert.deepEqual(g.source.channels, 2);
  assert.deepEqual([px(g, 0, 0), px(g, 1, 0)], [[180, 180, 180], [45, 45, 45]]);

  const palette: [number, number, number][] = [[0, 0, 0], [255, 0, 0], [10, 200, 30]];
  const pal = encodePng({ width: 3, height: 1, colourType: 3, depth: 8, samples: [2, 1, 0], palette });
  const p = await decodeImageBuffer(pal, 'pal.png');
  assert.deepEqual([px(p, 0, 0), px(p, 1, 0), px(p, 2, 0)], [[10, 200, 30], [255, 0, 0], [0, 0, 0]]);
});

test('WEBP (lossless) decodes exactly', async () => {
  const raw = Buffer.from([1, 2, 3, 250, 251, 252, 9, 8, 7, 100, 110, 120]);
  const webp = await sharp(raw, { raw: { width: 2, height: 2, channels: 3 } }).webp({ lossless: true }).toBuffer();
  const img = await decodeImageBuffer(webp, 'x.webp');
  assert.equal(img.source.format, 'webp');
  assert.deepEqual([...img.data], [...raw]);
});

test('EXIF orientation is applied (orientation 6: rotate 90° clockwise)', async () => {
  // Stored 8 wide x 4 high, left half white: shown upright it is 4 wide x 8 high with the top half white.
  const raw = Buffer.alloc(8 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) raw.fill(255, (y * 8 + x) * 3, (y * 8 + x) * 3 + 3);
  const jpeg = await sharp(raw, { raw: { width: 8, height: 4, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeImageBuffer(jpeg, 'rotated.jpg');
  assert.deepEqual([img.source.width, img.source.height], [8, 4]);
  assert.deepEqual([img.width, img.height], [4, 8]);
  assert.ok(px(img, 1, 1)[0] > 200 && px(img, 2, 6)[0] < 50, `top ${px(img, 1, 1)} bottom ${px(img, 2, 6)}`);
});

test('stretch ignores the aspect ratio; pad letterboxes in black', async () => {
  const white = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ffffff' } }).png().toBuffer();
  const stretched = await decodeImageBuffer(white, 'w.png', { size: 10 });
  assert.deepEqual([stretched.width, stretched.height], [10, 10]);
  assert.ok([...stretched.data].every((v) => v === 255));
  const padded = await decodeImageBuffer(white, 'w.png', { size: [10, 10], fit: 'pad' });
  assert.deepEqual([padded.width, padded.height], [10, 10]);
  for (let y = 0; y < 10; y++) {
    const expected = y >= 3 && y <= 6 ? 255 : y <= 1 || y >= 8 ? 0 : undefined;
    if (expected !== undefined) assert.deepEqual(px(padded, 5, y), [expected, expected, expected], `row ${y}`);
  }
});

test('bad files: an InputFileError naming the file and the cause', async () => {
  const jpeg = await patternImage(256, 256, 1, 'jpeg');
  const png = await patternImage(64, 64, 2);
  const corruptJpeg = Buffer.from(jpeg);
  corruptJpeg.fill(0x55, corruptJpeg.length >> 2, corruptJpeg.length >> 1);
  const root = writeTree({
    'zero.jpg': Buffer.alloc(0),
    'truncated.jpg': jpeg.subarray(0, jpeg.length >> 1),
    'truncated.png': png.subarray(0, png.length - 30),
    'corrupt.jpg': corruptJpeg,
    'text.png': 'hello, not an image',
    'scan.dcm': Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(32)]),
    'bomb.png': pngClaimingSize(60000, 60000),
    'vector.png': '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
  });
  const cases: [string, RegExp][] = [
    ['zero.jpg', /empty file/],
    ['truncated.jpg', /truncated JPEG/],
    ['truncated.png', /truncated PNG/],
    ['corrupt.jpg', /corrupt jpeg|truncated jpeg/],
    ['text.png', /not an image/],
    ['scan.dcm', /no Transfer Syntax UID/],
    ['bomb.png', /60000x60000 pixels is over the limit of 100000000/],
    ['vector.png', /SVG/],
    ['missing.png', /cannot read \(ENOENT\)/],
  ];
  try {
    for (const [name, re] of cases) {
      const file = path.join(root, name);
      await assert.rejects(decodeImage(file, { size: 8 }), (err: unknown) => {
        assert.ok(err instanceof InputFileError, `${name}: ${err}`);
        assert.ok(err.message.startsWith(file + ': '), err.message);
        assert.match(err.message, re);
        return true;
      });
    }
    await assert.rejects(decodeImage(path.join(root, 'truncated.png'), { maxPixels: 10 }), /truncated PNG/);
    const ok = path.join(root, 'ok.png');
    fs.writeFileSync(ok, png);
    await assert.rejects(decodeImage(ok, { maxPixels: 100 }), /64x64 pixels is over the limit of 100/);
    assert.equal((await decodeImage(ok)).width, 64);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
