import { InputFileError } from '../../errors';
import { COMPRESSED_SYNTAXES, firstFrameBytes } from './codecs';
import { dicomExclusion } from './exclusion';
import { DicomFormatError, NATIVE_SYNTAXES, parseDicom, type DicomImageHeader, type ParsedDicom } from './parse';
import { displayGrey, storedValues } from './pixels';

/** A DICOM image after the display pipeline: 8-bit, 1 (grey) or 3 (RGB) channels, interleaved. */
export interface DicomPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  header: DicomImageHeader;
  /** Things a user should know (e.g. only the first of several frames was used). */
  warnings: string[];
}

const GREY = ['MONOCHROME1', 'MONOCHROME2'];
/** Colour images after decoding; JPEG codecs return YBR as RGB. */
const COLOUR = ['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_ICT', 'YBR_RCT'];

/** The header's image, or a one-line reason why the file has none that can be shown. */
export function imageHeaderOf(parsed: ParsedDicom, maxPixels: number): DicomImageHeader {
  const h = parsed.image;
  if (!h) {
    const what = parsed.safe.modality ? `Modality ${parsed.safe.modality}` : 'no image';
    throw new DicomFormatError(`DICOM without pixel data (${what}, e.g. a structured report): nothing to show`);
  }
  if (!NATIVE_SYNTAXES[h.transferSyntax] && !COMPRESSED_SYNTAXES[h.transferSyntax]) {
    throw new DicomFormatError(`transfer syntax ${h.transferSyntax}: not supported`);
  }
  if (h.rows < 1 || h.columns < 1) throw new DicomFormatError(`image size ${h.columns}x${h.rows}`);
  if (h.rows * h.columns > maxPixels) {
    throw new DicomFormatError(`${h.columns}x${h.rows} pixels is over the limit of ${maxPixels} (refused as a possible decompression bomb)`);
  }
  const grey = GREY.includes(h.photometric) && h.samplesPerPixel === 1;
  const colour = COLOUR.includes(h.photometric) && h.samplesPerPixel === 3;
  if (!grey && !colour) throw new DicomFormatError(`photometric interpretation ${h.photometric} with ${h.samplesPerPixel} sample(s): not supported`);
  if (colour && h.bitsAllocated !== 8) throw new DicomFormatError(`${h.bitsAllocated}-bit colour: not supported`);
  if (![8, 16, 32].includes(h.bitsAllocated)) throw new DicomFormatError(`Bits Allocated ${h.bitsAllocated}: not supported`);
  return h;
}

/** YBR_FULL (PS3.3 C.7.6.3.1.2) to RGB, the one colour conversion left to us (codecs convert their own). */
function ybrFullToRgb(y: number, cb: number, cr: number): [number, number, number] {
  const c = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return [c(y + 1.402 * (cr - 128)), c(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)), c(y + 1.772 * (cb - 128))];
}

function colourPixels(bytes: Uint8Array, h: DicomImageHeader, decodedByCodec: boolean): Uint8Array {
  const n = h.rows * h.columns;
  const out = new Uint8Array(n * 3);
  const planar = h.planarConfiguration === 1 && !decodedByCodec;
  const ybr = h.photometric === 'YBR_FULL' && !decodedByCodec;
  if (h.photometric !== 'RGB' && !ybr && !decodedByCodec) throw new DicomFormatError(`uncompressed ${h.photometric}: not supported`);
  for (let p = 0; p < n; p++) {
    const s = planar ? [bytes[p], bytes[n + p], bytes[2 * n + p]] : [bytes[3 * p], bytes[3 * p + 1], bytes[3 * p + 2]];
    const rgb = ybr ? ybrFullToRgb(s[0], s[1], s[2]) : s;
    out.set(rgb, 3 * p);
  }
  return out;
}

/**
 * Decodes a DICOM file's first frame through the display pipeline (see pixels.ts); a lateral view, another body
 * part or another modality is refused (exclusion.ts).
 * @param buf the whole file; `name` is used in errors
 * @throws InputFileError naming `name` for anything that stops the image from being shown
 * @example const { data, width, height } = await decodeDicom(fs.readFileSync(f), f);
 */
export async function decodeDicom(buf: Uint8Array, name: string, maxPixels = Infinity): Promise<DicomPixels> {
  try {
    const parsed = parseDicom(buf);
    const h = imageHeaderOf(parsed, maxPixels);
    const excluded = dicomExclusion(parsed.safe, true);
    if (excluded) throw new DicomFormatError(excluded);
    const { bytes, warning } = await firstFrameBytes(parsed.dataSet, parsed.pixelData!, h);
    const warnings = h.frames > 1 ? [`multi-frame DICOM (${h.frames} frames): only the first frame is used`] : [];
    if (warning) warnings.push(warning);
    const byCodec = Boolean(COMPRESSED_SYNTAXES[h.transferSyntax]);
    if (h.samplesPerPixel === 3) {
      return { data: colourPixels(bytes, h, byCodec), width: h.columns, height: h.rows, channels: 3, header: h, warnings };
    }
    const layout = { ...h, littleEndian: byCodec || h.littleEndian };
    const grey = displayGrey(storedValues(bytes, h.rows * h.columns, layout), h);
    return { data: grey, width: h.columns, height: h.rows, channels: 1, header: h, warnings };
  } catch (err) {
    if (err instanceof DicomFormatError || err instanceof RangeError) throw new InputFileError(name, err.message, { cause: err });
    throw err;
  }
}
