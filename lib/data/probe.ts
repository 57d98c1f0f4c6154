import sharp from 'sharp';
import { InputFileError, describeError } from '../errors';
import { imageHeaderOf } from './dicom/image';
import { DicomFormatError, isDicom, parseDicom } from './dicom/parse';

/** Default refusal limit for decoding: far above any chest X-ray, far below a decompression bomb. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Raster formats the data layer accepts (as sharp names them). */
export const ACCEPTED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'dicom'];

/** What the file's header says, read without decoding the pixels. */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
  channels: number;
  bitDepth: number;
  /** Whether it carries an alpha channel. */
  hasAlpha: boolean;
  /** EXIF orientation tag (1..8) when present. */
  orientation?: number;
  /** DICOM only: frames in the file (the first is used). */
  frames?: number;
}

const BIT_DEPTH: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64 };

function startsWith(buf: Uint8Array, bytes: number[], at = 0): boolean {
  return buf.length >= at + bytes.length && bytes.every((b, i) => buf[at + i] === b);
}

function indexOfBytes(buf: Uint8Array, from: number, bytes: number[]): number {
  for (let i = Math.max(0, from); i + bytes.length <= buf.length; i++) {
    if (bytes.every((b, k) => buf[i + k] === b)) return i;
  }
  return -1;
}

/**
 * Cheap checks on the container before sharp looks at it: empty, and truncation of the
 * formats whose end is recognisable (JPEG end-of-image marker, PNG IEND chunk, WEBP RIFF length).
 * A JPEG's entropy-coded data cannot contain FF D9, so its absence near the end means a cut file.
 * Returns the reason the file is unusable, or undefined.
 */
export function containerProblem(buf: Uint8Array): string | undefined {
  if (buf.length === 0) return 'empty file (0 bytes)';
  if (startsWith(buf, [0xff, 0xd8, 0xff])) {
    if (indexOfBytes(buf, buf.length - 1024, [0xff, 0xd9]) < 0) return 'truncated JPEG (no end-of-image marker)';
  } else if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    if (indexOfBytes(buf, buf.length - 64, [0x49, 0x45, 0x4e, 0x44]) < 0) return 'truncated PNG (no IEND chunk)';
  } else if (startsWith(buf, [0x52, 0x49, 0x46, 0x46]) && startsWith(buf, [0x57, 0x45, 0x42, 0x50], 8)) {
    const riffSize = buf.length >= 8 ? new DataView(buf.buffer, buf.byteOffset, 8).getUint32(4, true) : 0;
    if (buf.length < riffSize + 8) return `truncated WEBP (${buf.length} of ${riffSize + 8} bytes)`;
  }
  return undefined;
}

function hexStart(buf: Uint8Array): string {
  return Array.from(buf.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Reads an image's header (format from content, size, channels, depth) without decoding pixels,
 * and refuses what the data layer cannot use: empty, truncated, non-image, vector, multi-page or
 * animated files, unusual sample types, and images over `maxPixels`. DICOM (the `DICM` preamble,
 * whatever the extension) reports format `dicom`, Bits Stored as its depth, and its frame count.
 * Throws InputFileError naming `file` and the cause.
 */
export async function probeImage(file: string, buf: Uint8Array, maxPixels = DEFAULT_MAX_PIXELS): Promise<ImageHeader> {
  if (isDicom(buf)) return probeDicom(file, buf, maxPixels);
  const early = containerProblem(buf);
  if (early) throw new InputFileError(file, early);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    const msg = describeError(err);
    if (/unsupported image format/i.test(msg)) {
      throw new InputFileError(file, `not an image (unrecognised content starting ${hexStart(buf)})`, { cause: err });
    }
    throw new InputFileError(file, `corrupt or unreadable image (${msg})`, { cause: err });
  }
  const format = (meta.format ?? 'unknown').toLowerCase();
  if (format === 'svg') throw new InputFileError(file, 'vector image (SVG): not supported');
  if (!ACCEPTED_FORMATS.includes(format)) throw new InputFileError(file, `unsupported image format (${format})`);
  const { width, height } = meta;
  if (!width || !height) throw new InputFileError(file, `corrupt ${format} header (no image size)`);
  if ((meta.pages ?? 1) > 1) {
    throw new InputFileError(file, `${format} with ${meta.pages} frames/pages (animated or multi-page): not supported`);
  }
  if (width * height > maxPixels) {
    throw new InputFileError(
      file,
      `${width}x${height} pixels is over the limit of ${maxPixels} (refused as a possible decompression bomb)`,
    );
  }
  const bitDepth = BIT_DEPTH[meta.depth ?? 'uchar'] ?? 0;
  if (bitDepth !== 8 && bitDepth !== 16) throw new InputFileError(file, `unsupported sample type (${meta.depth})`);
  return {
    format,
    width,
    height,
    channels: meta.channels ?? 0,
    bitDepth,
    hasAlpha: Boolean(meta.hasAlpha),
    orientation: meta.orientation,
  };
}

function probeDicom(file: string, buf: Uint8Array, maxPixels: number): ImageHeader {
  try {
    const h = imageHeaderOf(parseDicom(buf), maxPixels);
    return { format: 'dicom', width: h.columns, height: h.rows, channels: h.samplesPerPixel, bitDepth: h.bitsStored, hasAlpha: false, frames: h.frames };
  } catch (err) {
    if (err instanceof DicomFormatError) throw new InputFileError(file, err.message, { cause: err });
    throw err;
  }
}
