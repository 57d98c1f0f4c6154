import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Sample } from '../../lib/data/types';
import { clahe } from '../../lib/enhance/clahe';
import { enhance } from '../../lib/enhance/pipeline';
import { claheSweep, enhancementStages, meanContrast, sampleStages, stageHistograms, STAGES } from '../../lib/explore/enhance';
import { greyHistogram, greyStats } from '../../lib/explore/histogram';

/** A dim, tinted, noisy RGB image: something for white balance and CLAHE to change. */
function synthetic(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  let seed = 7;
  for (let i = 0; i < w * h; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const v = 40 + ((i % w) * 100) / w + (seed >>> 28);
    rgb[3 * i] = v;
    rgb[3 * i + 1] = v * 0.9;
    rgb[3 * i + 2] = v * 0.8;
  }
  return rgb;
}

const settings = { clipLimit: 2, tileGrid: 8 };

test('enhancementStages: its last stage is exactly what the pipeline feeds the networks', () => {
  const rgb = synthetic(96, 64);
  const st = enhancementStages(rgb, 96, 64, settings);
  assert.deepEqual(st.grey['white balance + CLAHE'], enhance(rgb, 96, 64, { whiteBalance: true, clahe: settings }));
  assert.deepEqual(st.grey['white balance'], enhance(rgb, 96, 64, { whiteBalance: true, clahe: null }));
  assert.deepEqual(st.grey.original, enhance(rgb, 96, 64, { whiteBalance: false, clahe: null }));
  assert.equal(st.original.data, rgb);
  assert.equal(st.whiteBalanced.channels, 3);
  assert.deepEqual(Object.keys(st.grey), [...STAGES]);
  const wb = greyStats(greyHistogram(st.grey['white balance']));
  const orig = greyStats(greyHistogram(st.grey.original));
  assert.ok(wb.p99 - wb.p1 > orig.p99 - orig.p1, 'white balance widens the used range');
});

test('sampleStages and stageHistograms read image files at their stored size', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-explore-'));
  try {
    const file = path.join(dir, 'a.png');
    await sharp(synthetic(80, 50), { raw: { width: 80, height: 50, channels: 3 } }).png().toFile(file);
    const s = { file: 'covid/a.png', path: file, label: 'covid', width: 80, height: 50 } as Sample;
    const st = await sampleStages(s, settings);
    assert.deepEqual([st.original.width, st.original.height], [80, 50]);
    assert.deepEqual(st.original.data, synthetic(80, 50));
    const h = await stageHistograms([s, s], settings);
    for (const stage of STAGES) assert.equal(h[stage].reduce((a, b) => a + b, 0), 2 * 80 * 50);
    assert.deepEqual(h['white balance + CLAHE'], greyHistogram(st.grey['white balance + CLAHE']).map((c) => 2 * c));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('claheSweep: every clip limit × tile grid, with its contrast; meanContrast averages sweeps', () => {
  const grey = enhance(synthetic(64, 64), 64, 64, { whiteBalance: true, clahe: null });
  const sweep = claheSweep(grey, 64, 64, [1, 4], [2, 8, 16]);
  assert.deepEqual(sweep.map((r) => r.map((c) => [c.clipLimit, c.tileGrid])), [[[1, 2], [1, 8], [1, 16]], [[4, 2], [4, 8], [4, 16]]]);
  assert.deepEqual(sweep[1][1].image, clahe(grey, 64, 64, { clipLimit: 4, tileGrid: 8 }));
  assert.equal(sweep[0][2].std, greyStats(greyHistogram(sweep[0][2].image)).std);
  const other = sweep.map((r) => r.map((c) => ({ ...c, std: c.std + 2 })));
  assert.deepEqual(meanContrast([sweep, other]), sweep.map((r) => r.map((c) => c.std + 1)));
  assert.throws(() => meanContrast([]), /no sweeps/);
});
