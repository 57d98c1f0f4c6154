import * as fs from 'node:fs';
import sharp from 'sharp';
import { InputFileError, describeError } from '../errors';
import { decodeDicom } from './dicom/image';
import { isDicom } from './dicom/parse';
import { DEFAULT_MAX_PIXELS, probeImage } from './probe';

export interface DecodeOptions {
  /** Output size: a square side or [width, height]. Omitted: the (EXIF-oriented) original size. */
  size?: number | [number, number];
  /**
   * `stretch` (default) ignores the aspect ratio, as the study did at 224x224; `pad` keeps it and
   * letterboxes with black.
   */
  fit?: 'stretch' | 'pad';
  /** Refuse images with more pixels than this (decompression bombs). Default 100 megapixels. */
  maxPixels?: number;
  /** Print the image's warnings to stderr (default true; false when the same file was read and reported before). */
  warn?: boolean;
}

export interface DecodedImage {
  /** RGB interleaved, 8 bits per channel, row-major, width*height*3 bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  /** The file as stored. */
  source: { format: string; width: number; height: number; channels: number; bitDepth: number };
  /** What a user should know about this image (e.g. a multi-frame DICOM of which only the first frame is used). */
  warnings?: string[];
}

/** Reads and decodes an image file; see decodeImageBuffer. */
export async function decodeImage(file: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === 'EISDIR' ? 'is a folder, not an image' : `cannot read (${code ?? describeError(err)})`, {
      cause: err,
    });
  }
  return decodeImageBuffer(buf, file, opts);
}

function targetSize(size: number | [number, number], name: string): [number, number] {
  const [w, h] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) {
    throw new InputFileError(name, `invalid output size ${w}x${h}`);
  }
  return [w, h];
}

/**
 * Decodes image bytes (`name` is used in errors) to RGB uint8: EXIF orientation applied; 16-bit
 * samples scaled by round(v / 257) so 0 and 65535 map to 0 and 255; alpha composited onto black
 * (an X-ray's empty background is black, and `pad` letterboxes in black too); grey replicated to
 * three channels; then resized with sharp's Lanczos-3 kernel when `size` is given.
 * DICOM (the `DICM` preamble, whatever the name) goes through its display pipeline
 * (lib/data/dicom: modality and VOI LUTs, MONOCHROME1 inverted) to 8-bit grey first; its warnings
 * are printed to stderr and returned.
 * Any failure is an InputFileError naming the file and the cause.
 */
export async function decodeImageBuffer(buf: Uint8Array, name: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (isDicom(buf)) return decodeDicomImage(buf, name, opts, maxPixels);
  const header = await probeImage(name, buf, maxPixels);
  const sixteen = header.bitDepth === 16;
  // Decode at full size first: resizing inside the same pipeline lets libvips skip rows, and then
  // libjpeg never reports corrupt data in them. Alpha and 16-bit samples are resolved before any
  // resampling, so the resize works on what will be shown.
  const full = sharp(buf, { failOn: 'warning', limitInputPixels: maxPixels }).autoOrient();
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await (sixteen ? full.toColourspace('rgb16').raw({ depth: 'ushort' }) : full.toColourspace('srgb').raw()).toBuffer({
      resolveWithObject: true,
    });
  } catch (err) {
    const msg = describeError(err);
    const cause = /premature end of (jpeg )?file|truncated|unexpected end|not enough data/i.test(msg) ? 'truncated' : 'corrupt';
    throw new InputFileError(name, `${cause} ${header.format} (${msg})`, { cause: err });
  }
  const { width, height } = out.info;
  const samples = sixteen
    ? new Uint16Array(out.data.buffer, out.data.byteOffset, out.data.length / 2)
    : new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
  const rgb = toRgb8(samples, width * height, out.info.channels, sixteen ? 65535 : 255);
  return {
    ...(await resizeRgb(rgb, width, height, name, opts)),
    source: {
      format: header.format,
      width: header.width,
      height: header.height,
      channels: header.channels,
      bitDepth: header.bitDepth,
    },
  };
}

/** RGB uint8 resized to `opts.size` (Lanczos-3, stretched or letterboxed in black), or as it is without a size. */
async function resizeRgb(data: Uint8Array, width: number, height: number, name: string, opts: DecodeOptions): Promise<{ data: Uint8Array; width: number; height: number }> {
  if (opts.size === undefined) return { data, width, height };
  const [w, h] = targetSize(opts.size, name);
  const resized = await sharp(data, { raw: { width, height, channels: 3 } })
    .resize(w, h, { fit: opts.fit === 'pad' ? 'contain' : 'fill', background: { r: 0, g: 0, b: 0 }, kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { data: out, info } = resized;
  return { data: new Uint8Array(out.buffer, out.byteOffset, out.length), width: info.width, height: info.height };
}

async function decodeDicomImage(buf: Uint8Array, name: string, opts: DecodeOptions, maxPixels: number): Promise<DecodedImage> {
  const img = await decodeDicom(buf, name, maxPixels);
  if (opts.warn !== false) for (const w of img.warnings) console.warn(`cxr: warning: ${name}: ${w}`);
  const rgb = img.channels === 3 ? img.data : toRgb8(img.data, img.width * img.height, 1, 255);
  const h = img.header;
  return {
    ...(await resizeRgb(rgb, img.width, img.height, name, opts)),
    source: { format: 'dicom', width: img.width, height: img.height, channels: h.samplesPerPixel, bitDepth: h.bitsStored },
    warnings: img.warnings,
  };
}

/** Grey/RGB samples, with or without alpha, of maximum `max` to RGB uint8, alpha composited onto black. */
function toRgb8(src: Uint8Array | Uint16Array, pixels: number, channels: number, max: number): Uint8Array {
  // The common cases (8-bit RGB, 8-bit grey) need no arithmetic.
  if (max === 255 && channels === 3) return src as Uint8Array;
  const dst = new Uint8Array(pixels * 3);
  if (max === 255 && channels === 1) {
    for (let p = 0, d = 0; p < pixels; p++, d += 3) dst[d] = dst[d + 1] = dst[d + 2] = src[p];
    return dst;
  }
  const colours = channels >= 3 ? 3 : 1;
  const alphaAt = channels === 2 || channels === 4 ? channels - 1 : -1;
  const scale = 255 / max;
  for (let p = 0; p < pixels; p++) {
    const s = p * channels;
    const alpha = alphaAt >= 0 ? src[s + alphaAt] / max : 1;
    for (let c = 0; c < 3; c++) dst[p * 3 + c] = Math.round(src[s + (colours === 3 ? c : 0)] * alpha * scale);
  }
  return dst;
}
