import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CxrError, InputFileError, describeError } from '../errors';
import { LABELS, labelForFolder as labelFor, type ClassMap, type Label } from './labels';
import { MANIFEST_NAME, readManifest, type ManifestEntry } from './manifest';
import { decodeDicom } from './dicom/image';
import { dicomPatientNotes, dicomSampleFields, hasDicomPatient, withDicomFields } from './dicom/sample';
import { patientFromFileName } from './patients';
import { DEFAULT_MAX_PIXELS, probeImage } from './probe';
import type { Dataset, Sample, ScanProblem } from './types';

export interface ScanOptions {
  /** Throw an InputFileError at the first bad file instead of skipping it. */
  strict?: boolean;
  /** Called after each file with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Also decode every image (slower) to catch corruption a header check cannot see. */
  verifyPixels?: boolean;
  /** Skip images over this many pixels (decompression bombs). Default 100 megapixels. */
  maxPixels?: number;
  /** Extra class-folder names mapped to a class (e.g. `{ pneumonia: 'viral' }`); other unknown folders are skipped and reported. */
  classMap?: ClassMap;
  /** Dataset name recorded in every sample (default: the folder's base name). */
  name?: string;
}

/** How many levels below the root to look for class folders (the Kaggle set nests them in COVID_IEEE/). */
const MAX_CLASS_DEPTH = 3;
/** Files read and probed at once: enough to keep both cores and the disk busy. */
const CONCURRENCY = 8;

const EXTENSION_FORMATS: Record<string, string> = {
  '.jpg': 'jpeg', '.jpeg': 'jpeg', '.jpe': 'jpeg', '.jfif': 'jpeg', '.png': 'png', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff', '.gif': 'gif',
  '.heic': 'heif', '.heif': 'heif', '.avif': 'heif',
  '.dcm': 'dicom', '.dicom': 'dicom',
};

interface ClassFolder {
  rel: string;
  label: Label;
}

interface FoundFile {
  rel: string;
  abs: string;
  label: Label;
}

const toPosix = (p: string) => p.split(path.sep).join('/');

function isDir(abs: string): boolean {
  try {
    return fs.statSync(abs).isDirectory();
  } catch {
    return false;
  }
}

/** Sub-folders of `abs` (following links), sorted; unreadable folders count as none. */
function subfolders(abs: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(abs);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.') && isDir(path.join(abs, n))).sort();
}

/**
 * Finds the shallowest folder under `root` that holds class folders (`covid`, `viral`/`virus`,
 * `normal`, any case). Its other sub-folders are reported as unknown classes.
 */
function findClassFolders(root: string, classMap: ClassMap): { base: string; classes: ClassFolder[]; unknown: string[] } {
  const labelForFolder = (name: string) => labelFor(name, classMap);
  let level = [''];
  for (let depth = 0; depth < MAX_CLASS_DEPTH && level.length > 0; depth++) {
    const hits = level.filter((rel) => subfolders(path.join(root, rel)).some((n) => labelForFolder(n)));
    if (hits.length > 1) {
      throw new CxrError(`${root}: class folders found in several places (${hits.join(', ')}); point --data at one of them`);
    }
    if (hits.length === 1) {
      const base = hits[0];
      const names = subfolders(path.join(root, base));
      return {
        base,
        classes: names.filter((n) => labelForFolder(n)).map((n) => ({ rel: path.join(base, n), label: labelForFolder(n)! })),
        unknown: names.filter((n) => !labelForFolder(n)).map((n) => path.join(base, n)),
      };
    }
    level = level.flatMap((rel) => subfolders(path.join(root, rel)).map((n) => path.join(rel, n)));
  }
  throw new CxrError(`${root}: no class folders found (expected sub-folders named ${LABELS.join(', ')} or virus)`);
}

/** Lists a class folder's files recursively, reporting unreadable entries, bad names and link loops. */
function listFiles(root: string, folder: ClassFolder, report: (p: ScanProblem) => void): FoundFile[] {
  const found: FoundFile[] = [];
  const seenDirs = new Set<string>();
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    let real: string;
    let entries: Buffer[];
    try {
      real = fs.realpathSync(abs);
      entries = fs.readdirSync(abs, { encoding: 'buffer' });
    } catch (err) {
      report({ file: toPosix(rel) + '/', reason: `cannot read folder (${(err as NodeJS.ErrnoException).code ?? describeError(err)})` });
      return;
    }
    if (seenDirs.has(real)) {
      report({ file: toPosix(rel) + '/', reason: 'folder reached twice through symbolic links (loop); skipped' });
      return;
    }
    seenDirs.add(real);
    for (const raw of entries.sort(Buffer.compare)) {
      const name = raw.toString('utf8');
      if (name.startsWith('.')) continue;
      const childRel = path.join(rel, name);
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        report({ file: toPosix(childRel), reason: 'file name is not valid UTF-8; rename it' });
        continue;
      }
      let st: fs.Stats;
      try {
        st = fs.statSync(path.join(root, childRel));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const reason = code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'broken symbolic link' : `cannot read (${code})`;
        report({ file: toPosix(childRel), reason });
        continue;
      }
      if (st.isDirectory()) walk(childRel);
      else if (st.isFile()) found.push({ rel: toPosix(childRel), abs: path.join(root, childRel), label: folder.label });
      else report({ file: toPosix(childRel), reason: 'not a regular file' });
    }
  };
  walk(folder.rel);
  return found;
}

