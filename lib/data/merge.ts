/**
 * Several data folders read as one dataset. Public chest X-ray sets each carry their own confounds (one
 * hospital's children, another's adults); training on several at once is how a model can see a class
 * from more than one source. File keys and patient ids are namespaced by dataset so two folders can never
 * collide, and images that appear in two folders (same bytes, or nearly the same pixels) are reported and
 * tied together so a split keeps them on one side.
 */
import * as path from 'node:path';
import sharp from 'sharp';
import { CxrError, UsageError } from '../errors';
import type { ClassMap } from './labels';
import { findDuplicates, scanDataset, type ScanOptions } from './scan';
import type { DataFolder, Dataset, Sample } from './types';

/** Side of the difference-hash grid: 16×16 comparisons, 256 bits. */
const HASH_SIDE = 16;
/**
 * Hamming distance (of 256 bits) at or below which two difference hashes count as the same picture. At
 * 64 bits chest X-rays are too alike (thousands of false pairs between different patients on the shared
 * data); 256 bits ≤ 10 is the threshold the shared folders' own de-duplication used.
 */
export const NEAR_DUPLICATE_BITS = 10;

export interface LoadDataOptions extends Omit<ScanOptions, 'name' | 'onProgress'> {
  classMap?: ClassMap;
  /** Compare perceptual hashes across folders (decodes every image once; default on when merging). */
  perceptual?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Unique dataset names for folders: each folder's base name, with `-2`, `-3`… appended on a clash.
 * @example datasetNames(['/a/cxr-data', '/b/cxr-data']) // ['cxr-data', 'cxr-data-2']
 */
export function datasetNames(dirs: readonly string[]): string[] {
  const used = new Set<string>();
  return dirs.map((d) => {
    const base = path.basename(path.resolve(d)) || 'data';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  });
}

/**
 * Scans one or more data folders. One folder gives exactly what `scanDataset` gives (file keys relative to
 * it); several are merged: file keys become `<dataset>/<file>`, patient ids `<dataset>:<id>`, duplicates
 * across folders are found by sha256 and by a 64-bit difference hash and reported in `notes`.
 * @param dirs data folders, each holding class folders (and optionally manifest.csv)
 * @throws UsageError when no folder is given or one is given twice
 * @example const ds = await loadData(['../shared/cxr-data', '../shared/cxr-adult'], { classMap: { pneumonia: 'viral' } });
 */
export async function loadData(dirs: readonly string[], opts: LoadDataOptions = {}): Promise<Dataset> {
  if (dirs.length === 0) throw new UsageError('no data folder given');
  const abs = dirs.map((d) => path.resolve(d));
  const twice = abs.find((d, i) => abs.indexOf(d) !== i);
  if (twice) throw new UsageError(`${twice}: data folder given twice`);
  const names = datasetNames(abs);
  const parts: Dataset[] = [];
  for (let i = 0; i < abs.length; i++) {
    parts.push(await scanDataset(abs[i], { ...opts, name: names[i], onProgress: opts.onProgress }));
  }
  if (parts.length === 1) return parts[0];
  const merged = mergeDatasets(parts);
  if (opts.perceptual ?? true) await tieNearDuplicates(merged);
  return merged;
}

/** Prefixes a part's keys with its dataset name, so merged parts cannot collide. */
function namespaced(part: Dataset): Sample[] {
  return part.samples.map((s) => ({ ...s, file: `${s.dataset}/${s.file}`, patientId: `${s.dataset}:${s.patientId}` }));
}

/** Merges scanned folders (already scanned, each with its own dataset name). */
export function mergeDatasets(parts: readonly Dataset[]): Dataset {
  const folders: DataFolder[] = parts.flatMap((p) => p.folders);
  const samples = parts.flatMap(namespaced).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const problems = parts.flatMap((p) => p.problems.map((q) => ({ ...q, file: `${p.folders[0].name}/${q.file}` })));
  const notes = parts.flatMap((p) => p.notes.map((n) => `${p.folders[0].name}: ${n}`));
  const duplicates = findDuplicates(samples);
  const across = duplicates.filter((g) => new Set(g.map((s) => s.dataset)).size > 1);
  if (across.length > 0) {
    notes.push(`${across.length} image(s) stored in more than one data folder (same bytes), e.g. ${across[0].map((s) => s.file).join(' = ')}; each kept on one side of every split`);
  }
  const classMap = Object.assign({}, ...parts.map((p) => p.classMap)) as ClassMap;
  return { root: parts[0].root, folders, classMap, samples, problems, duplicates, notes, hasManifest: parts.every((p) => p.hasManifest) };
}

/**
 * 256-bit difference hash of an image: grey, resized to 17×16, one bit per horizontal neighbour
 * comparison. Robust to rescaling and recompression, which is how the same X-ray turns up in two public
 * collections.
 * @throws CxrError naming the file when it cannot be decoded
 */
export async function differenceHash(file: string): Promise<Uint8Array> {
  let px: Buffer;
  try {
    px = await sharp(file).greyscale().resize(HASH_SIDE + 1, HASH_SIDE, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  } catch (err) {
    throw new CxrError(`${file}: cannot hash image (${(err as Error).message})`);
  }
  const bits = new Uint8Array((HASH_SIDE * HASH_SIDE) / 8);
  for (let y = 0; y < HASH_SIDE; y++) {
    for (let x = 0; x < HASH_SIDE; x++) {
      const k = y * HASH_SIDE + x;
      if (px[y * (HASH_SIDE + 1) + x] < px[y * (HASH_SIDE + 1) + x + 1]) bits[k >> 3] |= 1 << (k & 7);
    }
  }
  return bits;
}

/** Difference hashes by file sha256: a study scans the same folders for every run, in one process. */
const HASHES = new Map<string, Uint8Array | null>();

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => b.toString(2).replace(/0/g, '').length);

/** Number of differing bits of two equally long hashes. */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += POPCOUNT[a[i] ^ b[i]];
  return n;
}

