import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanDataset } from '../../lib/data/scan';
import { InputFileError } from '../../lib/errors';
import { encodePng, patternImage, pngClaimingSize, sha256, snapshot, writeTree } from './synth';

async function messyFolder(): Promise<string> {
  const jpeg = await patternImage(16, 12, 1, 'jpeg');
  const png = await patternImage(10, 10, 2);
  const dicom = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]);
  const root = writeTree({
    'covid/a.jpg': jpeg,
    'covid/a-copy.jpeg': jpeg,
    'normal/same-as-covid.png': png,
    'viral/also-same.png': png,
    'viral/wrong-extension.jpg': png,
    'viral/sub/nested.webp': await patternImage(6, 6, 3, 'webp'),
    'viral/zero.jpg': Buffer.alloc(0),
    'viral/truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
    'viral/truncated.png': png.subarray(0, png.length - 20),
    'normal/notes.png': 'this is text, not a PNG\n',
    'normal/scan.dcm': dicom,
    'normal/.DS_Store': 'ignored',
    'bacteria/x.png': png,
  });
  fs.mkdirSync(path.join(root, 'normal', 'empty-sub'));
  fs.symlinkSync('loop', path.join(root, 'normal', 'loop'));
  fs.symlinkSync(path.join(root, 'normal'), path.join(root, 'normal', 'again'));
  fs.writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'viral') + '/'), Buffer.from([0x62, 0xff, 0x2e, 0x70, 0x6e, 0x67])]), png);
  return root;
}

