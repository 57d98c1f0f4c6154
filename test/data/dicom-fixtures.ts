import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { PROJECT_ROOT, projectPython } from '../../lib/paths';

/** One file written by dicom_fixtures.py: an image with its pydicom reference display, or a malformed file and the error expected. */
export interface DicomCase {
  name: string;
  file: string;
  width?: number;
  height?: number;
  frames?: number;
  ref?: string;
  error?: string;
}

export const python = projectPython();
/** Why the DICOM tests cannot run here, or false. */
export const noPython = fs.existsSync(python) ? false : `no ${python} (npm run setup makes it, with pydicom)`;
/** The canary patient data every fixture carries; none of it may appear in any output. */
export const CANARIES = ['CANARY', '19010101'];

export const W = 40;
export const H = 32;

/** A grey JPEG that sharp encodes (for the JPEG Baseline case) and sharp's own decoding of it. */
async function baselineJpeg(dir: string): Promise<{ file: string; grey: Uint8Array }> {
  const pixels = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) pixels[y * W + x] = (x * 6 + y * 3 + ((x * y) % 7) * 5) % 256;
  const jpeg = await sharp(pixels, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 92 }).toBuffer();
  const file = path.join(dir, 'baseline.jpg');
  fs.writeFileSync(file, jpeg);
  const grey = await sharp(jpeg).extractChannel(0).raw().toBuffer();
  return { file, grey: new Uint8Array(grey) };
}

/**
 * Writes the synthetic DICOM files (test/data/dicom_fixtures.py, pydicom + imagecodecs) into a new
 * temporary folder. `jpegGrey` is sharp's decoding of the JPEG that the JPEG Baseline case encapsulates.
 */
export async function makeDicomFixtures(): Promise<{ dir: string; cases: DicomCase[]; jpegGrey: Uint8Array; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-dicom-'));
  const jpeg = await baselineJpeg(dir);
  const r = spawnSync(python, [path.join(PROJECT_ROOT, 'test', 'data', 'dicom_fixtures.py'), dir, '--jpeg', jpeg.file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dicom_fixtures.py failed: ${r.stderr}`);
  const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8')) as DicomCase[];
  return { dir, cases, jpegGrey: jpeg.grey, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Share of pixels within 1 grey level of the reference, and the largest difference. */
export function agreement(actual: Uint8Array, expected: Uint8Array): { within1: number; maxDiff: number } {
  let ok = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (d <= 1) ok++;
    maxDiff = Math.max(maxDiff, d);
  }
  return { within1: ok / expected.length, maxDiff };
}
