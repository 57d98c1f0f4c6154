/**
 * Lung masks made once per image and segmenter, not per epoch nor in every worker: before images are read
 * with a lung restriction, the main thread segments those whose mask is not cached yet (in batches, with a
 * progress bar); the image workers then only read the stored masks (lib/segment/mask-file.ts).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CxrError, InputFileError } from '../errors';
import { progress } from '../io/progress';
import { PROJECT_ROOT } from '../paths';
import { readGrey } from './data';
import { maskCacheFile, writeCachedMask } from './mask-file';
import { defaultSegmenterDir, loadSegmenter, type Segmenter } from './segmenter';
import { hasModel, modelId } from './store';

/** An image whose mask is wanted: its file and content hash. */
export interface MaskImage {
  path: string;
  sha256: string;
}

/** Which segmenter's masks to use, and how to load it when some are missing. */
export interface MaskSource {
  /** The segmenter's model id (see modelId). */
  id: string;
  /** Its folder (relative to the project when inside it, so a moved clone still finds it). */
  dir: string;
  /** Loads it (once); only called when a mask is missing from the cache. */
  segmenter(): Promise<Segmenter>;
  /** Frees it if it was loaded. */
  dispose(): void;
}

/** Options of {@link openMaskSource}. */
export interface MaskSourceOptions {
  /** The segmenter a run recorded: its masks are used, and a missing one is made only by that same model. */
  recorded?: { id: string; dir: string };
  /** A segmenter folder to use instead of the default one. */
  dir?: string;
  quiet?: boolean;
}

function projectRelative(dir: string): string {
  const rel = path.relative(PROJECT_ROOT, path.resolve(dir));
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(dir) : rel;
}

function sourceOf(id: string, dir: string, load: () => Promise<Segmenter>): MaskSource {
  let loaded: Promise<Segmenter> | null = null;
  return {
    id,
    dir: projectRelative(dir),
    segmenter: () => (loaded ??= load().then((seg) => {
      if (seg.id !== id) throw new CxrError(`${seg.dir}: lung segmenter ${seg.id} is not the one the masks were made with (${id}); train the run again or restore that segmenter`);
      return seg;
    })),
    dispose: () => void loaded?.then((seg) => seg.dispose(), () => undefined),
  };
}

/**
 * The segmenter whose masks a run uses. With `recorded`, the run's own segmenter (loaded from its folder only if
 * a mask is missing; refused if that folder now holds another model). Otherwise `dir` or the default segmenter,
 * loaded now — the default one is trained first when not cached, which takes minutes and says so.
 * @throws CxrError when no segmenter can be found or trained.
 * @example const src = await openMaskSource({}); const masks = await ensureLungMasks(images, src);
 */
export async function openMaskSource(opts: MaskSourceOptions = {}): Promise<MaskSource> {
  if (opts.recorded) {
    const dir = path.resolve(PROJECT_ROOT, opts.recorded.dir);
    return sourceOf(opts.recorded.id, dir, () => loadSegmenter(dir, { quiet: opts.quiet }));
  }
  const seg = await loadSegmenter(opts.dir, { quiet: opts.quiet });
  return sourceOf(seg.id, seg.dir, async () => seg);
}

/**
 * The default segmenter's source when it is cached, else null: for stages (the report) that may use masks but
 * must not spend minutes training a segmenter.
 */
export function cachedMaskSource(quiet = true): MaskSource | null {
  let dir: string;
  try {
    dir = defaultSegmenterDir();
  } catch {
    return null; // no mask data, so no default segmenter either
  }
  if (!hasModel(dir)) return null;
  return sourceOf(modelId(dir), dir, () => loadSegmenter(dir, { quiet }));
}

/**
 * The sha256 of a file's bytes (images outside a scanned data folder, e.g. `cxr predict`'s).
 * @throws InputFileError when the file cannot be read.
 */
export function fileSha256(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new InputFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Images segmented per forward pass. */
const ENSURE_BATCH = 8;

/**
 * Makes sure every image has its mask in the cache, segmenting the missing ones in batches.
 * @returns image path → mask file, for every image.
 * @throws InputFileError naming an image that cannot be decoded; CxrError when the segmenter is not the source's.
 */
export async function ensureLungMasks(images: readonly MaskImage[], source: MaskSource, opts: { quiet?: boolean } = {}): Promise<Map<string, string>> {
  const files = new Map(images.map((img) => [img.path, maskCacheFile(source.id, img.sha256)]));
  const seen = new Set<string>();
  const missing = images.filter((img) => {
    const file = files.get(img.path)!;
    if (seen.has(file) || fs.existsSync(file)) return false;
    seen.add(file);
    return true;
  });
  if (missing.length === 0) return files;
  const seg = await source.segmenter();
  const bar = progress({ label: 'lung masks', total: missing.length, unit: 'img', silent: opts.quiet });
  for (let start = 0; start < missing.length; start += ENSURE_BATCH) {
    const chunk = missing.slice(start, start + ENSURE_BATCH);
    const greys = await Promise.all(chunk.map((img) => readGrey(img.path)));
    const masks = await seg.segmentGreyBatch(greys);
    for (let i = 0; i < chunk.length; i++) await writeCachedMask(files.get(chunk[i].path)!, masks[i], greys[i].width, greys[i].height);
    bar.tick(chunk.length);
  }
  bar.done();
  return files;
}
