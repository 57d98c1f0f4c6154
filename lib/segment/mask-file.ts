/**
 * One cached lung mask on disk: a `MASK_SIDE²` 0/255 PNG per image (by the image's sha256) and segmenter (by
 * its model id), under the cache folder. The image workers read these, so this module stays free of
 * TensorFlow: only files, sharp and pure resampling.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { InputFileError, describeError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { cacheDir } from '../paths';

/**
 * Side of a stored mask. The segmenter itself sees the image at its network size (128–256 px), so a finer
 * copy would add nothing; 256 keeps the lung box within 0.4 % of the image.
 */
export const MASK_SIDE = 256;

/** The cache folder of the masks one segmenter made. */
export function maskCacheDir(segmenterId: string): string {
  return cacheDir('lung-masks', segmenterId);
}

/**
 * Where the mask of the image with content hash `sha256` lives.
 * @example maskCacheFile('unet-3f9a…', sample.sha256) // .cache/lung-masks/unet-3f9a…/<sha256>.png
 */
export function maskCacheFile(segmenterId: string, sha256: string): string {
  return path.join(maskCacheDir(segmenterId), `${sha256}.png`);
}

/**
 * Nearest-neighbour resampling of a mask (pixel centres mapped onto pixel centres), so a mask keeps exactly
 * its values (0/255) at any size.
 * @throws RangeError when `mask` does not hold width × height values.
 * @example scaleMask(mask, 1024, 800, 256, 256).length // 65536
 */
export function scaleMask(mask: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  if (mask.length !== width * height) throw new RangeError(`scaleMask: ${mask.length} values for ${width}×${height}`);
  if (outW === width && outH === height) return mask.slice();
  const out = new Uint8Array(outW * outH);
  const cols = Int32Array.from({ length: outW }, (_, x) => Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW)));
  for (let y = 0; y < outH; y++) {
    const row = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH)) * width;
    for (let x = 0; x < outW; x++) out[y * outW + x] = mask[row + cols[x]];
  }
  return out;
}

/**
 * Stores a mask (0/255, width × height) as a `MASK_SIDE²` PNG, atomically (a reader sees the whole file or none).
 * @throws CxrError when the file cannot be written.
 */
export async function writeCachedMask(file: string, mask: Uint8Array, width: number, height: number): Promise<void> {
  const small = scaleMask(mask, width, height, MASK_SIDE, MASK_SIDE);
  const png = await sharp(small, { raw: { width: MASK_SIDE, height: MASK_SIDE, channels: 1 } }).png().toBuffer();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, png);
}

/**
 * A stored mask scaled to `width × height` (0/255).
 * @throws InputFileError naming the mask file when it is missing or not a `MASK_SIDE²` grey PNG.
 */
export async function readCachedMask(file: string, width: number, height: number): Promise<Uint8Array> {
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new InputFileError(file, `cannot read the cached lung mask (${describeError(err)})`, { cause: err });
  }
  if (raw.info.width !== MASK_SIDE || raw.info.height !== MASK_SIDE) {
    throw new InputFileError(file, `cached lung mask is ${raw.info.width}×${raw.info.height}, expected ${MASK_SIDE}×${MASK_SIDE}`);
  }
  const small = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
  return scaleMask(small, MASK_SIDE, MASK_SIDE, width, height);
}