async function mapPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Scans a data folder: class folders at the root or a few levels below (e.g. `COVID_IEEE/`),
 * manifest.csv at the root when present. Every file is hashed and its header read; bad files are
 * listed in `problems` and skipped (with `strict`, the first one throws an InputFileError).
 * Without a manifest, patient ids come from known file-name patterns, else one per image, and
 * `notes` says so. Only reads: nothing in the folder is created or changed.
 */
export async function scanDataset(root: string, opts: ScanOptions = {}): Promise<Dataset> {
  const absRoot = path.resolve(root);
  if (!isDir(absRoot)) throw new InputFileError(absRoot, fs.existsSync(absRoot) ? 'not a folder' : 'no such data folder');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const problems: ScanProblem[] = [];
  const notes: string[] = [];
  const report = (p: ScanProblem) => {
    if (opts.strict) throw new InputFileError(path.join(absRoot, p.file), `${p.reason} (--strict)`);
    problems.push(p);
  };

  const classMap = opts.classMap ?? {};
  const name = opts.name ?? path.basename(absRoot);
  const manifestFile = path.join(absRoot, MANIFEST_NAME);
  const unmappedRows = new Set<string>();
  const manifest: Map<string, ManifestEntry> | undefined = fs.existsSync(manifestFile)
    ? readManifest(manifestFile, { classMap, onUnknownLabel: (file) => unmappedRows.add(file) })
    : undefined;
  const { base, classes, unknown } = findClassFolders(absRoot, classMap);
  if (base) notes.push(`class folders found under ${toPosix(base)}/`);
  for (const [folder, label] of Object.entries(classMap)) {
    if (classes.some((c) => path.basename(c.rel).toLowerCase() === folder)) notes.push(`folder ${folder}/ read as class ${label} (class map)`);
  }
  for (const u of unknown) {
    report({ file: toPosix(u) + '/', reason: `unknown class folder; its files are ignored (map it to a class with --class-map ${path.basename(u)}=<${LABELS.join('|')}>)` });
  }

  const files = classes.flatMap((c) => listFiles(absRoot, c, report));
  for (const c of classes) {
    if (!files.some((f) => f.rel.startsWith(toPosix(c.rel) + '/'))) notes.push(`class folder ${toPosix(c.rel)}/ is empty`);
  }

  const samples: Sample[] = [];
  const mismatchedExtensions: string[] = [];
  let done = 0;
  await mapPool(files, CONCURRENCY, async (f) => {
    const sample = await scanFile(f, absRoot, name, manifest, maxPixels, Boolean(opts.verifyPixels), report);
    if (sample) {
      samples.push(sample);
      const extFormat = EXTENSION_FORMATS[path.extname(f.rel).toLowerCase()];
      if (extFormat !== sample.format) mismatchedExtensions.push(`${f.rel} is ${sample.format}`);
    }
    opts.onProgress?.(++done, files.length);
  });

  if (manifest) {
    const present = new Set(files.map((f) => f.rel));
    for (const rel of [...manifest.keys()].sort()) {
      if (!present.has(rel) && !unmappedRows.has(rel)) report({ file: rel, reason: `listed in ${MANIFEST_NAME} but missing` });
    }
  }
  samples.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (!manifest) notes.push(...derivationNotes(samples));
  if (mismatchedExtensions.length > 0) {
    mismatchedExtensions.sort();
    notes.push(
      `${mismatchedExtensions.length} file(s) whose extension does not match their content (format is read from content): ` +
        mismatchedExtensions.slice(0, 5).join('; ') + (mismatchedExtensions.length > 5 ? '; ...' : ''),
    );
  }
  const duplicates = findDuplicates(samples);
  if (duplicates.length > 0) {
    notes.push(`${duplicates.length} group(s) of identical images (${duplicates.reduce((n, g) => n + g.length, 0)} files); splits keep each group together`);
  }
  return { root: absRoot, folders: [{ name, dir: absRoot }], classMap, samples, problems, duplicates, notes, hasManifest: Boolean(manifest) };
}

