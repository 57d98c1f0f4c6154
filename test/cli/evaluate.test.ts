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
  const p = cli(['predict', '--run', run, '--json', ...files]);
  assert.equal(p.status, 0, p.stderr);
  const preds = JSON.parse(p.stdout) as { file: string; predicted: string }[];
  const correct = preds.filter((x) => path.basename(path.dirname(x.file)) === x.predicted).length;
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