test('a scan skips bad files with reasons, finds duplicates across classes, and never writes', async () => {
  const root = await messyFolder();
  try {
    const before = snapshot(root);
    const ds = await scanDataset(root);
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(ds.samples.map((s) => s.file), [
      'covid/a-copy.jpeg',
      'covid/a.jpg',
      'normal/same-as-covid.png',
      'viral/also-same.png',
      'viral/sub/nested.webp',
      'viral/wrong-extension.jpg',
    ]);
    const reasons = Object.fromEntries(ds.problems.map((p) => [p.file, p.reason]));
    assert.match(reasons['viral/zero.jpg'], /empty file \(0 bytes\)/);
    assert.match(reasons['viral/truncated.jpg'], /truncated JPEG/);
    assert.match(reasons['viral/truncated.png'], /truncated PNG/);
    assert.match(reasons['normal/notes.png'], /not an image/);
    assert.match(reasons['normal/scan.dcm'], /no Transfer Syntax UID/);
    assert.match(reasons['bacteria/'], /unknown class folder/);
    assert.match(reasons['normal/loop'], /symbolic link loop/);
    assert.match(reasons['normal/again/'], /loop/);
    assert.ok(ds.problems.some((p) => /not valid UTF-8/.test(p.reason)), JSON.stringify(ds.problems));
    assert.equal(ds.duplicates.length, 2);
    assert.deepEqual(ds.duplicates.map((g) => g.map((s) => s.file)), [
      ['covid/a-copy.jpeg', 'covid/a.jpg'],
      ['normal/same-as-covid.png', 'viral/also-same.png', 'viral/wrong-extension.jpg'],
    ]);
    const webp = ds.samples.find((s) => s.file === 'viral/sub/nested.webp')!;
    assert.deepEqual([webp.format, webp.width, webp.height, webp.label], ['webp', 6, 6, 'viral']);
    assert.equal(ds.samples.find((s) => s.file === 'viral/wrong-extension.jpg')!.format, 'png');
    assert.ok(ds.notes.some((n) => /extension does not match/.test(n)));
    assert.ok(ds.notes.some((n) => /2 group\(s\) of identical images/.test(n)));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('strict: the first bad file throws an InputFileError naming it', async () => {
  const root = writeTree({ 'covid/ok.png': await patternImage(4, 4, 1), 'covid/zero.png': Buffer.alloc(0) });
  try {
    await assert.rejects(scanDataset(root, { strict: true }), (err: unknown) => {
      assert.ok(err instanceof InputFileError);
      assert.equal(err.file, path.join(root, 'covid/zero.png'));
      assert.match(err.message, /zero\.png: empty file/);
      return true;
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('header facts: size, channels, bit depth; pixel limit refuses a claimed 60000x60000 image', async () => {
  const grey16 = encodePng({ width: 3, height: 2, colourType: 0, depth: 16, samples: [0, 1, 2, 3, 4, 5] });
  const bomb = pngClaimingSize(60000, 60000);
  const root = writeTree({ 'normal/g16.png': grey16, 'normal/bomb.png': bomb });
  try {
    const ds = await scanDataset(root);
    const s = ds.samples.find((x) => x.file === 'normal/g16.png')!;
    assert.deepEqual([s.width, s.height, s.channels, s.bitDepth, s.bytes, s.sha256], [3, 2, 1, 16, grey16.length, sha256(grey16)]);
    assert.equal(ds.samples.length, 1);
    assert.match(ds.problems[0].reason, /60000x60000 pixels is over the limit .*decompression bomb/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a manifest that disagrees with the files: missing, extra, wrong hash, wrong label are reported', async () => {
  const a = await patternImage(5, 5, 1);
  const b = await patternImage(5, 5, 2);
  const root = writeTree({
    'covid/a.png': a,
    'covid/b.png': b,
    'covid/extra.png': await patternImage(5, 5, 3),
    'viral/person3_virus_5.png': await patternImage(5, 5, 4),
    'normal/moved.png': await patternImage(5, 5, 5),
    'manifest.csv': [
      'file,label,patient_id,source,view,age_group,sha256',
      `covid/a.png,covid,P1,srcA,PA,adult(age=40),${sha256(a)}`,
      `covid/b.png,covid,P2,srcA,AP,,${sha256(a)}`,
      'covid/gone.png,covid,P3,srcA,,,',
      'viral/person3_virus_5.png,virus,,,,,',
      'normal/moved.png,viral,P5,,,,',
    ].join('\n'),
  });
  try {
    const ds = await scanDataset(root);
    assert.equal(ds.hasManifest, true);
    const reasons = Object.fromEntries(ds.problems.map((p) => [p.file, p.reason]));
    assert.match(reasons['covid/b.png'], /content differs from manifest\.csv/);
    assert.match(reasons['covid/gone.png'], /listed in manifest\.csv but missing/);
    assert.match(reasons['covid/extra.png'], /not listed in manifest\.csv/);
    assert.match(reasons['normal/moved.png'], /says viral but the file is in a normal folder/);
    assert.deepEqual(
      ds.samples.map((s) => [s.file, s.patientId, s.source, s.view, s.ageGroup]),
      [
        ['covid/a.png', 'P1', 'srcA', 'PA', 'adult(age=40)'],
        // No source in the manifest row: the data folder is the source.
        ['viral/person3_virus_5.png', 'person3', path.basename(root), undefined, undefined],
      ],
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('no class folders, or a missing folder, is a clear error', async () => {
  const root = writeTree({ 'images/x.png': await patternImage(4, 4, 1) });
  try {
    await assert.rejects(scanDataset(root), /no class folders found/);
    await assert.rejects(scanDataset(path.join(root, 'nope')), /nope: no such data folder/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the real data: 1,823 images scanned with the manifest, no problems, hashes verified, folder untouched', async () => {
  const { SHARED_DATA_DIR } = await import('../../lib/paths');
  const before = snapshot(SHARED_DATA_DIR, false);
  const started = Date.now();
  const ds = await scanDataset(SHARED_DATA_DIR);
  assert.equal(ds.samples.length, 1823);
  assert.deepEqual(ds.problems, []);
  assert.equal(ds.hasManifest, true);
  assert.equal(new Set(ds.samples.map((s) => s.patientId)).size, 1511);
  assert.ok(Date.now() - started < 30_000, `scan took ${Date.now() - started} ms`);
  assert.deepEqual(snapshot(SHARED_DATA_DIR, false), before);
});
