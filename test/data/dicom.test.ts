import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage } from '../../lib/data/decode';
import { decodeDicom } from '../../lib/data/dicom/image';
import { displayGrey, lookUp, storedValues, windowValue } from '../../lib/data/dicom/pixels';
import { ageGroupFromAge } from '../../lib/data/dicom/sample';
import { probeImage } from '../../lib/data/probe';
import { InputFileError } from '../../lib/errors';
import { agreement, makeDicomFixtures, noPython, type DicomCase } from './dicom-fixtures';

test('stored values: the Bits Stored bits ending at High Bit, sign-extended when signed', () => {
  // 0xF123: bits above High Bit 11 are garbage (an overlay) and must not count.
  const bytes = new Uint8Array([0x23, 0xf1, 0xff, 0x0f, 0x00, 0x08]);
  const layout = { bitsAllocated: 16, bitsStored: 12, highBit: 11, littleEndian: true };
  assert.deepEqual([...storedValues(bytes, 3, { ...layout, pixelRepresentation: 0 })], [0x123, 4095, 2048]);
  assert.deepEqual([...storedValues(bytes, 3, { ...layout, pixelRepresentation: 1 })], [0x123, -1, -2048]);
  // High Bit 15 with 12 bits stored: the low 4 bits are not part of the value.
  assert.deepEqual([...storedValues(new Uint8Array([0xf0, 0xff]), 1, { ...layout, highBit: 15, pixelRepresentation: 0 })], [4095]);
  assert.deepEqual([...storedValues(new Uint8Array([0x01, 0x02]), 1, { ...layout, littleEndian: false, pixelRepresentation: 0 })], [0x102]);
  assert.throws(() => storedValues(new Uint8Array(3), 2, { ...layout, pixelRepresentation: 0 }), RangeError);
});

test('windows per PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID', () => {
  const linear = { center: 2048, width: 4096, func: 'LINEAR' as const, count: 1 };
  // LINEAR: x <= c - 0.5 - (w-1)/2 → 0; x > c - 0.5 + (w-1)/2 → 255.
  assert.equal(windowValue(linear, 0), 0);
  assert.equal(windowValue(linear, 4095), 255);
  assert.equal(windowValue(linear, 4096), 255);
  assert.ok(Math.abs(windowValue(linear, 2048) - ((0.5 / 4095 + 0.5) * 255)) < 1e-9);
  const exact = { ...linear, func: 'LINEAR_EXACT' as const };
  assert.equal(windowValue(exact, 2048), 127.5);
  assert.equal(windowValue(exact, 0), 0);
  const sigmoid = { ...linear, func: 'SIGMOID' as const };
  assert.equal(windowValue(sigmoid, 2048), 127.5);
  assert.ok(Math.abs(windowValue(sigmoid, 0) - 255 / (1 + Math.exp(2))) < 1e-9);
  assert.throws(() => windowValue({ ...linear, width: 0.5 }, 1), RangeError);
  assert.throws(() => windowValue({ ...sigmoid, width: 0 }, 1), RangeError);
});

test('LUT look-ups clamp below the first mapped value and above the last entry', () => {
  const lut = { firstMapped: -2, bits: 8, data: Uint16Array.of(10, 20, 30) };
  assert.deepEqual([-5, -2, -1, 0, 9].map((x) => lookUp(lut, x)), [10, 10, 20, 30, 30]);
});

test('display: min–max without a window, MONOCHROME1 inverted, a rescale applied before the window', () => {
  const stored = Float64Array.of(0, 100, 200);
  assert.deepEqual([...displayGrey(stored, { photometric: 'MONOCHROME2' })], [0, 128, 255]);
  assert.deepEqual([...displayGrey(stored, { photometric: 'MONOCHROME1' })], [255, 127, 0]);
  const windowed = displayGrey(stored, { photometric: 'MONOCHROME2', rescale: { slope: 2, intercept: -200 }, window: { center: 0, width: 200, func: 'LINEAR_EXACT', count: 1 } });
  assert.deepEqual([...windowed], [0, 128, 255]);
  // Wider than any table: computed pixel by pixel, same result.
  assert.deepEqual([...displayGrey(Float64Array.of(0, 2 ** 21, 2 ** 22), { photometric: 'MONOCHROME2' })], [0, 128, 255]);
});

