import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Label } from '../../lib/data/labels';
import type { Sample } from '../../lib/data/types';
import {
  ageGroup, aspectBin, byClass, classCounts, colourKind, crossTab, imagesPerPatient, pickPerClass, shortcutTable, sizeBin,
} from '../../lib/explore/dataset';

let n = 0;
function sample(label: Label, over: Partial<Sample> = {}): Sample {
  n += 1;
  return {
    file: `${label}/${n}.png`, path: `/data/${label}/${n}.png`, label, patientId: `p${n}`, dataset: 'data', source: 'src',
    sha256: n.toString(16).padStart(64, '0'), width: 800, height: 600, format: 'jpeg', bytes: 1000, channels: 1, bitDepth: 8,
    ...over,
  };
}

test('crossTab: values most frequent first, counts per class in LABELS order', () => {
  const s = [sample('covid', { source: 'b' }), sample('normal', { source: 'a' }), sample('covid', { source: 'a' }), sample('viral', { source: 'c' })];
  assert.deepEqual(crossTab(s, (x) => x.source), { values: ['a', 'b', 'c'], counts: [[1, 0, 1], [1, 0, 0], [0, 1, 0]] });
});

test('classCounts and imagesPerPatient count patients within a class', () => {
  const s = [
    sample('covid', { patientId: 'x' }), sample('covid', { patientId: 'x' }), sample('covid', { patientId: 'y' }),
    sample('normal', { patientId: 'x' }), // same id in another class is another patient there
  ];
  assert.deepEqual(classCounts(s), { covid: { images: 3, patients: 2 }, viral: { images: 0, patients: 0 }, normal: { images: 1, patients: 1 } });
  const per = imagesPerPatient(s);
  assert.deepEqual([...per.covid].sort(), [1, 2]);
  assert.deepEqual(per.viral, []);
  assert.deepEqual(per.normal, [1]);
  assert.deepEqual(Object.keys(byClass(s)), ['covid', 'viral', 'normal']);
});

test('pickPerClass: the same picks whatever the input order, paged by offset', () => {
  const s = Array.from({ length: 10 }, (_, i) => sample(i % 2 ? 'viral' : 'normal'));
  const a = pickPerClass(s, 2);
  const b = pickPerClass([...s].reverse(), 2);
  assert.deepEqual(a, b);
  assert.equal(a.normal.length, 2);
  assert.equal(a.covid.length, 0);
  const next = pickPerClass(s, 2, 2);
  assert.ok(next.viral.every((x) => !a.viral.includes(x)));
});

test('bins and labels of sample properties', () => {
  assert.equal(aspectBin({ width: 500, height: 700 }), 'portrait (<0.9)');
  assert.equal(aspectBin({ width: 700, height: 700 }), 'square (0.9–1.1)');
  assert.equal(aspectBin({ width: 768, height: 500 }), 'landscape (>1.1)');
  assert.equal(sizeBin({ width: 300, height: 511 }), '<512 px');
  assert.equal(sizeBin({ width: 768, height: 600 }), '768–1023 px');
  assert.equal(sizeBin({ width: 100, height: 4000 }), '≥2048 px');
  assert.equal(colourKind({ channels: 3, bitDepth: 8 }), 'RGB 8-bit');
  assert.equal(colourKind({ channels: 1, bitDepth: 16 }), 'grey 16-bit');
  assert.equal(ageGroup({ ageGroup: 'adult_or_unknown(age=65)' }), 'adult_or_unknown');
  assert.equal(ageGroup({ ageGroup: 'pediatric(1-5y)' }), 'pediatric');
  assert.equal(ageGroup({}), 'unknown');
});

test('shortcutTable: class make-up per value, and accuracy of guessing from the value alone', () => {
  // format separates covid perfectly; source says nothing.
  const s = [
    ...Array.from({ length: 4 }, (_, i) => sample('covid', { format: 'png', source: i % 2 ? 'a' : 'b' })),
    ...Array.from({ length: 4 }, (_, i) => sample('viral', { format: 'jpeg', source: i % 2 ? 'a' : 'b' })),
    ...Array.from({ length: 2 }, (_, i) => sample('normal', { format: 'jpeg', source: i % 2 ? 'a' : 'b' })),
  ];
  const { rows, leaks } = shortcutTable(s, [
    { name: 'format', key: (x) => x.format },
    { name: 'source', key: (x) => x.source },
  ]);
  const png = rows.find((r) => r.attribute === 'format' && r.value === 'png')!;
  assert.deepEqual(png.perClass, { covid: 4, viral: 0, normal: 0 });
  assert.deepEqual(png.classShare, { covid: 100, viral: 0, normal: 0 });
  assert.equal(png.dominant, 'covid');
  const jpeg = rows.find((r) => r.value === 'jpeg')!;
  assert.equal(jpeg.dominant, 'viral');
  assert.ok(Math.abs(jpeg.dominantShare - 66.667) < 0.01);
  // format: 4 covid + 4 viral right of 10; source: majority of each source (2 covid or 2 viral) = 4 of 10.
  assert.deepEqual(leaks, [
    { attribute: 'format', values: 2, accuracy: 80, baseline: 40 },
    { attribute: 'source', values: 2, accuracy: 40, baseline: 40 },
  ]);
});