async function scanFile(
  f: FoundFile,
  root: string,
  dataset: string,
  manifest: Map<string, ManifestEntry> | undefined,
  maxPixels: number,
  verifyPixels: boolean,
  report: (p: ScanProblem) => void,
): Promise<Sample | undefined> {
  const entry = manifest?.get(f.rel);
  if (manifest && !entry) {
    report({ file: f.rel, reason: `not listed in ${MANIFEST_NAME} (add it there, or its patient is unknown)` });
    return undefined;
  }
  if (entry && entry.label !== f.label) {
    report({ file: f.rel, reason: `${MANIFEST_NAME} says ${entry.label} but the file is in a ${f.label} folder` });
    return undefined;
  }
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(f.abs);
  } catch (err) {
    report({ file: f.rel, reason: `cannot read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})` });
    return undefined;
  }
  const sha256 = crypto.createHash('sha256').update(buf).digest('hex');
  if (entry?.sha256 && entry.sha256 !== sha256) {
    report({ file: f.rel, reason: `content differs from ${MANIFEST_NAME} (sha256 ${sha256.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…)` });
    return undefined;
  }
  let header;
  try {
    header = await probeImage(path.join(root, f.rel), buf, maxPixels);
    if (verifyPixels) await decodeCheck(path.join(root, f.rel), buf, header.format, maxPixels);
  } catch (err) {
    if (!(err instanceof InputFileError)) throw err;
    report({ file: f.rel, reason: err.reason });
    return undefined;
  }
  // DICOM hook (lib/data/dicom/sample.ts): patient, view, age, source from the header, or why the image is excluded.
  const dicom = header.format === 'dicom' ? dicomSampleFields(buf) : undefined;
  if (dicom?.excluded) {
    report({ file: f.rel, reason: dicom.excluded });
    return undefined;
  }
  const fromName = entry?.patientId ? undefined : patientFromFileName(f.rel);
  const prefix = path.posix.basename(f.rel).split('__');
  return withDicomFields({
    file: f.rel,
    path: f.abs,
    label: f.label,
    patientId: entry?.patientId ?? fromName?.patientId ?? `image:${f.rel}`,
    dataset,
    source: entry?.source ?? (prefix.length > 1 && prefix[0] ? prefix[0] : dataset),
    sha256,
    width: header.width,
    height: header.height,
    format: header.format,
    bytes: buf.length,
    channels: header.channels,
    bitDepth: header.bitDepth,
    ...(entry?.view ? { view: entry.view } : {}),
    ...(entry?.ageGroup ? { ageGroup: entry.ageGroup } : {}),
  }, dicom, entry);
}

async function decodeCheck(file: string, buf: Buffer, format: string, maxPixels: number): Promise<void> {
  if (format === 'dicom') return void (await decodeDicom(buf, file, maxPixels));
  try {
    // Full size on purpose: a downscaling pipeline may skip rows and miss their corruption.
    await sharp(buf, { failOn: 'warning', limitInputPixels: maxPixels }).raw().toBuffer();
  } catch (err) {
    throw new InputFileError(file, `corrupt ${format} (${describeError(err)})`, { cause: err });
  }
}

function derivationNotes(samples: Sample[]): string[] {
  const byPattern = new Map<string, number>();
  let single = 0;
  for (const s of samples) {
    if (hasDicomPatient(s)) continue;
    const p = patientFromFileName(s.file);
    if (p) byPattern.set(p.pattern, (byPattern.get(p.pattern) ?? 0) + 1);
    else single += 1;
  }
  const notes = [`no ${MANIFEST_NAME}: patient ids, sources and hashes derived from the files`, ...dicomPatientNotes(samples)];
  for (const [pattern, n] of byPattern) notes.push(`patient id from file name pattern ${pattern} for ${n} image(s)`);
  if (single > 0) notes.push(`${single} image(s) match no known file-name pattern: each counted as its own patient (images of one patient may then cross splits)`);
  return notes;
}

/** Groups of samples with the same sha256 (exact duplicate files), each sorted by file. */
export function findDuplicates(samples: readonly Sample[]): Sample[][] {
  const bySha = new Map<string, Sample[]>();
  for (const s of samples) bySha.set(s.sha256, [...(bySha.get(s.sha256) ?? []), s]);
  return [...bySha.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort((a, b) => (a.file < b.file ? -1 : 1)))
    .sort((a, b) => (a[0].file < b[0].file ? -1 : 1));
}
