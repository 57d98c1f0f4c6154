import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCsv } from '../../lib/io/csv';
import { loadModel } from '../../lib/models/io';
import { loadLatestCheckpoint } from '../../lib/train/checkpoint';
import { makeRunConfig, type PhaseConfig } from '../../lib/train/config';
import '../../lib/train/head';
import { NonFiniteLossError } from '../../lib/train/trainer';
import { readHistory, type RunRecord } from '../../lib/train/run-folder';
import { startRun } from '../../lib/train/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { makeSyntheticDataset, tempDir, tinySource } from './helpers';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const noCallbacks = { earlyStopping: null, reduceLr: null };
let root: string;
let data: string;

before(async () => {
  process.env.CXR_BACKEND = 'cpu';
  root = tempDir('cxr-run-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  data = await makeSyntheticDataset(path.join(root, 'data'), 10);
});

function config(phases: PhaseConfig[], task: 'binary' | 'multiclass' = 'binary') {
  return makeRunConfig({
    model: 'tiny', task, profile: 'tiny', data: [data], recipe: 'study', weights: 'none', seed: 3, inputSize: 32, preprocess: 'tf',
    defaultInputSize: 32, workers: 2, phases, limit: null,
  });
}

test('a run writes config, split, history, checkpoints, the best model and val/test predictions', { timeout: 300_000 }, async () => {
  const phases: PhaseConfig[] = [
    { epochs: 2, learningRate: 1e-2, batchSize: 8, trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, ...noCallbacks },
    { epochs: 1, learningRate: 1e-3, batchSize: 8, trainAfter: 'block1_out', frozen: 'views', views: 2, augment: true,
      earlyStopping: { monitor: 'val_accuracy', patience: 20, restoreBest: true }, reduceLr: null },
  ];
  const r = await startRun(config(phases), { out: path.join(root, 'runs'), id: 'r1', backbone: tinySource(), quiet: true });
  const record = JSON.parse(fs.readFileSync(path.join(r.dir, 'config.json'), 'utf8')) as RunRecord;
  assert.equal(record.config.task, 'binary');
  assert.equal(record.runtime.backend.tfBackend, 'cpu');
  assert.ok(record.runtime.versions.tfjs && record.runtime.versions.node);
  assert.deepEqual(record.runtime.phases.map((p) => [p.frozen, p.trainAfter]), [['cache', 'head_pool'], ['views', 'block1_out']]);
  assert.ok(record.runtime.phases[1].trainableParams > record.runtime.phases[0].trainableParams);

  const split = readCsv(path.join(r.dir, 'split.csv'), ['file', 'label', 'patient_id', 'split']);
  assert.equal(split.length, 30);
  const history = readHistory(r.dir);
  assert.deepEqual(history.map((h) => [h.epoch, h.phase]), [[1, 1], [2, 1], [3, 2]]);
  assert.ok(history.every((h) => Number.isFinite(h.loss) && h.val_accuracy >= 0 && h.val_accuracy <= 1 && h.lr > 0));

  const preds = readCsv(path.join(r.dir, 'predictions.csv'), ['file', 'label', 'split', 'predicted', 'prob_covid', 'prob_not-covid']);
  const bySplit = (s: string) => split.filter((x) => x.split === s).map((x) => x.file).sort();
  assert.deepEqual(preds.filter((p) => p.split === 'val').map((p) => p.file).sort(), bySplit('val'));
  assert.deepEqual(preds.filter((p) => p.split === 'test').map((p) => p.file).sort(), bySplit('test'));
  for (const p of preds) {
    assert.ok(Math.abs(Number(p.prob_covid) + Number(p['prob_not-covid']) - 1) < 1e-5);
    assert.equal(p.label, p.original_label === 'covid' ? 'covid' : 'not-covid');
  }
  const valAcc = preds.filter((p) => p.split === 'val' && p.predicted === p.label).length / bySplit('val').length;
  assert.ok(Math.abs(valAcc - r.valAccuracy) < 1e-9);

  const ckpt = loadLatestCheckpoint<{ complete: boolean }>(path.join(r.dir, 'checkpoints'));
  assert.equal(ckpt?.data.state.complete, true);
  assert.equal(fs.readdirSync(path.join(r.dir, 'checkpoints')).filter((f) => f.startsWith('epoch-')).length, 1, 'old checkpoints pruned');
  const model = await loadModel(path.join(r.dir, 'model'));
  assert.deepEqual(model.outputs[0].shape, [null, 1]);

  // The saved model answers `cxr predict` on its own.
  const image = path.join(data, 'covid', 'covid_000.png');
  const p = spawnSync(process.execPath, [cxr, 'predict', '--run', r.dir, image, path.join(data, 'nope.png')], { encoding: 'utf8', env: process.env });
  assert.equal(p.status, 2, p.stderr);
  const [line] = p.stdout.trim().split('\n');
  const m = /\t(covid|not-covid)\tcovid ([\d.]+)  not-covid ([\d.]+)$/.exec(line);
  assert.ok(m, line);
  assert.ok(Math.abs(Number(m[2]) + Number(m[3]) - 1) < 1e-3);
  assert.match(p.stderr, /^cxr: error: .*nope\.png: /m);
  assert.equal(p.stderr.split('\n').filter((l) => l.startsWith('cxr:')).length, 1);
  assert.doesNotMatch(p.stderr, /at .*\.ts:\d+/);
});

test('a non-finite loss stops the run with a clear message and keeps the last good checkpoint', { timeout: 300_000 }, async () => {
  const phases: PhaseConfig[] = [
    { epochs: 1, learningRate: 1e-2, batchSize: 8, trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, ...noCallbacks },
    { epochs: 2, learningRate: 1e38, batchSize: 4, trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, ...noCallbacks },
  ];
  const dir = path.join(root, 'runs', 'nan');
  await assert.rejects(
    startRun(config(phases, 'multiclass'), { out: path.join(root, 'runs'), id: 'nan', backbone: tinySource(), quiet: true }),
    (err: Error) => err instanceof NonFiniteLossError && /phase 2 epoch 1 batch \d+: the loss is (NaN|Infinity)/.test(err.message) && err.message.includes(path.join(dir, 'checkpoints')),
  );
  const ckpt = loadLatestCheckpoint<{ phase: number; history: unknown[] }>(path.join(dir, 'checkpoints'));
  assert.equal(ckpt?.data.state.history.length, 1);
  assert.equal(readHistory(dir).length, 1);
  assert.ok(!fs.existsSync(path.join(dir, 'model')));
});

test('cxr train rejects bad arguments with one line and a usage exit code', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cxr, 'train', ...args], { encoding: 'utf8' });
  let r = run('--task', 'binary');
  assert.equal(r.status, 64);
  assert.match(r.stderr, /--model is required/);
  r = run('--model', 'resnet50', '--task', 'ternary');
  assert.equal(r.status, 64);
  assert.match(r.stderr, /unknown task 'ternary'/);
  r = run('--model', 'vgg', '--task', 'binary');
  assert.equal(r.status, 64);
  assert.match(r.stderr, /unknown backbone/);
  r = run('--model', 'resnet50', '--task', 'binary', '--profile', 'fast');
  assert.match(r.stderr, /unknown profile 'fast'/);
  r = run('--resume', path.join(root ?? '/nonexistent', 'no-such-run'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /not a run folder/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});
