import sharp from 'sharp';
import { decodeImage } from '../data/decode';
import { writeFileAtomic } from '../io/atomic';
import { enhance, type EnhanceOptions } from './pipeline';

/** How an image file becomes an enhanced PNG. */
export interface EnhanceFileOptions {
  /** Output size (stretched, as the study did), or null to keep the image's own size (no resampling). */
  size: number | [number, number] | null;
  enhance: EnhanceOptions;
}

/** Encodes one grey value per pixel as an 8-bit single-channel PNG. */
export async function encodeGreyPng(grey: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/**
 * Decodes `input`, enhances it and writes `output` atomically as an 8-bit grey PNG. A bad input
 * throws an InputFileError naming it; `output` is then left untouched.
 */
export async function enhanceFile(input: string, output: string, opts: EnhanceFileOptions): Promise<{ width: number; height: number }> {
  const img = await decodeImage(input, opts.size === null ? {} : { size: opts.size, fit: 'stretch' });
  const grey = enhance(img.data, img.width, img.height, opts.enhance);
  writeFileAtomic(output, await encodeGreyPng(grey, img.width, img.height));
  return { width: img.width, height: img.height };
}
