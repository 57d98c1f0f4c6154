import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../lib/errors';
import { readCsv } from '../../lib/io/csv';
import { Rng } from '../../lib/random';
import { balanceWeights, MAX_WEIGHT, weightedOrder } from '../../lib/train/balance';
import { describeRecipe, makeRunConfig, recipeSettings, upgradeRunConfig, type RunConfig } from '../../lib/train/config';
import { readRunFiles, readRunRecord } from '../../lib/train/run-folder';
import { recipeChoice } from '../../lib/cli/recipe-options';
import { partitionHoldout, startRun } from '../../lib/train/run';
import { kFolds } from '../../lib/data/folds';
import { loadData } from '../../lib/data/merge';
import { makeSyntheticDataset, tempDir, tinySource } from './helpers';

let root: string;
let a: string;
let b: string;

before(async () => {
  process.env.CXR_BACKEND = 'cpu';
  root = tempDir('cxr-recipe-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  a = await makeSyntheticDataset(path.join(root, 'hospital-a'), 8, 1);
  b = await makeSyntheticDataset(path.join(root, 'hospital-b'), 3, 2);
});

test('balanceWeights: every class × source cell gets the same total, no image above the cap, mean 1', () => {
  const s = (label: 'covid' | 'normal', source: string) => ({ label, source });
  const samples = [...Array.from({ length: 60 }, () => s('covid', 'x')), ...Array.from({ length: 30 }, () => s('covid', 'y')), ...Array.from({ length: 30 }, () => s('normal', 'x'))];
  const w = balanceWeights(samples);
  const total = (pred: (i: number) => boolean) => w.reduce((t, v, i) => t + (pred(i) ? v : 0), 0);
  assert.ok(Math.abs(total(() => true) - samples.length) < 1e-9);
  assert.ok(Math.abs(total((i) => i < 60) - 40) < 1e-9, 'covid x: a third');
  assert.ok(Math.abs(total((i) => i >= 60 && i < 90) - 40) < 1e-9, 'covid y: a third');
  // One tiny cell: capped at MAX_WEIGHT, the rest scaled up to keep the mean.
  const tiny = [...samples, s('normal', 'z')];
  const wt = balanceWeights(tiny);
  assert.equal(wt[wt.length - 1], MAX_WEIGHT);
  assert.ok(Math.abs(wt.reduce((x, y) => x + y, 0) - tiny.length) < 1e-6);
});

test('balanceWeights by class: every class gets the same total whatever its sources', () => {
  const s = (label: 'covid' | 'normal' | 'viral', source: string) => ({ label, source });
  const samples = [...Array.from({ length: 20 }, () => s('covid', 'x')), ...Array.from({ length: 20 }, () => s('covid', 'y')), ...Array.from({ length: 60 }, () => s('normal', 'x')), ...Array.from({ length: 40 }, () => s('viral', 'z'))];
  const w = balanceWeights(samples, 'class');
  const total = (label: string) => w.reduce((t, v, i) => t + (samples[i].label === label ? v : 0), 0);
  for (const label of ['covid', 'normal', 'viral']) assert.ok(Math.abs(total(label) - samples.length / 3) < 1e-9, label);
  assert.equal(w[0], w[20], 'no difference between the sources of a class');
  assert.throws(() => recipeChoice({ recipe: 'deconfounded', balance: 'patient' }), /--balance must be none, source, class; got 'patient'/);
  assert.equal(recipeChoice({ recipe: 'deconfounded', balance: 'class' }).overrides.balance, 'class');
});

test('weightedOrder: as many draws as items, each drawn ⌊w⌋ or ⌈w⌉ times, reproducible', () => {
  const items = ['a', 'b', 'c', 'd'];
  const order = weightedOrder(items, [2.5, 0.5, 0.5, 0.5], new Rng(1, 'w'));
  assert.equal(order.length, 4);
  const count = (x: string) => order.filter((o) => o === x).length;
  assert.ok(count('a') === 2 || count('a') === 3);
  assert.deepEqual(order, weightedOrder(items, [2.5, 0.5, 0.5, 0.5], new Rng(1, 'w')));
});

test('upgradeRunConfig: a config.json from before several folders reads as the study recipe on its one folder', () => {
  const c = makeRunConfig({ model: 'tiny', task: 'binary', profile: 'tiny', data: ['/d'], recipe: 'study', weights: 'none', preprocess: 'tf', defaultInputSize: 32 });
  const { data: _d, classMap: _c, holdout: _h, recipe: _r, balance: _b, prep: _p, jitter: _j, ...old } = c;
  const up = upgradeRunConfig({ ...old, dataDir: '/old' } as unknown as RunConfig);
  assert.deepEqual(up.data, ['/old']);
  assert.equal(up.recipe, 'study');
  assert.deepEqual(up.prep, recipeSettings('study').prep);
  assert.equal(upgradeRunConfig(c), c);
});

test('describeRecipe: the switches that are off, in words', () => {
  const d = recipeSettings('deconfounded');
  assert.equal(d.prep.lungs?.mode, 'crop', 'the default crops to the lungs');
  assert.equal(d.prep.border, 0);
  assert.equal(describeRecipe({ recipe: 'deconfounded', ...d }), 'deconfounded');
  const jitter = { area: [0.8, 1] as [number, number], rotationDeg: 10, brightness: 0.1, contrast: 0.1, gamma: 0.15 };
  assert.equal(describeRecipe({ recipe: 'deconfounded', ...d, balance: 'source', jitter }), 'deconfounded + balance source + jitter');
  assert.equal(describeRecipe({ recipe: 'deconfounded', ...d, prep: { ...d.prep, lungs: null, border: 0.08 } }), 'deconfounded − lungs + border 8 %');
  assert.equal(describeRecipe({ recipe: 'study', ...recipeSettings('study') }), 'study');
});

test('partitionHoldout: names match part of a source; an unknown name is a usage error listing the sources', () => {
  const s = (source: string) => ({ source }) as never;
  const { kept, heldOut } = partitionHoldout([s('ieee8023/covid-chestxray-dataset'), s('NIH ChestX-ray14')], ['IEEE8023']);
  assert.equal(kept.length, 1);
  assert.equal(heldOut.length, 1);
  assert.throws(() => partitionHoldout([s('NIH')], ['nope']), (e: unknown) => e instanceof UsageError && /sources: NIH/.test(e.message));
});

test('the deconfounded recipe trains on two folders with a source held out: recorded, never split, scored in holdout.csv', { timeout: 300_000 }, async () => {
  // The lung step is tested in lungs.test.ts (it needs a segmenter); here every other switch, each turned on.
  const prep = { ...recipeSettings('deconfounded').prep, lungs: null, border: 0.08, normalise: true };
  const jitter = { area: [0.8, 1] as [number, number], rotationDeg: 10, brightness: 0.1, contrast: 0.1, gamma: 0.15 };
  const config = makeRunConfig({
    model: 'tiny', task: 'multiclass', profile: 'tiny', data: [a, b], holdout: ['hospital-b'], weights: 'none', seed: 4, inputSize: 32,
    preprocess: 'tf', defaultInputSize: 32, workers: 0, limit: null, overrides: { prep, balance: 'source', jitter },
  });
  assert.equal(config.recipe, 'deconfounded');
  assert.deepEqual(config.phases.map((p) => [p.frozen, p.views, p.augment]), [['views', 2, true], ['views', 2, true]]);
  const r = await startRun(config, { out: path.join(root, 'runs'), id: 'deconf', backbone: tinySource(), quiet: true });
  const record = readRunRecord(r.dir);
  assert.equal(record.config.balance, 'source');
  assert.ok(record.config.prep.normalise && record.config.prep.border > 0 && record.config.jitter);
  const split = readCsv(path.join(r.dir, 'split.csv'), ['file', 'split']);
  assert.equal(split.length, 24);
  assert.ok(split.every((row) => row.file.startsWith('hospital-a/')));
  const files = readRunFiles(r.dir);
  assert.equal(files.holdout.length, 9);
  assert.ok(files.holdout.every((p) => p.file.startsWith('hospital-b/') && p.source === 'hospital-b' && p.patientId.startsWith('hospital-b:')));
  assert.ok(files.holdout.every((p) => Math.abs(p.probs.reduce((x, y) => x + y, 0) - 1) < 1e-5));
  assert.ok(![...files.val, ...files.test].some((p) => p.file.startsWith('hospital-b/')));
  assert.ok(fs.readdirSync(path.join(process.env.CXR_CACHE!, 'features')).some((d) => d.includes('-views-')));
});

test('a cross-validation run tests exactly its fold; train and val come from the other folds', { timeout: 300_000 }, async () => {
  const config = makeRunConfig({
    model: 'tiny', task: 'binary', profile: 'tiny', data: [a], recipe: 'study', fold: { k: 3, index: 1, seed: 9 }, weights: 'none', seed: 4,
    inputSize: 32, preprocess: 'tf', defaultInputSize: 32, workers: 0, limit: null,
  });
  const r = await startRun(config, { out: path.join(root, 'runs'), id: 'fold', backbone: tinySource(), quiet: true });
  const folds = kFolds((await loadData([a])).samples, { k: 3, seed: 9 });
  const split = readCsv(path.join(r.dir, 'split.csv'), ['file', 'split']);
  assert.deepEqual(split.filter((s) => s.split === 'test').map((s) => s.file).sort(), folds.folds[1].map((s) => s.file).sort());
  assert.equal(split.length, 24);
  assert.throws(
    () => makeRunConfig({ model: 'tiny', task: 'binary', profile: 'tiny', data: [a], fold: { k: 3, index: 3, seed: 1 }, weights: 'none', preprocess: 'tf', defaultInputSize: 32 }),
    UsageError,
  );
});
