import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputFileError } from '../../lib/errors';
import { makeRunConfig } from '../../lib/train/config';
import {
  listRunDirs, newRunRecord, readHistory, readRunFiles, readRunRecord, readRunSplit, runComplete, runModelDir, runPaths,
  writeHistory, writePredictions, writeRunRecord,
} from '../../lib/train/run-folder';
import { tempDir } from './helpers';

// A binary run folder byte for byte as cxr train wrote it before the run folder had its own module.
const SPLIT_CSV = 'file,label,patient_id,split\ncovid/a.png,covid,p1,train\ncovid/b.png,covid,p2,val\nnormal/c.png,normal,p3,val\nviral/d.png,viral,p4,test\n';
const PREDICTIONS_CSV =
  'file,label,split,predicted,prob_covid,prob_not-covid,original_label\n' +
  'covid/b.png,covid,val,covid,0.75,0.25,covid\nnormal/c.png,not-covid,val,covid,0.625,0.375,normal\nviral/d.png,not-covid,test,not-covid,0.125,0.875,viral\n';
const HISTORY_CSV = 'epoch,phase,loss,accuracy,val_loss,val_accuracy,lr,seconds\n1,1,0.69314718,0.5,0.6,0.5,0.001,1.25\n';

function oldRunFolder(root: string, id: string): string {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  const config = makeRunConfig({ model: 'tiny', task: 'binary', profile: 'tiny', data: ['/data'], recipe: 'study', weights: 'none', seed: 3, preprocess: 'tf', defaultInputSize: 32 });
  const record = {
    format: 'cxr-run/1', id, config,
    runtime: {
      createdAt: '2026-01-01T00:00:00.000Z', versions: { cxr: '0.1.0' },
      backend: { name: 'cpu', tfBackend: 'cpu', tfjsVersion: '4.22.0', gpu: false }, weightsId: 'tiny:seed3',
      phases: [{ trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, featureCache: '.cache/features/x', trainableParams: 3 }],
      resumes: [],
    },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(record, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'split.csv'), SPLIT_CSV);
  fs.writeFileSync(path.join(dir, 'history.csv'), HISTORY_CSV);
  return dir;
}

test('a run folder written by the earlier code reads back: record, split, history, predictions with patients', () => {
  const root = tempDir('cxr-run-folder-');
  const dir = oldRunFolder(root, 'old');
  assert.equal(runComplete(dir), false);
  assert.throws(() => readRunFiles(dir), (e: Error) => e instanceof InputFileError && /no predictions\.csv yet/.test(e.message));
  assert.throws(() => runModelDir(dir), /the run has no model yet/);

  fs.writeFileSync(path.join(dir, 'predictions.csv'), PREDICTIONS_CSV);
  fs.mkdirSync(path.join(dir, 'model'));
  fs.writeFileSync(path.join(dir, 'model', 'model.json'), '{}');
  assert.equal(runComplete(dir), true);
  assert.equal(runModelDir(dir), path.join(dir, 'model'));

  const run = readRunFiles(dir);
  assert.equal(run.record.runtime.weightsId, 'tiny:seed3');
  assert.deepEqual(run.classes, ['covid', 'not-covid']);
  assert.deepEqual(run.val, [
    { file: 'covid/b.png', patientId: 'p2', label: 0, probs: [0.75, 0.25] },
    { file: 'normal/c.png', patientId: 'p3', label: 1, probs: [0.625, 0.375] },
  ]);
  assert.deepEqual(run.test, [{ file: 'viral/d.png', patientId: 'p4', label: 1, probs: [0.125, 0.875] }]);
  assert.deepEqual(run.history, [{ epoch: 1, phase: 1, loss: 0.69314718, accuracy: 0.5, val_loss: 0.6, val_accuracy: 0.5, lr: 0.001, seconds: 1.25 }]);
  assert.deepEqual(run.split.map((r) => r.split), ['train', 'val', 'val', 'test']);
});

test('writing a run folder gives the earlier files byte for byte', () => {
  const root = tempDir('cxr-run-folder-');
  const dir = oldRunFolder(root, 'old');
  fs.writeFileSync(path.join(dir, 'predictions.csv'), PREDICTIONS_CSV);
  const run = readRunFiles(dir);
  const again = path.join(root, 'again');
  fs.mkdirSync(again);
  writeHistory(again, run.history);
  assert.equal(fs.readFileSync(runPaths(again).history, 'utf8'), HISTORY_CSV);
  const originals = ['covid', 'normal', 'viral'];
  writePredictions(
    again,
    [...run.val, ...run.test].map((p, i) => ({
      file: p.file, label: run.classes[p.label], split: i < run.val.length ? 'val' : 'test', predicted: p.probs[0] > 0.5 ? 'covid' : 'not-covid',
      probs: p.probs, originalLabel: originals[i],
    })),
    run.classes,
  );
  assert.equal(fs.readFileSync(runPaths(again).predictions, 'utf8'), PREDICTIONS_CSV);
  writeRunRecord(again, run.record);
  assert.equal(fs.readFileSync(runPaths(again).config, 'utf8'), fs.readFileSync(runPaths(dir).config, 'utf8'));
  assert.deepEqual(readHistory(again), run.history);
});

test('a new record names the software and backend; listing finds only run folders, sorted', () => {
  const root = tempDir('cxr-run-folder-');
  oldRunFolder(root, 'b');
  oldRunFolder(root, 'a');
  fs.mkdirSync(path.join(root, 'not-a-run'));
  assert.deepEqual(listRunDirs(root), [path.join(root, 'a'), path.join(root, 'b')]);
  assert.deepEqual(listRunDirs(path.join(root, 'nowhere')), []);

  const config = readRunRecord(path.join(root, 'a')).config;
  const record = newRunRecord('x', config, { name: 'cpu', tfBackend: 'cpu', tfjsVersion: '4.22.0', gpu: false, candidates: [] }, 'tiny:seed3');
  assert.equal(record.format, 'cxr-run/1');
  assert.ok(record.runtime.versions.node && record.runtime.versions.tfjs && record.runtime.versions.cxr);
  assert.deepEqual(record.runtime.backend, { name: 'cpu', tfBackend: 'cpu', tfjsVersion: '4.22.0', runtimeVersion: undefined, threads: undefined, gpu: false });
});

test('malformed run folders fail with one line naming the file', () => {
  const root = tempDir('cxr-run-folder-');
  assert.throws(() => readRunRecord(root), /not a run folder \(no config\.json\)/);
  const dir = oldRunFolder(root, 'bad');
  fs.writeFileSync(path.join(dir, 'split.csv'), SPLIT_CSV.replace('p4,test', 'p4,holdout'));
  assert.throws(() => readRunSplit(dir), (e: Error) => e instanceof InputFileError && e.message.includes('split.csv') && /line 5: unknown split 'holdout'/.test(e.message));
  fs.writeFileSync(path.join(dir, 'split.csv'), SPLIT_CSV);
  fs.writeFileSync(path.join(dir, 'predictions.csv'), PREDICTIONS_CSV.replace('0.125,0.875', '1.5,-0.5'));
  assert.throws(() => readRunFiles(dir), /predictions\.csv: line 4: probabilities must lie in \[0, 1\]/);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ format: 'cxr-run/9' }));
  assert.throws(() => readRunRecord(dir), /unknown run format 'cxr-run\/9'/);
});
