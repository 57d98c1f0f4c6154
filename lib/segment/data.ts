import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CxrError, InputFileError } from '../errors';
import { decodeImage } from '../data/decode';
import { rgbToGrey } from '../enhance/grey';
import { readCsv } from '../io/csv';
import { PROJECT_ROOT } from '../paths';
import { mulberry32 } from '../random';
import type { GreyImage } from './lungs';

/**
 * The lung-mask data set (`../shared/cxr-lungmasks`: images/, masks/, manifest.csv with patient ids), its
 * patient-grouped train/val split, and the one conversion from a grey image to the network's input.
 */

/** One image with its mask, as the manifest lists them. */
export interface MaskEntry {
  /** Paths relative to the data folder. */
  image: string;
  mask: string;
  patientId: string;
}

/** A patient-grouped split of the mask data. */
export interface MaskSplit {
  seed: number;
  valFraction: number;
  train: MaskEntry[];
  val: MaskEntry[];
}

/** `CXR_LUNGMASKS`, else `../shared/cxr-lungmasks` beside the project. */
export function defaultMaskDir(): string {
  return process.env.CXR_LUNGMASKS ? path.resolve(process.env.CXR_LUNGMASKS) : path.resolve(PROJECT_ROOT, '..', 'shared', 'cxr-lungmasks');
}

/**
 * Reads `manifest.csv` of a mask folder.
 * @returns entries sorted by image path.
 * @throws CxrError when the manifest is missing or lacks the `file`, `mask` or `patient_id` column.
 * @example const entries = readMaskManifest(defaultMaskDir());
 */
export function readMaskManifest(dir: string): MaskEntry[] {
  const file = path.join(dir, 'manifest.csv');
  if (!fs.existsSync(file)) throw new CxrError(`${file}: no lung-mask manifest (expected images/, masks/ and manifest.csv in ${dir})`);
  return readCsv(file, ['file', 'mask', 'patient_id'])
    .map((r) => ({ image: r.file, mask: r.mask, patientId: r.patient_id }))
    .sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
}

/** SHA-256 of the manifest: part of the cache key, so new masks mean a new model. */
export function manifestDigest(dir: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'manifest.csv'))).digest('hex');
}

/**
 * Splits by patient: patients in sorted order, shuffled with a seeded PRNG, go to val until val holds at
 * least `valFraction` of the images; no patient is in both parts. Independent of the entries' order.
 * @example const { train, val } = splitByPatient(entries, 0.2, 42);
 */
export function splitByPatient(entries: readonly MaskEntry[], valFraction: number, seed: number): MaskSplit {
  if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`val fraction must be in (0, 1), got ${valFraction}`);
  const byPatient = new Map<string, MaskEntry[]>();
  for (const e of entries) byPatient.set(e.patientId, [...(byPatient.get(e.patientId) ?? []), e]);
  const patients = [...byPatient.keys()].sort();
  const random = mulberry32(seed);
  for (let i = patients.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [patients[i], patients[j]] = [patients[j], patients[i]];
  }
  const valPatients = new Set<string>();
  let valImages = 0;
  for (const p of patients) {
    if (valImages >= valFraction * entries.length) break;
    valPatients.add(p);
    valImages += byPatient.get(p)!.length;
  }
  const byImage = (a: MaskEntry, b: MaskEntry) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0);
  return {
    seed,
    valFraction,
    train: entries.filter((e) => !valPatients.has(e.patientId)).sort(byImage),
    val: entries.filter((e) => valPatients.has(e.patientId)).sort(byImage),
  };
}

/**
 * Decodes any image the project reads (through decodeImage) to grey at its own size.
 * @throws InputFileError naming the file when it cannot be read or decoded.
 */
export async function readGrey(file: string): Promise<GreyImage> {
  const img = await decodeImage(file);
  return { data: rgbToGrey(img.data, img.width, img.height), width: img.width, height: img.height };
}

/** Reads a mask PNG as 0/255 (threshold at 128). */
export async function readMask(file: string): Promise<GreyImage> {
  const grey = await readGrey(file);
  for (let i = 0; i < grey.data.length; i++) grey.data[i] = grey.data[i] >= 128 ? 255 : 0;
  return grey;
}

/** Resizes a grey image to `size × size` (stretched, Lanczos-3 as decodeImage resizes). */
export async function resizeGrey(image: GreyImage, size: number): Promise<Uint8Array> {
  if (image.width === size && image.height === size) return image.data;
  const out = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    // sharp otherwise hands back sRGB, three values per pixel.
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Per-image standardisation (zero mean, unit standard deviation, the deviation floored at one grey level so
 * a blank image stays finite): the network then sees the same input whatever the exposure and window of the
 * X-ray, which differ by hospital.
 * @example const x = standardise(await resizeGrey(image, 128));
 */
export function standardise(values: Uint8Array | Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  const scale = 1 / Math.max(1, Math.sqrt(sq / values.length));
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - mean) * scale;
  return out;
}

/** One training or validation example: image and mask at their own size and at the network's size. */
export interface MaskExample {
  entry: MaskEntry;
  image: GreyImage;
  mask: GreyImage;
  /** `size × size` grey (0–255) and mask (0–1), before augmentation and standardisation. */
  small: { grey: Float32Array; mask: Float32Array };
}

/**
 * Loads an entry's image and mask and their `size × size` copies.
 * @throws InputFileError when the image and mask differ in size.
 */
export async function loadExample(dir: string, entry: MaskEntry, size: number): Promise<MaskExample> {
  const image = await readGrey(path.join(dir, entry.image));
  const mask = await readMask(path.join(dir, entry.mask));
  if (image.width !== mask.width || image.height !== mask.height) {
    throw new InputFileError(path.join(dir, entry.mask), `mask is ${mask.width}×${mask.height}, its image ${image.width}×${image.height}`);
  }
  const grey = Float32Array.from(await resizeGrey(image, size));
  const smallMask = Float32Array.from(await resizeGrey(mask, size), (v) => v / 255);
  return { entry, image, mask, small: { grey, mask: smallMask } };
}
