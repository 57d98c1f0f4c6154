import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldSplit, foldsToCsvRows, kFolds } from '../../lib/data/folds';
import { LABELS, type Label } from '../../lib/data/labels';
import type { Sample } from '../../lib/data/types';
import { mulberry32 } from '../../lib/random';

function fake(file: string, label: Label, patientId: string, sha256 = file): Sample {
  return { file, path: '/x/' + file, label, patientId, dataset: 'd', source: 's', sha256, width: 1, height: 1, format: 'png', bytes: 1, channels: 1, bitDepth: 8 };
}

/** Patients with 1–3 images each, unequal classes, and two images shared by content across patients. */
function dataset(seed: number): Sample[] {
  const random = mulberry32(seed);
  const out: Sample[] = [];
  const sizes: Record<Label, number> = { covid: 23, viral: 31, normal: 40 };
  for (const label of LABELS) {
    for (let p = 0; p < sizes[label]; p++) {
      const n = 1 + Math.floor(random() * 3);
      for (let i = 0; i < n; i++) out.push(fake(`${label}/${label}${p}_${i}.png`, label, `${label}-${p}`));
    }
  }
  out.push(fake('normal/dup_a.png', 'normal', 'x1', 'same'), fake('normal/dup_b.png', 'normal', 'x2', 'same'));
  return out;
}

function owners(folds: Sample[][], key: (s: Sample) => string): Map<string, Set<number>> {
  const m = new Map<string, Set<number>>();
  folds.forEach((f, i) => f.forEach((s) => m.set(key(s), (m.get(key(s)) ?? new Set()).add(i))));
  return m;
}

test('K folds: every image once, every patient and identical image in one fold, class shares kept', () => {
  const samples = dataset(1);
  for (const k of [2, 5]) {
    const { folds } = kFolds(samples, { k, seed: 7 });
    assert.equal(folds.length, k);
    assert.deepEqual(folds.flat().map((s) => s.file).sort(), samples.map((s) => s.file).sort());
    for (const [key, where] of [...owners(folds, (s) => s.patientId), ...owners(folds, (s) => s.sha256)]) assert.equal(where.size, 1, `${key} in folds ${[...where]}`);
    for (const label of LABELS) {
      const counts = folds.map((f) => f.filter((s) => s.label === label).length);
      // Groups hold at most 3 images, so greedy filling keeps each class within 3 images across folds.
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 3, `k ${k} ${label}: ${counts}`);
    }
  }
});

test('K folds are deterministic for a seed whatever the input order, and change with the seed', () => {
  const samples = dataset(2);
  const files = (f: ReturnType<typeof kFolds>) => f.folds.map((x) => x.map((s) => s.file));
  const a = kFolds(samples, { k: 4, seed: 3 });
  assert.deepEqual(files(kFolds([...samples].reverse(), { k: 4, seed: 3 })), files(a));
  assert.notDeepEqual(files(kFolds(samples, { k: 4, seed: 4 })), files(a));
});

test('a fold round: the fold is test, the rest splits into train and val by patient; CSV lists every image with its fold', () => {
  const samples = dataset(3);
  const f = kFolds(samples, { k: 5, seed: 1 });
  const round = foldSplit(f, 2);
  assert.deepEqual(round.test, f.folds[2]);
  assert.equal(round.train.length + round.val.length + round.test.length, samples.length);
  const patients = (xs: Sample[]) => new Set(xs.map((s) => s.patientId));
  for (const [x, y] of [[round.train, round.val], [round.train, round.test], [round.val, round.test]] as const) {
    assert.equal([...patients(x)].filter((p) => patients(y).has(p)).length, 0);
  }
  assert.ok(Math.abs(round.val.length / (round.train.length + round.val.length) - 0.15) < 0.05);
  const rows = foldsToCsvRows(f);
  assert.equal(rows.length, samples.length);
  assert.deepEqual(Object.keys(rows[0]), ['file', 'label', 'patient_id', 'fold']);
  assert.equal(rows.filter((r) => r.fold === '2').length, f.folds[2].length);
  assert.throws(() => foldSplit(f, 5), RangeError);
});

test('K folds refuse k < 2 and more folds than patients', () => {
  const samples = dataset(4).slice(0, 3);
  assert.throws(() => kFolds(samples, { k: 1 }), /folds ≥ 2/);
  assert.throws(() => kFolds(samples, { k: 10 }), /at least 10 patients/);
});
