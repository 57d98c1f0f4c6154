import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABELS, type Label } from '../../lib/data/labels';
import type { Sample } from '../../lib/data/types';
import { crossTab } from '../../lib/explore/dataset';

// danfojs-node loads tfjs-node's native binding (built by the project's set-up); CXR_SKIP_NATIVE_TESTS=1 skips.
const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

const images: [Label, string, number][] = [
  ['covid', 'github', 800], ['covid', 'github', 600], ['covid', 'paper', 400], ['viral', 'kaggle', 1000], ['normal', 'kaggle', 1200],
];
const samples = images.map(
  ([label, source, width], i) =>
    ({
      file: `${label}/${i}.jpg`, path: `/d/${label}/${i}.jpg`, label, patientId: `p${i % 2}`, source, sha256: String(i),
      width, height: 500, format: 'jpeg', bytes: 100 * (i + 1), channels: 1, bitDepth: 8, ageGroup: 'adult(age=60)',
    }) as Sample,
);

test('samplesFrame: one row per image with the shortcut properties as columns', { skip }, async () => {
  const { samplesFrame } = await import('../../lib/explore/frame');
  const df = samplesFrame(samples);
  assert.deepEqual(df.columns, ['file', 'label', 'patient', 'width', 'height', 'bytes', 'age group', 'source', 'format', 'colour', 'size bin', 'aspect']);
  assert.equal(df.shape[0], samples.length);
  assert.equal(df.size, samples.length * df.columns.length, 'no column hides a DataFrame member');
  assert.deepEqual((df.values[0] as unknown[]).slice(0, 8), ['covid/0.jpg', 'covid', 'p0', 800, 500, 100, 'adult', 'github']);
});

test('samplesFrame: images per class × source by groupby agree with crossTab', { skip }, async () => {
  const { samplesFrame } = await import('../../lib/explore/frame');
  const counts = samplesFrame(samples).groupby(['label', 'source']).col(['file']).count();
  const byGroup = new Map((counts.values as [string, string, number][]).map(([l, s, n]) => [`${l}/${s}`, n]));
  const tab = crossTab(samples, (s) => s.source);
  const expected = new Map<string, number>();
  tab.values.forEach((v, i) => tab.counts[i].forEach((n, c) => n && expected.set(`${LABELS[c]}/${v}`, n)));
  assert.deepEqual(byGroup, expected);
});

test('samplesFrame: describe() gives the size statistics', { skip }, async () => {
  const { samplesFrame } = await import('../../lib/explore/frame');
  const d = samplesFrame(samples).loc({ columns: ['width', 'bytes'] }).describe();
  const row = (name: string) => d.values[d.index.indexOf(name)] as number[];
  assert.deepEqual(row('count'), [5, 5]);
  assert.deepEqual(row('mean'), [800, 300]);
  assert.deepEqual(row('max'), [1200, 500]);
});
