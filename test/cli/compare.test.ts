import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { delongTest } from '../../lib/eval/delong';
import { mcnemarExact } from '../../lib/eval/mcnemar';
import { PROJECT_ROOT } from '../../lib/paths';
import { syntheticData, tempDir, trainTinyRun } from '../report/run-fixture';
import { makeSyntheticDataset } from '../train/helpers';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
let root: string;
let runA: string;
let runB: string;
let external: string;

function cli(args: string[]) {
  return spawnSync(process.execPath, [cxr, ...args], { encoding: 'utf8', env: process.env });
}

before(async () => {
  root = tempDir('cxr-compare-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  const data = await syntheticData(root, 12);
  // Two binary models of the same data that differ by their training seed.
  runA = await trainTinyRun(data, path.join(root, 'runs'), 'a', 'binary', 3);
  runB = await trainTinyRun(data, path.join(root, 'runs'), 'b', 'binary', 11);
  external = await makeSyntheticDataset(path.join(root, 'external'), 8, 7);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Each run's P(covid) of every external image, through `cxr predict` (one image at a time). */
function covidScores(run: string, files: string[]): number[] {
  const r = cli(['predict', '--run', run, '--json', '--uncalibrated', '--no-ood', ...files]);
  assert.equal(r.status, 0, r.stderr);
  return (r.stdout.trim().split('\n').map((l) => JSON.parse(l)) as { probabilities: Record<string, number> }[]).map((p) => p.probabilities.covid);
}

test('cxr compare of two binary runs: DeLong, McNemar and accuracy difference on the same images; JSON last', { timeout: 180_000 }, () => {
  const r = cli(['compare', '--runs', runA, runB, '--data', external, '--json', '--resamples', '1000', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const json = JSON.parse(lines[lines.length - 1]);
  assert.equal(json.n, 24);
  assert.deepEqual(json.runs, ['a', 'b']);

  // The same numbers from the images' scores under `cxr predict`.
  const files = ['covid', 'viral', 'normal'].flatMap((c) => fs.readdirSync(path.join(external, c)).map((f) => path.join(external, c, f)));
  const positive = files.map((f) => path.basename(path.dirname(f)) === 'covid');
  const a = covidScores(runA, files);
  const b = covidScores(runB, files);
  const d = delongTest(positive, a, b);
  assert.ok(Math.abs(json.delong.auc[0] - d.auc[0]) < 1e-6 && Math.abs(json.delong.auc[1] - d.auc[1]) < 1e-6, `${json.delong.auc} vs ${d.auc}`);
  if (d.p === null || !Number.isFinite(d.p)) assert.equal(json.delong.p, null);
  else assert.ok(Math.abs(json.delong.p - d.p) < 1e-4, `${json.delong.p} vs ${d.p}`);
  const right = (s: number[]) => s.map((v, i) => (v >= 0.5) === positive[i]);
  const m = mcnemarExact(right(a), right(b));
  assert.deepEqual(json.mcnemar, m);
  const accuracy = (s: number[]) => right(s).filter(Boolean).length / s.length;
  assert.ok(Math.abs(json.accuracy_diff - (accuracy(a) - accuracy(b))) < 1e-12);
  assert.ok(json.accuracy_diff_ci[0] <= json.accuracy_diff && json.accuracy_diff <= json.accuracy_diff_ci[1]);

  // Operating points: one per run, threshold from its validation split.
  assert.equal(json.operating_points.length, 2);
  for (const o of json.operating_points) {
    if (o.error) continue;
    assert.equal(o.class, 'covid');
    assert.ok(o.val_sensitivity >= 0.95);
    assert.deepEqual(o.predictive_values.map((v: { prevalence: number }) => v.prevalence), [0.01, 0.05, 0.2]);
  }
  assert.match(r.stdout, /\| a vs b \| 24 \(/);
  assert.match(r.stdout, /Operating point for covid/);
});

test('cxr compare refuses one run and a missing folder, in one line each', { timeout: 60_000 }, () => {
  const one = cli(['compare', '--runs', runA, '--data', external, '--quiet']);
  assert.equal(one.status, 64);
  assert.match(one.stderr, /^cxr: error: --runs needs at least two run folders/m);
  const noData = cli(['compare', '--runs', runA, runB, '--data', path.join(root, 'nope'), '--quiet']);
  assert.notEqual(noData.status, 0);
  assert.match(noData.stderr, /^cxr: error: .*nope/m);
  assert.doesNotMatch(noData.stderr, /\n\s+at /);
});
