import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { auditConfounds, formatConfounds } from '../../lib/data/confounds';
import { parseClassMap, labelForFolder } from '../../lib/data/labels';
import { datasetNames, differenceHash, hammingDistance, loadData } from '../../lib/data/merge';
import { ageGroupOf, sourceOf } from '../../lib/data/provenance';
import { leakageGroups, splitDataset } from '../../lib/data/split';
import { summarize } from '../../lib/data/summary';
import { UsageError } from '../../lib/errors';
import { patternImage, snapshot, writeTree } from './synth';

/** A smooth seeded grey picture (a few broad blobs), structured at the scale a difference hash sees, as X-rays are. */
async function noiseJpeg(seed: number, size = 64): Promise<Buffer> {
  let x = (seed * 2654435761) >>> 0;
  const rand = () => ((x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const blobs = Array.from({ length: 6 }, () => ({ cx: rand() * size, cy: rand() * size, r: size * (0.1 + 0.2 * rand()), a: rand() * 2 - 1 }));
  const v = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let i = 0; i < size; i++) v[y * size + i] = blobs.reduce((t, b) => t + b.a * Math.exp(-((i - b.cx) ** 2 + (y - b.cy) ** 2) / (2 * b.r * b.r)), 0);
  }
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const px = Buffer.from(Array.from(v, (t) => Math.round((255 * (t - lo)) / (hi - lo))));
  return sharp(px, { raw: { width: size, height: size, channels: 1 } }).jpeg({ quality: 95 }).toBuffer();
}

test('ageGroupOf and sourceOf: manifest strings to canonical groups', () => {
  assert.equal(ageGroupOf('adult(age=80)'), 'adult');
  assert.equal(ageGroupOf('adult_or_unknown(age=65)'), 'adult');
  assert.equal(ageGroupOf('adult_or_unknown(age=12)'), 'paediatric');
  assert.equal(ageGroupOf('pediatric'), 'paediatric');
  assert.equal(ageGroupOf('unknown(not stated; adult by appearance)'), 'unknown');
  assert.equal(ageGroupOf('045Y'), 'adult');
  assert.equal(ageGroupOf('007M'), 'paediatric');
  assert.equal(ageGroupOf(undefined), 'unknown');
  assert.equal(sourceOf({ source_dataset: 'NIH ChestX-ray14 (NIH Clinical Center, Bethesda MD, USA)', source_repo: 'a/b' }), 'NIH ChestX-ray14');
  assert.equal(sourceOf({ source_dataset: 'ieee8023/covid-chestxray-dataset (fork); finding=COVID-19' }), 'ieee8023/covid-chestxray-dataset');
  assert.equal(sourceOf({ source: 'mine', source_dataset: 'x' }), 'mine');
  assert.equal(sourceOf({ source_repo: 'org/repo' }), 'org/repo');
});

test('parseClassMap: NAME=CLASS, repeatable and comma-separated; bad values are one-line usage errors', () => {
  assert.deepEqual(parseClassMap(['pneumonia=viral', 'Bacteria=virus,other=normal']), { pneumonia: 'viral', bacteria: 'viral', other: 'normal' });
  assert.equal(labelForFolder('Pneumonia', { pneumonia: 'viral' }), 'viral');
  assert.equal(labelForFolder('pneumonia'), undefined);
  assert.throws(() => parseClassMap(['pneumonia=bacterial']), UsageError);
  assert.throws(() => parseClassMap(['pneumonia']), /expected FOLDER=CLASS/);
});

test('datasetNames: base names, made unique', () => {
  assert.deepEqual(datasetNames(['/a/cxr-data', '/b/cxr-data', '/c/adult']), ['cxr-data', 'cxr-data-2', 'adult']);
});