/**
 * Finds images of different datasets whose difference hashes are within NEAR_DUPLICATE_BITS and gives each
 * such cluster one `imageGroup`, which the split treats like a patient. Within one folder its own
 * manifest's patient ids already group images; across folders nothing else would.
 */
export async function tieNearDuplicates(ds: Dataset): Promise<number> {
  const hashes = new Array<Uint8Array | null>(ds.samples.length);
  let next = 0;
  const worker = async () => {
    while (next < ds.samples.length) {
      const i = next++;
      // An image that cannot be decoded is reported by whatever reads its pixels; it just cannot be paired.
      const sha = ds.samples[i].sha256;
      if (!HASHES.has(sha)) HASHES.set(sha, await differenceHash(ds.samples[i].path).catch(() => null));
      hashes[i] = HASHES.get(sha)!;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const parent = ds.samples.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  let pairs = 0;
  const examples: string[] = [];
  for (let i = 0; i < hashes.length; i++) {
    const hi = hashes[i];
    if (!hi) continue;
    for (let j = i + 1; j < hashes.length; j++) {
      const hj = hashes[j];
      if (!hj || ds.samples[i].dataset === ds.samples[j].dataset) continue;
      if (hammingDistance(hi, hj) <= NEAR_DUPLICATE_BITS) {
        parent[find(j)] = find(i);
        pairs++;
        if (examples.length < 3) examples.push(`${ds.samples[i].file} ≈ ${ds.samples[j].file}`);
      }
    }
  }
  const size = new Map<number, number>();
  ds.samples.forEach((_, i) => size.set(find(i), (size.get(find(i)) ?? 0) + 1));
  ds.samples.forEach((s, i) => {
    if ((size.get(find(i)) ?? 0) > 1) s.imageGroup = `near:${ds.samples[find(i)].file}`;
  });
  ds.notes.push(
    pairs === 0
      ? `no near-duplicate images across data folders (256-bit difference hash, ≤ ${NEAR_DUPLICATE_BITS} bits apart)`
      : `${pairs} near-duplicate image pair(s) across data folders (difference hash ≤ ${NEAR_DUPLICATE_BITS} bits), e.g. ${examples.join('; ')}; each kept on one side of every split`,
  );
  return pairs;
}

/**
 * The absolute path of a sample's file key (as split CSVs and predictions record it) under the folders a
 * dataset was loaded from: relative to the one folder, or `<dataset>/<file>` when several were merged.
 * @throws UsageError when the key names no dataset of `dirs`
 */
export function dataFilePath(dirs: readonly string[], file: string): string {
  const parts = file.split('/');
  if (dirs.length === 1) return path.join(path.resolve(dirs[0]), ...parts);
  const i = datasetNames(dirs).indexOf(parts[0]);
  if (i < 0) throw new UsageError(`${file}: names no data folder of ${dirs.join(', ')}`);
  return path.join(path.resolve(dirs[i]), ...parts.slice(1));
}