test('PatientAge → age group, ages over 89 as 90+', () => {
  assert.equal(ageGroupFromAge('045Y'), 'adult(age=45)');
  assert.equal(ageGroupFromAge('007M'), 'paediatric(age=0)');
  assert.equal(ageGroupFromAge('120D'), 'paediatric(age=0)');
  assert.equal(ageGroupFromAge('095Y'), 'adult(age=90+)');
  assert.equal(ageGroupFromAge('unknown'), undefined);
});

let fx: Awaited<ReturnType<typeof makeDicomFixtures>> | undefined;
before(async () => {
  if (!noPython) fx = await makeDicomFixtures();
});
after(() => fx?.cleanup());
const images = () => fx!.cases.filter((c) => !c.error);

test('every synthetic DICOM decodes like pydicom\'s modality + VOI LUT display (±1 grey level)', { skip: noPython }, async () => {
  const names = images().map((c) => c.name);
  for (const want of ['mono1-12bit-window-linear', 'signed-16bit-rescale-window', 'mono2-16bit-sigmoid', 'rle-12bit-window', 'jpegls-12bit-window', 'j2k-16bit-window', 'jpeg-lossless-12bit-mono1', 'deflated-12bit-window', 'big-endian-16bit-window', 'mono2-12bit-voi-lut', 'mono2-10bit-modality-lut-window', 'jpeg-baseline-8bit']) {
    assert.ok(names.includes(want), want);
  }
  for (const c of images()) {
    const img = await decodeImage(path.join(fx!.dir, c.file));
    assert.equal(img.width, c.width, c.name);
    assert.equal(img.height, c.height, c.name);
    assert.equal(img.source.format, 'dicom');
    const grey = img.data.filter((_, i) => i % 3 === 0);
    const expected = c.ref ? fs.readFileSync(path.join(fx!.dir, c.ref)) : fx!.jpegGrey;
    const { within1, maxDiff } = agreement(grey, expected);
    assert.equal(within1, 1, `${c.name}: max difference ${maxDiff}`);
  }
});

test('multi-frame: the first frame, with a warning', { skip: noPython }, async () => {
  const c = images().find((x) => x.name === 'multiframe-12bit-window')!;
  const img = await decodeDicom(fs.readFileSync(path.join(fx!.dir, c.file)), c.file);
  assert.equal(c.frames, 3);
  assert.match(img.warnings.join(), /3 frames\): only the first frame is used/);
});

test('DICOM is recognised by its preamble whatever the file name; the probe reads size and depth from the header', { skip: noPython }, async () => {
  const c = images().find((x) => x.name === 'signed-16bit-rescale-window')!;
  const renamed = path.join(fx!.dir, 'looks-like.png');
  fs.copyFileSync(path.join(fx!.dir, c.file), renamed);
  const a = await decodeImage(renamed);
  const b = await decodeImage(path.join(fx!.dir, c.file));
  assert.deepEqual(a.data, b.data);
  const header = await probeImage(renamed, fs.readFileSync(renamed));
  assert.deepEqual({ format: header.format, width: header.width, height: header.height, bitDepth: header.bitDepth, channels: header.channels }, { format: 'dicom', width: 40, height: 32, bitDepth: 16, channels: 1 });
  const resized = await decodeImage(renamed, { size: 16 });
  assert.equal(resized.data.length, 16 * 16 * 3);
});

test('malformed DICOM files: one line naming the file and the problem', { skip: noPython }, async () => {
  const bad = fx!.cases.filter((c): c is DicomCase & { error: string } => Boolean(c.error));
  assert.deepEqual(bad.map((c) => c.name).sort(), ['corrupt-jpegls', 'no-transfer-syntax', 'structured-report', 'truncated-pixel-data', 'wrong-length']);
  for (const c of bad) {
    const file = path.join(fx!.dir, c.file);
    await assert.rejects(decodeImage(file), (err: unknown) => {
      assert.ok(err instanceof InputFileError, c.name);
      assert.ok(err.message.startsWith(`${file}: `), err.message);
      assert.ok(err.message.includes(c.error), `${c.name}: ${err.message}`);
      assert.doesNotMatch(err.message, /\n|CANARY/);
      return true;
    });
  }
});
