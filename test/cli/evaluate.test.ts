import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { syntheticData, tempDir, trainTinyRun } from '../report/run-fixture';
import { makeSyntheticDataset } from '../train/helpers';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
let root: string;
let run: string;
let external: string;
let adult: string;

function cli(args: string[]) {
  return spawnSync(process.execPath, [cxr, ...args], { encoding: 'utf8', env: process.env });
}

before(async () => {
  root = tempDir('cxr-evaluate-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  const data = await syntheticData(root, 12);
  run = await trainTinyRun(data, path.join(root, 'runs'), 'm', 'multiclass');
  // Another folder in the same layout, different images (another noise seed): the "external" set.
  external = await makeSyntheticDataset(path.join(root, 'external'), 8, 7);
  // A second folder with a manifest: two sources (one COVID-only, one without COVID), all adults.
  adult = await makeSyntheticDataset(path.join(root, 'adult'), 4, 9);
  const rows = ['covid', 'viral', 'normal'].flatMap((c) =>
    fs.readdirSync(path.join(adult, c)).map((f, i) => `${c}/${f},${c},${c}-${i},${c === 'covid' ? 'hospital-x' : 'hospital-y'},adult(age=60)`),
  );
  fs.writeFileSync(path.join(adult, 'manifest.csv'), ['file,label,patient_id,source,age_group', ...rows].join('\n') + '\n');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('cxr evaluate scores every image of a folder; --json ends with one JSON object', { timeout: 120_000 }, () => {
  const r = cli(['evaluate', '--run', run, '--data', external, '--json', '--resamples', '1000', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const json = JSON.parse(lines[lines.length - 1]) as {
    accuracy: number; ci: [number, number]; n: number; per_class: Record<string, { sensitivity: number; specificity: number; support: number; sensitivity_ci: number[] }>; confusion: number[][];
  };
  assert.equal(json.n, 24);
  assert.deepEqual(Object.keys(json.per_class), ['covid', 'viral', 'normal']);
  for (const c of Object.values(json.per_class)) {
    assert.equal(c.support, 8);
    assert.equal(c.sensitivity_ci.length, 2);
  }
  assert.ok(json.ci[0] <= json.accuracy && json.accuracy <= json.ci[1]);
  const diag = json.confusion.reduce((a, row, i) => a + row[i], 0);
  assert.equal(json.accuracy, diag / 24);
  assert.match(r.stdout, /^accuracy: \d+\.\d % \(\d+\.\d–\d+\.\d\)/m);
  assert.match(r.stdout, /confusion matrix/);
  assert.match(r.stdout, /\| covid \| 8 \|/);

  // The same model through `cxr predict` (lib/train's own per-image predictor) gives the same accuracy.
  const files = ['covid', 'viral', 'normal'].flatMap((c) => fs.readdirSync(path.join(external, c)).map((f) => path.join(external, c, f)));
  const p = cli(['predict', '--run', run, '--json', '--uncalibrated', '--no-ood', ...files]);
  assert.equal(p.status, 0, p.stderr);
  const preds = p.stdout.trim().split('\n').map((l) => JSON.parse(l)) as { file: string; label: string }[];
  const correct = preds.filter((x) => path.basename(path.dirname(x.file)) === x.label).length;
  assert.equal(json.accuracy, correct / files.length);

  // Without --json: no JSON line.
  const plain = cli(['evaluate', '--run', run, '--data', external, '--quiet']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok(!plain.stdout.trim().split('\n').pop()!.startsWith('{'));
});

test('cxr evaluate names the bad run or data folder', { timeout: 60_000 }, () => {
  const noData = cli(['evaluate', '--run', run, '--data', path.join(root, 'nope'), '--quiet']);
  assert.notEqual(noData.status, 0);
  assert.match(noData.stderr, /^cxr: error: .*nope/m);
  const noRun = cli(['evaluate', '--run', root, '--data', external, '--quiet']);
  assert.notEqual(noRun.status, 0);
  assert.match(noRun.stderr, /^cxr: error: .*not a run folder/m);
  const fewResamples = cli(['evaluate', '--run', run, '--data', external, '--resamples', '10']);
  assert.equal(fewResamples.status, 64);
});

type GroupJson = { group: string; n: number; accuracy: { point: number; ci: [number, number] }; sensitivity: { point: number | null }; specificity: { point: number | null }; perClass: Record<string, { n: number }> };

test('cxr evaluate --by: merged folders scored per source, age group and dataset; JSON under "by"', { timeout: 180_000 }, () => {
  const one = cli(['evaluate', '--run', run, '--data', external, '--json', '--resamples', '1000', '--quiet']);
  assert.equal(one.status, 0, one.stderr);
  const alone = JSON.parse(one.stdout.trim().split('\n').pop()!) as { accuracy: number };

  const r = cli(['evaluate', '--run', run, '--data', external, '--data', adult, '--by', 'source,age_group', '--by', 'dataset', '--json', '--resamples', '1000', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!) as { n: number; by: Record<string, GroupJson[]> };
  assert.equal(json.n, 36);
  assert.deepEqual(Object.keys(json.by), ['source', 'age_group', 'dataset']);
  const groups = (key: string) => Object.fromEntries(json.by[key].map((g) => [g.group, g]));
  const dataset = groups('dataset');
  assert.deepEqual(Object.keys(dataset), ['adult', 'external']);
  assert.equal(dataset.external.n, 24);
  // The external folder's group is the same model on the same images as scoring that folder alone.
  assert.equal(dataset.external.accuracy.point, alone.accuracy);
  const age = groups('age_group');
  assert.deepEqual([age.adult.n, age.unknown.n], [12, 24]);
  const source = groups('source');
  assert.deepEqual(Object.keys(source), ['external', 'hospital-x', 'hospital-y']);
  // hospital-x holds COVID only: COVID specificity undefined; hospital-y holds none: COVID sensitivity undefined.
  assert.equal(source['hospital-x'].n, 4);
  assert.equal(source['hospital-x'].specificity.point, null);
  assert.equal(typeof source['hospital-x'].sensitivity.point, 'number');
  assert.equal(source['hospital-y'].sensitivity.point, null);
  assert.equal(source['hospital-y'].perClass.normal.n, 4);
  for (const g of json.by.source) assert.ok(g.accuracy.ci[0] <= g.accuracy.point && g.accuracy.point <= g.accuracy.ci[1]);
  assert.match(r.stdout, /^by source \(%/m);
  assert.match(r.stdout, /^source +n +patients +accuracy +sens covid +sens viral +sens normal +spec covid/m);
  assert.match(r.stdout, /^hospital-x +4 +4 +\d+\.\d/m);
  assert.match(r.stdout, /^by age group/m);
});

test("cxr evaluate without --data scores the run's own test split, grouped from its data folder", { timeout: 120_000 }, () => {
  const r = cli(['evaluate', '--run', run, '--by', 'dataset', '--json', '--resamples', '1000', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!) as { n: number; accuracy: number; by: Record<string, GroupJson[]> };
  const csv = fs.readFileSync(path.join(run, 'predictions.csv'), 'utf8').trim().split('\n');
  const tests = csv.filter((l) => l.split(',')[2] === 'test').length;
  assert.ok(tests > 0);
  assert.equal(json.n, tests);
  assert.equal(json.by.dataset.length, 1);
  assert.equal(json.by.dataset[0].group, 'data');
  assert.equal(json.by.dataset[0].accuracy.point, json.accuracy);
  assert.match(r.stdout, /^data: the run's test split \(/m);
});

test('cxr evaluate: an unknown --by key or --class-map without --data is a one-line usage error', { timeout: 60_000 }, () => {
  const bad = cli(['evaluate', '--run', run, '--data', external, '--by', 'hospital', '--quiet']);
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /^cxr: error: --by 'hospital': expected one of source, age_group, dataset/m);
  const map = cli(['evaluate', '--run', run, '--class-map', 'pneumonia=viral', '--quiet']);
  assert.equal(map.status, 64);
  assert.match(map.stderr, /^cxr: error: --class-map needs --data/m);
});
