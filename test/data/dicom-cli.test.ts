import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../../lib/paths';
import { CANARIES, agreement, makeDicomFixtures, noPython } from './dicom-fixtures';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cxr, ...args], { encoding: 'utf8' });
/** Every output of every command, checked for the canary patient data at the end. */
const outputs: string[] = [];
const logged = (...args: string[]) => {
  const r = run(...args);
  outputs.push(r.stdout, r.stderr);
  return r;
};

let fx: Awaited<ReturnType<typeof makeDicomFixtures>> | undefined;
before(async () => {
  if (!noPython) fx = await makeDicomFixtures();
});
after(() => fx?.cleanup());

test('cxr enhance X.dcm out.png --keep-size --no-white-balance --no-clahe equals pydicom\'s display within 1 grey level', { skip: noPython }, async () => {
  for (const name of ['mono1-12bit-window-linear', 'signed-16bit-rescale-window', 'jpegls-12bit-window']) {
    const c = fx!.cases.find((x) => x.name === name)!;
    const out = path.join(fx!.dir, `${name}.png`);
    const r = logged('enhance', path.join(fx!.dir, c.file), out, '--keep-size', '--no-white-balance', '--no-clahe');
    assert.equal(r.status, 0, r.stderr);
    const png = await sharp(out).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([png.info.width, png.info.height, png.info.channels], [c.width, c.height, 1]);
    const { within1 } = agreement(new Uint8Array(png.data), fs.readFileSync(path.join(fx!.dir, c.ref!)));
    assert.ok(within1 >= 0.999, `${name}: ${within1}`);
  }
});

test('cxr enhance on a malformed DICOM: one line naming the file, nothing written', { skip: noPython }, () => {
  for (const name of ['truncated-pixel-data', 'structured-report']) {
    const out = path.join(fx!.dir, `${name}.png`);
    const r = logged('enhance', path.join(fx!.dir, `${name}.dcm`), out);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(`${name}.dcm: `), r.stderr);
    assert.equal(fs.existsSync(out), false);
  }
});

test('cxr data summary --json on DICOM class folders counts images and patients by PatientID; lateral and report files skipped', { skip: noPython }, () => {
  const r = logged('data', 'summary', '--data', path.join(fx!.dir, 'data'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.images, 6);
  assert.equal(s.patients, 3);
  assert.deepEqual(s.perClass.covid, { images: 4, patients: 2 });
  assert.deepEqual(s.perClass.normal, { images: 2, patients: 1 });
  assert.deepEqual(s.problems.map((p: { file: string }) => p.file), ['normal/lateral.dcm', 'normal/report.dcm']);
  assert.match(JSON.stringify(s.problems), /lateral view/);
  assert.match(JSON.stringify(s.notes), /DICOM PatientID \(salted hash\) for 6 image/);
  const text = logged('data', 'summary', '--data', path.join(fx!.dir, 'data'));
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /images: 6 {3}patients: 3/);
});

test('cxr data split writes hashed patient ids, never the PatientID', { skip: noPython }, () => {
  const out = path.join(fx!.dir, 'split.csv');
  const r = logged('data', 'split', '--data', path.join(fx!.dir, 'data'), '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const csv = fs.readFileSync(out, 'utf8');
  outputs.push(csv);
  assert.match(csv, /dicom:[0-9a-f]{16}/);
});

test('cxr dicom info: safe fields and the pipeline; canary patient data appear in no output', { skip: noPython }, () => {
  const r = logged('dicom', 'info', path.join(fx!.dir, 'signed-16bit-rescale-window.dcm'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /transfer syntax Explicit VR Little Endian/);
  assert.match(r.stdout, /patient +dicom:[0-9a-f]{16} \(salted hash of PatientID\)/);
  assert.match(r.stdout, /1\. stored values: 16 of 16 bits \(high bit 15\), signed/);
  assert.match(r.stdout, /2\. modality: value × 2 − 1024/);
  assert.match(r.stdout, /3\. VOI: window centre 0 width 90000, LINEAR/);
  const json = JSON.parse(logged('dicom', 'info', path.join(fx!.dir, 'mono1-12bit-minmax.dcm'), '--json').stdout);
  assert.match(json.pipeline.join('\n'), /min–max[\s\S]*MONOCHROME1: inverted/);
  const bad = logged('dicom', 'info', path.join(fx!.dir, 'corrupt-jpegls.dcm'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /corrupt-jpegls\.dcm: corrupt JPEG-LS/);
  assert.ok(outputs.length >= 10);
  for (const text of outputs) for (const canary of CANARIES) assert.ok(!text.includes(canary), `${canary} in: ${text.slice(0, 300)}`);
});
