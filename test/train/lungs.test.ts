import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { recipeChoice } from '../../lib/cli/recipe-options';
import { UsageError } from '../../lib/errors';
import { fileSha256 } from '../../lib/segment/mask-cache';
import { maskCacheFile } from '../../lib/segment/mask-file';
import { modelId, saveModel } from '../../lib/segment/store';
import { buildUnet } from '../../lib/segment/unet';
import { describeRecipe, makeRunConfig, recipeSettings, upgradeRunConfig, validateRunConfig, type RunConfig } from '../../lib/train/config';
import { readRunFiles, readRunRecord } from '../../lib/train/run-folder';
import { loadRunModel, predictFile } from '../../lib/train/run-model';
import { startRun } from '../../lib/train/run';
import { makeSyntheticDataset, tempDir, tinySource } from './helpers';

let root: string;
let data: string;
let segDir: string;

before(async () => {
  process.env.CXR_BACKEND = 'cpu';
  root = tempDir('cxr-lungs-run-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  data = await makeSyntheticDataset(path.join(root, 'data'), 4, 3);
  // A real (untrained, tiny) segmenter: what its masks look like does not matter here, only that the run uses them.
  segDir = path.join(root, 'segmenter');
  await saveModel(segDir, buildUnet({ size: 32, channels: [4, 8] }, 5));
});

const base = (overrides: RunConfig['prep'] | null = null) =>
  makeRunConfig({
    model: 'tiny', task: 'binary', profile: 'tiny', data: [data], recipe: 'study', weights: 'none', seed: 2, inputSize: 32, preprocess: 'tf',
    defaultInputSize: 32, workers: 0, limit: null, ...(overrides ? { overrides: { prep: overrides } } : {}),
  });

test('--lungs: crop or mask with the default margin, replacing the border crop unless --border is given', () => {
  const d = recipeSettings('deconfounded').prep;
  assert.deepEqual(recipeChoice({ recipe: 'deconfounded', lungs: 'crop' }).overrides.prep, { ...d, border: 0, lungs: { mode: 'crop', margin: 0.05 } });
  assert.deepEqual(recipeChoice({ recipe: 'deconfounded', lungs: 'mask', border: '0.02' }).overrides.prep, { ...d, border: 0.02, lungs: { mode: 'mask', margin: 0.05 } });
  assert.equal(recipeChoice({ recipe: 'deconfounded' }).overrides.prep, undefined);
  assert.deepEqual(recipeChoice({ recipe: 'deconfounded', lungs: 'none' }).overrides.prep, { ...d, lungs: null });
  assert.deepEqual(recipeChoice({ recipe: 'deconfounded', normalise: true, jitter: true, balance: 'source' }).overrides.jitter?.rotationDeg, 10);
  assert.equal(recipeChoice({ recipe: 'deconfounded', normalise: true }).overrides.prep?.normalise, true);
  assert.throws(() => recipeChoice({ recipe: 'study', lungs: 'lobes' }), (e: unknown) => e instanceof UsageError && /--lungs must be crop, mask or none/.test(e.message));
  assert.equal(recipeSettings('study').prep.lungs, null);
  assert.throws(() => validateRunConfig({ ...base(), prep: { border: 0, normalise: false, lungs: { mode: 'crop', margin: -1 } } }), UsageError);
  assert.equal(describeRecipe({ ...base({ border: 0, normalise: false, lungs: { mode: 'mask', margin: 0.05 } }) }), 'study + lungs mask');
});

test('a config.json from before the lung step reads as lungs: null; a current one is kept as it is', () => {
  const c = base();
  const { lungs: _l, ...oldPrep } = c.prep;
  const up = upgradeRunConfig({ ...c, prep: oldPrep } as RunConfig);
  assert.equal(up.prep.lungs, null);
  // The same JSON as a new config, so `cxr study` sees an old run as trained with the same settings.
  assert.equal(JSON.stringify(up.prep), JSON.stringify(c.prep));
  assert.equal(upgradeRunConfig(c), c);
});

test('a lung-cropped run: masks made once by the segmenter it records, feature cache keyed by them, predict uses them', { timeout: 300_000 }, async () => {
  const config = base({ border: 0, normalise: false, lungs: { mode: 'crop', margin: 0.05 } });
  const r = await startRun(config, { out: path.join(root, 'runs'), id: 'lungs', backbone: tinySource(), quiet: true, segmenterDir: segDir });
  const record = readRunRecord(r.dir);
  assert.deepEqual(record.config.prep.lungs, { mode: 'crop', margin: 0.05 });
  assert.equal(record.runtime.segmenter?.id, modelId(segDir));
  const raw = JSON.parse(fs.readFileSync(path.join(r.dir, 'config.json'), 'utf8'));
  assert.deepEqual(raw.config.prep.lungs, { mode: 'crop', margin: 0.05 });
  // Every image of the split has its mask, under the recorded segmenter's id.
  const files = readRunFiles(r.dir);
  assert.equal(files.split.length, 12);
  for (const row of files.split) assert.ok(fs.existsSync(maskCacheFile(record.runtime.segmenter!.id, fileSha256(path.join(data, row.file)))), row.file);
  const metas = fs.readdirSync(path.join(process.env.CXR_CACHE!, 'features')).map((d) => fs.readFileSync(path.join(process.env.CXR_CACHE!, 'features', d, 'meta.json'), 'utf8'));
  assert.ok(metas.length > 0 && metas.every((m) => m.includes(`crop0.05@${record.runtime.segmenter!.id}`)), metas.join('\n'));

  // A new image: its mask is made by the run's own segmenter, then read like the training images'.
  const fresh = path.join(root, 'fresh.png');
  await sharp(path.join(data, 'covid', 'covid_000.png')).flop().toFile(fresh);
  const rm = await loadRunModel(r.dir);
  try {
    assert.equal(rm.lungs?.id, record.runtime.segmenter!.id);
    const p = await predictFile(rm, fresh);
    assert.ok(Math.abs(Object.values(p.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(fs.existsSync(maskCacheFile(rm.lungs!.id, fileSha256(fresh))));
  } finally {
    rm.dispose();
  }
});
