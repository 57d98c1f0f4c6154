/**
 * Lung masks for a run (`prep.lungs`): made once per image before training, by the segmenter the run then
 * records, so that training, `cxr predict`, `cxr evaluate` and Grad-CAM all read the same masks.
 */
import type { Sample } from '../data/types';
import { CxrError } from '../errors';
import { ensureLungMasks, fileSha256, openMaskSource, type MaskSource } from '../segment/mask-cache';
import type { RunRecord } from './run-folder';

/**
 * Makes the missing masks of `samples` and records the segmenter in `record.runtime.segmenter` (a new run takes
 * `segmenterDir` or the default segmenter, training it first when none is cached; a resumed run its own).
 * @returns image path → cached mask file.
 * @throws CxrError when the segmenter cannot be loaded or is not the one the run recorded.
 */
export async function runLungMasks(record: RunRecord, samples: readonly Sample[], opts: { segmenterDir?: string; quiet?: boolean } = {}): Promise<Map<string, string>> {
  const source = await openMaskSource({ recorded: record.runtime.segmenter, dir: opts.segmenterDir, quiet: opts.quiet });
  try {
    record.runtime.segmenter ??= { id: source.id, dir: source.dir };
    return await ensureLungMasks(samples.map((s) => ({ path: s.path, sha256: s.sha256 })), source, { quiet: opts.quiet });
  } finally {
    source.dispose();
  }
}

/**
 * The mask source of a trained run that restricts its inputs to the lungs (null for other runs): its recorded
 * segmenter, loaded only if an image's mask is not cached yet.
 * @throws CxrError when the run has `prep.lungs` but recorded no segmenter.
 */
export async function runMaskSource(record: RunRecord, dir: string): Promise<MaskSource | null> {
  if (!record.config.prep.lungs) return null;
  if (!record.runtime.segmenter) throw new CxrError(`${dir}: the run restricts inputs to the lungs but recorded no segmenter (config.json runtime.segmenter)`);
  return openMaskSource({ recorded: record.runtime.segmenter, quiet: true });
}

/**
 * The cached masks of image files (made by `source` when missing; a progress bar above a handful of images).
 * @returns image path → mask file.
 * @throws InputFileError naming an image that cannot be read.
 */
export function masksOfFiles(paths: readonly string[], source: MaskSource): Promise<Map<string, string>> {
  return ensureLungMasks(paths.map((p) => ({ path: p, sha256: fileSha256(p) })), source, { quiet: paths.length <= 8 });
}
