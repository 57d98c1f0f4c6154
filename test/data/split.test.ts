import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABELS, type Label } from '../../lib/data/labels';
import { scanDataset } from '../../lib/data/scan';
import { leakageGroups, parseFractions, readSplitCsv, splitDataset, splitToCsvRows, SPLIT_CSV_COLUMNS } from '../../lib/data/split';
import { SPLIT_NAMES, type Dataset, type Sample, type Split } from '../../lib/data/types';
import { InputFileError } from '../../lib/errors';
import { writeCsvAtomic } from '../../lib/io/csv';
import { SHARED_DATA_DIR } from '../../lib/paths';

let real: Dataset | undefined;
async function realData(): Promise<Dataset> {
  real ??= await scanDataset(SHARED_DATA_DIR);
  return real;
}

function crossings(split: Split, key: (s: Sample) => string): string[] {
  const owner = new Map<string, string>();
  const crossed = new Set<string>();
  for (const name of SPLIT_NAMES) {
    for (const s of split[name]) {
      const k = key(s);
      if (owner.has(k) && owner.get(k) !== name) crossed.add(k);
      owner.set(k, name);
    }
  }
  return [...crossed];
}

function fake(file: string, label: Label, patientId: string, sha256 = file): Sample {
  return { file, path: '/x/' + file, label, patientId, dataset: 'd', source: 's', sha256, width: 1, height: 1, format: 'png', bytes: 1, channels: 1, bitDepth: 8 };
}

test('real data: no patient and no identical image in two splits, for several seeds', async () => {
  const ds = await realData();
  for (const seed of [0, 1, 42, 2024]) {
    const split = splitDataset(ds.samples, { seed });
    assert.equal(split.train.length + split.val.length + split.test.length, ds.samples.length);
    assert.deepEqual(crossings(split, (s) => s.patientId), [], `seed ${seed}: shared patients`);
    assert.deepEqual(crossings(split, (s) => s.sha256), [], `seed ${seed}: shared images`);
  }
});

test('real data: fractions held per class within 2 points, default 70/15/15', async () => {
  const ds = await realData();
  const split = splitDataset(ds.samples);
  assert.deepEqual(split.fractions, { train: 0.7, val: 0.15, test: 0.15 });
  for (const label of LABELS) {
    const total = ds.samples.filter((s) => s.label === label).length;
    for (const name of SPLIT_NAMES) {
      const share = split[name].filter((s) => s.label === label).length / total;
      assert.ok(Math.abs(share - split.fractions[name]) < 0.02, `${label} ${name}: ${share.toFixed(3)}`);
    }
  }
  const custom = splitDataset(ds.samples, { seed: 3, fractions: parseFractions('0.8,0,0.2') });
  assert.equal(custom.val.length, 0);
  assert.ok(Math.abs(custom.test.length / ds.samples.length - 0.2) < 0.02);
});

test('the split is deterministic for a seed, independent of input order, and changes with the seed', async () => {
  const ds = await realData();
  const files = (s: Split) => SPLIT_NAMES.map((n) => s[n].map((x) => x.file).join('|')).join('#');
  const a = splitDataset(ds.samples, { seed: 7 });
  const b = splitDataset([...ds.samples].reverse(), { seed: 7 });
  assert.equal(files(a), files(b));
  const c = splitDataset(ds.samples, { seed: 8 });
  assert.notEqual(files(a), files(c));
  const testFilesA = new Set(a.test.map((s) => s.file));
  const overlap = c.test.filter((s) => testFilesA.has(s.file)).length / c.test.length;
  assert.ok(overlap < 0.5, `test sets of seeds 7 and 8 overlap ${overlap}`);
});

test('identical images of different patients are kept together (transitively)', () => {
  const samples: Sample[] = [];
  for (let i = 0; i < 60; i++) samples.push(fake(`normal/${i}.png`, 'normal', `p${i}`));
  // p1 and p2 share an image; p2 and p3 share a patient id through another file: one group of four.
  samples.push(fake('normal/dup-of-1.png', 'normal', 'p2', 'normal/1.png'));
  samples.push(fake('normal/p3-too.png', 'normal', 'p3', 'normal/2.png'));
  const groups = leakageGroups(samples);
  const big = groups.find((g) => g.some((s) => s.file === 'normal/1.png'))!;
  assert.deepEqual(big.map((s) => s.patientId).sort(), ['p1', 'p2', 'p2', 'p3', 'p3']);
  for (let seed = 0; seed < 20; seed++) {
    const split = splitDataset(samples, { seed });
    assert.deepEqual(crossings(split, (s) => s.sha256), []);
    assert.deepEqual(crossings(split, (s) => s.patientId), []);
  }
});

test('bad fractions and seeds are usage errors', () => {
  assert.throws(() => parseFractions('0.7,0.2'), /three numbers/);
  assert.throws(() => parseFractions('0.7,0.2,0.2'), /sum to 1/);
  assert.throws(() => parseFractions('0.7,-0.1,0.4'), /non-negative/);
  assert.throws(() => splitDataset([], { seed: 1.5 }), /integer/);
});

test('split CSV round trip; a CSV with leakage, unknown files or wrong labels is refused', async () => {
  const ds = await realData();
  const split = splitDataset(ds.samples, { seed: 5 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-split-'));
  try {
    const rows = splitToCsvRows(split);
    const csv = path.join(dir, 'split.csv');
    writeCsvAtomic(csv, rows, SPLIT_CSV_COLUMNS);
    assert.equal(fs.readFileSync(csv, 'utf8').split('\n')[0], 'file,label,patient_id,split');
    const back = readSplitCsv(csv, ds);
    for (const name of SPLIT_NAMES) assert.deepEqual(back[name].map((s) => s.file), split[name].map((s) => s.file));
    assert.ok(Number.isNaN(back.seed));

    const bad = (name: string, edit: (r: typeof rows) => typeof rows, re: RegExp) => {
      const f = path.join(dir, name);
      writeCsvAtomic(f, edit(rows.map((r) => ({ ...r }))), SPLIT_CSV_COLUMNS);
      assert.throws(() => readSplitCsv(f, ds), (err: unknown) => err instanceof InputFileError && err.message.startsWith(f) && re.test(err.message));
    };
    const first = rows.findIndex((r, i) => r.split === 'train' && rows.some((o, j) => j > i && o.patient_id === r.patient_id));
    const mate = rows.findIndex((r, j) => j > first && r.patient_id === rows[first].patient_id);
    assert.ok(first >= 0 && mate > first, 'the real data has patients with several images');
    bad('leak.csv', (r) => { r[mate].split = 'test'; return r; }, /in both train and test \(leakage\)/);
    bad('unknown.csv', (r) => [...r, { file: 'covid/nope.png', label: 'covid', patient_id: 'x', split: 'train' }], /not in the data folder/);
    bad('label.csv', (r) => { r[0].label = r[0].label === 'covid' ? 'normal' : 'covid'; return r; }, /label .* but the data folder says/);
    bad('splitname.csv', (r) => { r[0].split = 'holdout'; return r; }, /split must be train, val or test/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
