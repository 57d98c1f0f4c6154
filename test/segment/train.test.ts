import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../../lib/paths';
import { readGrey } from '../../lib/segment/data';
import { dice } from '../../lib/segment/mask';
import { loadSegmenter } from '../../lib/segment/segmenter';
import { DEFAULT_SEGMENT_SETTINGS, trainSegmenter, type SegmentSettings } from '../../lib/segment/train';
import { writeMaskDataset } from './synth';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-segment-'));
const settings: SegmentSettings = {
  ...DEFAULT_SEGMENT_SETTINGS,
  unet: { size: 32, channels: [4, 8, 16], bnMomentum: 0.7 },
  epochs: 6,
  batchSize: 4,
  learningRate: 1e-2,
  valFraction: 0.25,
};

test('a tiny U-Net trains on synthetic lungs, resumes from its checkpoint, and segments through the API and the CLI', async () => {
  const data = await writeMaskDataset(path.join(tmp, 'masks'), 16, 48);
  const out = path.join(tmp, 'model');
  const first = await trainSegmenter({ dataDir: data, outDir: out, settings, quiet: true, stopAfter: 2 });
  assert.equal(first.record, null);
  assert.ok(fs.existsSync(path.join(out, 'checkpoint', 'state.json')));
  const { record } = await trainSegmenter({ dataDir: data, outDir: out, settings, quiet: true });
  assert.ok(record);
  assert.deepEqual(record.history.map((h) => h.epoch), [1, 2, 3, 4, 5, 6]);
  assert.ok(record.history[5].loss < record.history[0].loss, `loss ${record.history.map((h) => h.loss.toFixed(3))}`);
  assert.equal(record.split.valPatients + record.split.trainPatients, 8);
  assert.ok(record.val.dice.lo <= record.val.dice.point && record.val.dice.point <= record.val.dice.hi);
  assert.ok(record.val.dice.point > 0.8, `val Dice ${record.val.dice.point}`);

  const seg = await loadSegmenter(out, { quiet: true });
  const img = await readGrey(path.join(data, 'images', 'img3.png'));
  const truth = await readGrey(path.join(data, 'masks', 'img3.png'));
  const mask = await seg.segmentGrey(img.data, img.width, img.height);
  assert.equal(mask.length, 48 * 48);
  assert.ok(mask.every((v) => v === 0 || v === 255));
  assert.ok(dice(mask, truth.data) > 0.7, `Dice ${dice(mask, truth.data)}`);
  seg.dispose();

  // Folder mode mirrors sub-folders, keeps each image's size, skips a bad file with one line.
  const input = path.join(tmp, 'in');
  fs.mkdirSync(path.join(input, 'sub'), { recursive: true });
  fs.copyFileSync(path.join(data, 'images', 'img1.png'), path.join(input, 'a.png'));
  await sharp(path.join(data, 'images', 'img2.png')).resize(60, 40).jpeg().toFile(path.join(input, 'sub', 'b.jpg'));
  fs.writeFileSync(path.join(input, 'sub', 'broken.png'), 'not a png');
  const run = (...args: string[]) => spawnSync(process.execPath, [cxr, 'segment', '--model', out, '--quiet', ...args], { encoding: 'utf8' });
  const folder = run('--data', input, '--out', path.join(tmp, 'masks-out'));
  assert.equal(folder.status, 0, folder.stderr);
  assert.match(folder.stderr, /skipped .*broken\.png: /);
  assert.match(folder.stdout, /2 masks written/);
  const b = await sharp(path.join(tmp, 'masks-out', 'sub', 'b.png')).metadata();
  assert.deepEqual([b.width, b.height, b.channels], [60, 40, 1]);
  assert.ok(fs.existsSync(path.join(tmp, 'masks-out', 'a.png')));

  const bad = run(path.join(input, 'sub', 'broken.png'), path.join(tmp, 'x.png'));
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').filter((l) => l.startsWith('cxr: error:')).length, 1);
  assert.match(bad.stderr, /cxr: error: .*broken\.png: /);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});
