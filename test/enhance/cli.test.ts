import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../lib/data/decode';
import { enhance } from '../../lib/enhance/pipeline';
import { PROJECT_ROOT } from '../../lib/paths';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cxr, 'enhance', ...args], { encoding: 'utf8' });

/** A small synthetic chest-like colour image. */
async function makeImage(file: string, width: number, height: number, seed: number): Promise<void> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 80 + 60 * Math.exp(-(((x - width / 2) / (width / 3)) ** 2 + ((y - height / 2) / (height / 3)) ** 2)) + ((x * 7 + y * 13 + seed) % 17);
      rgb.set([v + 10, v, v - 10], (y * width + x) * 3);
    }
  }
  const img = sharp(rgb, { raw: { width, height, channels: 3 } });
  await (file.endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

async function readGrey(file: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const meta = await sharp(file).metadata();
  const { data, info } = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: meta.channels! };
}

function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-enhance-cli-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('cxr enhance <input> <output.png> writes the 224x224 8-bit grey PNG that lib/enhance computes', async () => {
  const input = path.join(tmp, 'one.jpg');
  await makeImage(input, 150, 120, 1);
  const output = path.join(tmp, 'one.png');
  const r = run(input, output);
  assert.equal(r.status, 0, r.stderr);
  const png = await readGrey(output);
  assert.equal(png.channels, 1);
  assert.deepEqual([png.width, png.height], [224, 224]);
  const decoded = await decodeImage(input, { size: 224 });
  assert.deepEqual(png.data, enhance(decoded.data, 224, 224));
});

test('--keep-size and the enhancement flags are honoured', async () => {
  const input = path.join(tmp, 'two.png');
  await makeImage(input, 97, 61, 2);
  const output = path.join(tmp, 'two-out.png');
  const r = run(input, output, '--keep-size', '--no-white-balance', '--clip-limit', '3.5', '--tile-grid', '8x4');
  assert.equal(r.status, 0, r.stderr);
  const png = await readGrey(output);
  assert.deepEqual([png.width, png.height], [97, 61]);
  const decoded = await decodeImage(input);
  assert.deepEqual(png.data, enhance(decoded.data, 97, 61, { whiteBalance: false, clahe: { clipLimit: 3.5, tileGrid: [8, 4] } }));

  const noClahe = path.join(tmp, 'two-noclahe.png');
  assert.equal(run(input, noClahe, '--size', '50', '--no-clahe').status, 0);
  const plain = await readGrey(noClahe);
  const small = await decodeImage(input, { size: 50 });
  assert.deepEqual(plain.data, enhance(small.data, 50, 50, { whiteBalance: true, clahe: null }));
});

test('a bad input fails with one line naming the file, and writes nothing', async () => {
  const bad = path.join(tmp, 'broken.jpg');
  fs.writeFileSync(bad, 'this is not a jpeg');
  const output = path.join(tmp, 'broken.png');
  const r = run(bad, output);
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].includes(bad), lines[0]);
  assert.ok(!fs.existsSync(output));
  const missing = run(path.join(tmp, 'nope.jpg'), output);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /nope\.jpg/);
});

test('usage errors: --size with --keep-size, a non-PNG output, a bad grid', () => {
  const input = path.join(tmp, 'one.jpg');
  assert.equal(run(input, path.join(tmp, 'x.png'), '--size', '64', '--keep-size').status, 64);
  assert.equal(run(input, path.join(tmp, 'x.jpg')).status, 64);
  assert.equal(run(input, path.join(tmp, 'x.png'), '--tile-grid', '0').status, 64);
});

test('cxr enhance --data --out mirrors class folders, skips and reports bad files, never writes the source', async () => {
  const data = path.join(tmp, 'data');
  for (const c of ['covid', 'normal', 'viral']) fs.mkdirSync(path.join(data, c), { recursive: true });
  await makeImage(path.join(data, 'covid', 'c1.jpg'), 80, 64, 3);
  await makeImage(path.join(data, 'covid', 'c2.png'), 64, 80, 4);
  await makeImage(path.join(data, 'normal', 'n1.jpg'), 70, 70, 5);
  await makeImage(path.join(data, 'viral', 'v1.png'), 90, 50, 6);
  fs.writeFileSync(path.join(data, 'viral', 'junk.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
  const before = treeHashes(data);

  const out = path.join(tmp, 'enhanced');
  const r = run('--data', data, '--out', out, '--size', '64', '--jobs', '2');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /junk\.jpg/);
  assert.deepEqual(Object.keys(treeHashes(out)).sort(), ['covid/c1.png', 'covid/c2.png', 'enhance.json', 'normal/n1.png', 'viral/v1.png']);
  const png = await readGrey(path.join(out, 'normal', 'n1.png'));
  const decoded = await decodeImage(path.join(data, 'normal', 'n1.jpg'), { size: 64 });
  assert.deepEqual(png.data, enhance(decoded.data, 64, 64));
  const report = JSON.parse(fs.readFileSync(path.join(out, 'enhance.json'), 'utf8'));
  assert.equal(report.written, 4);
  assert.deepEqual(report.skipped.map((s: { file: string }) => s.file), ['viral/junk.jpg']);
  assert.deepEqual(treeHashes(data), before);

  const strict = run('--data', data, '--out', path.join(tmp, 'strict'), '--strict');
  assert.notEqual(strict.status, 0);
  assert.match(strict.stderr, /junk\.jpg/);
  const inside = run('--data', data, '--out', path.join(data, 'enhanced'));
  assert.equal(inside.status, 64);
  assert.deepEqual(treeHashes(data), before);
});