test('differenceHash: a rescaled, recompressed copy is near; another image is far', async () => {
  const dir = writeTree({});
  try {
    const a = await noiseJpeg(1, 96);
    fs.writeFileSync(path.join(dir, 'a.jpg'), a);
    fs.writeFileSync(path.join(dir, 'a-small.png'), await sharp(a).resize(72, 72).png().toBuffer());
    fs.writeFileSync(path.join(dir, 'b.jpg'), await noiseJpeg(2, 96));
    const [ha, hs, hb] = await Promise.all(['a.jpg', 'a-small.png', 'b.jpg'].map((f) => differenceHash(path.join(dir, f))));
    assert.ok(hammingDistance(ha, hs) <= 10, `copy distance ${hammingDistance(ha, hs)}`);
    assert.ok(hammingDistance(ha, hb) > 60, `other image distance ${hammingDistance(ha, hb)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadData: two folders merged, keys and patients namespaced, cross-folder duplicates tied, class map recorded, nothing written', async () => {
  const shared = await noiseJpeg(7);
  const one = writeTree({
    'covid/c1.jpg': await noiseJpeg(10),
    'covid/c2.jpg': await noiseJpeg(11),
    'normal/n1.jpg': await noiseJpeg(12),
    'normal/same.jpg': shared,
    'manifest.csv': 'file,label,patient_id,source_dataset,age_group\ncovid/c1.jpg,covid,p1,Hospital A (city),adult(age=50)\ncovid/c2.jpg,covid,p2,Hospital A (city),adult(age=60)\nnormal/n1.jpg,normal,p1,Kids (x),pediatric\nnormal/same.jpg,normal,p3,Kids (x),pediatric\n',
  });
  const two = writeTree({
    'normal/n2.jpg': await noiseJpeg(20),
    'normal/copy.png': await sharp(shared).resize(50, 50).png().toBuffer(),
    'pneumonia/pn1.jpg': await noiseJpeg(21),
    'other/x.jpg': await noiseJpeg(22),
  });
  try {
    const before = [snapshot(one), snapshot(two)];
    const ds = await loadData([one, two], { classMap: { pneumonia: 'viral' } });
    const n1 = path.basename(one);
    const n2 = path.basename(two);
    assert.deepEqual(ds.folders.map((f) => f.name), [n1, n2]);
    assert.equal(ds.samples.length, 7);
    const byFile = new Map(ds.samples.map((s) => [s.file, s]));
    assert.equal(byFile.get(`${n1}/covid/c1.jpg`)!.patientId, `${n1}:p1`);
    assert.equal(byFile.get(`${n1}/covid/c1.jpg`)!.source, 'Hospital A');
    assert.equal(byFile.get(`${n2}/pneumonia/pn1.jpg`)!.label, 'viral');
    assert.equal(byFile.get(`${n2}/normal/n2.jpg`)!.source, n2, 'without a manifest the dataset is the source');
    assert.ok(ds.problems.some((p) => p.file === `${n2}/other/` && /--class-map other=/.test(p.reason)));
    assert.ok(ds.notes.some((n) => /pneumonia\/ read as class viral/.test(n)));
    // The re-encoded copy in the second folder is tied to its original: one group, one side of every split.
    const copy = byFile.get(`${n2}/normal/copy.png`)!;
    const orig = byFile.get(`${n1}/normal/same.jpg`)!;
    assert.ok(copy.imageGroup && copy.imageGroup === orig.imageGroup);
    assert.ok(ds.notes.some((n) => /1 near-duplicate image pair/.test(n)));
    assert.ok(leakageGroups(ds.samples).some((g) => g.includes(copy) && g.includes(orig)));
    for (const seed of [1, 2, 3]) {
      const split = splitDataset(ds.samples, { seed });
      const where = (s: typeof copy) => (['train', 'val', 'test'] as const).find((k) => split[k].includes(s));
      assert.equal(where(copy), where(orig));
    }
    const summary = summarize(ds);
    assert.deepEqual(Object.keys(summary.perDataset).sort(), [n1, n2].sort());
    assert.equal(summary.classMap.pneumonia, 'viral');
    assert.deepEqual([snapshot(one), snapshot(two)], before);
    await assert.rejects(loadData([one, one]), /given twice/);
  } finally {
    fs.rmSync(one, { recursive: true, force: true });
    fs.rmSync(two, { recursive: true, force: true });
  }
});

test('loadData: one folder is scanned exactly as before (no prefixes)', async () => {
  const dir = writeTree({ 'covid/a.png': await patternImage(8, 8, 1), 'normal/b.png': await patternImage(8, 8, 2) });
  try {
    const ds = await loadData([dir]);
    assert.deepEqual(ds.samples.map((s) => s.file), ['covid/a.png', 'normal/b.png']);
    assert.equal(ds.samples[0].dataset, path.basename(dir));
    assert.ok(!ds.samples[0].patientId.startsWith(path.basename(dir)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('auditConfounds: a class confined to one age group and one format is flagged; a balanced property is not', () => {
  const mk = (label: 'covid' | 'viral' | 'normal', age: string, format: string, i: number) => ({
    file: `${label}/${i}`, path: '', label, patientId: `${label}${i}`, dataset: 'd', source: i % 2 ? 'a' : 'b', sha256: String(i),
    width: 100, height: 100, format, bytes: 1, channels: 1, bitDepth: 8, ageGroup: age,
  });
  const samples = [
    ...Array.from({ length: 20 }, (_, i) => mk('covid', 'adult(age=60)', 'png', i)),
    ...Array.from({ length: 20 }, (_, i) => mk('normal', 'pediatric', 'jpeg', i)),
  ];
  const audit = auditConfounds(samples);
  assert.equal(audit.majority, 0.5);
  const age = audit.rows.find((r) => r.property === 'age group')!;
  assert.equal(age.predictability, 1);
  assert.deepEqual(age.table.adult, { covid: 20, viral: 0, normal: 0 });
  assert.ok(audit.warnings.some((w) => /^age group adult: 100 % of its 20 images are covid, and 100 % of covid images/.test(w)));
  assert.ok(audit.warnings.some((w) => /^format png: 100 %/.test(w)));
  assert.equal(audit.rows.find((r) => r.property === 'source')!.predictability, 0.5);
  assert.ok(!audit.warnings.some((w) => w.startsWith('source')));
  assert.match(formatConfounds(audit), /class from age group: 100 %/);
});
