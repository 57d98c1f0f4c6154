import * as dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { DicomFormatError, type DicomImageHeader } from './parse';

type CodecsModule = typeof import('dcmjs-codecs');
type Decoder = 'decodeRle' | 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000' | 'decodeJpegXl';

/** Compressed transfer syntaxes (PS3.5 A.4, PS3.6 A) and the dcmjs-codecs decoder of each. */
export const COMPRESSED_SYNTAXES: Record<string, { name: string; decoder: Decoder }> = {
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', decoder: 'decodeRle' },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', decoder: 'decodeJpeg' },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', decoder: 'decodeJpeg' },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless (Process 14)', decoder: 'decodeJpeg' },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless (Process 14, SV1)', decoder: 'decodeJpeg' },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', decoder: 'decodeJpegLs' },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', decoder: 'decodeJpegLs' },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', decoder: 'decodeJpeg2000' },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', decoder: 'decodeJpeg2000' },
  '1.2.840.10008.1.2.4.201': { name: 'HTJ2K Lossless', decoder: 'decodeHtJpeg2000' },
  '1.2.840.10008.1.2.4.202': { name: 'HTJ2K Lossless RPCL', decoder: 'decodeHtJpeg2000' },
  '1.2.840.10008.1.2.4.203': { name: 'HTJ2K', decoder: 'decodeHtJpeg2000' },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', decoder: 'decodeJpegXl' },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL', decoder: 'decodeJpegXl' },
};

let codecs: Promise<CodecsModule> | undefined;
/** Where a browser fetches the codecs' WebAssembly (set by the page); node reads it from the package. */
let browserWasmUrl: string | undefined;

/**
 * Makes the codecs fetch their WebAssembly from `url` (call before the first compressed file, in a browser).
 * @example useCodecsWasmUrl('/wasm/dcmjs-native-codecs.wasm')
 */
export function useCodecsWasmUrl(url: string): void {
  browserWasmUrl = url;
}

/** dcmjs-codecs (its WebAssembly module holds libjpeg 8/12/16-bit, CharLS, OpenJPEG, RLE), loaded once on first use. */
function loadCodecs(): Promise<CodecsModule> {
  codecs ??= (async () => {
    const mod: CodecsModule = require('dcmjs-codecs');
    // Its logger is on at every level by default; errors reach us as exceptions instead.
    mod.log.setLevel('silent');
    if (browserWasmUrl) {
      const url = browserWasmUrl;
      // In a browser the library fetches its module through eval(), which the page's CSP (no 'unsafe-eval')
      // forbids: hand it the bytes instead.
      (mod.NativeCodecs as unknown as { _getWebAssemblyBytes(): Promise<ArrayBuffer> })._getWebAssemblyBytes = async () => {
        const r = await fetch(url);
        if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
        return r.arrayBuffer();
      };
    }
    await mod.NativeCodecs.initializeAsync();
    return mod;
  })();
  return codecs;
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/^dicomParser[.:]\w+:\s*/, '').split('\n')[0];
}

/** The first frame's compressed bytes: fragments split by the Basic Offset Table, one fragment per frame, or all fragments of a single frame. */
function firstEncapsulatedFrame(ds: DataSet, el: Element, frames: number, jpeg: boolean): Uint8Array {
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw new DicomFormatError('encapsulated pixel data without fragments');
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length) throw new DicomFormatError('truncated pixel data (a fragment runs past the end of the file)');
  }
  try {
    if (frames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
    if (el.basicOffsetTable && el.basicOffsetTable.length > 0) return dicomParser.readEncapsulatedImageFrame(ds, el, 0);
    if (fragments.length === frames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, 1);
    if (jpeg) return dicomParser.readEncapsulatedImageFrame(ds, el, 0, dicomParser.createJPEGBasicOffsetTable(ds, el));
  } catch (err) {
    throw new DicomFormatError(`cannot split the encapsulated pixel data into frames (${message(err)})`);
  }
  throw new DicomFormatError(`${frames} frames in ${fragments.length} fragments without a Basic Offset Table: cannot find the first frame`);
}

/** A frame's bytes and, when something was tolerated, what. */
export interface FrameBytes {
  bytes: Uint8Array;
  warning?: string;
}

/**
 * The first frame's samples, uncompressed and in the file's byte order (codecs output little endian).
 * Native pixel data must hold at least Rows × Columns × Samples × Frames samples; bytes beyond them
 * (some writers pad) are ignored with a warning, as pydicom does.
 * @throws DicomFormatError for truncated or short pixel data, an unsupported transfer syntax, or a codec error
 */
export async function firstFrameBytes(ds: DataSet, el: Element, h: DicomImageHeader): Promise<FrameBytes> {
  const bytesPerSample = h.bitsAllocated / 8;
  const frameBytes = h.rows * h.columns * h.samplesPerPixel * bytesPerSample;
  const compressed = COMPRESSED_SYNTAXES[h.transferSyntax];
  if (!el.encapsulatedPixelData) {
    if (compressed) throw new DicomFormatError(`${compressed.name} file whose pixel data is not encapsulated`);
    const expected = frameBytes * h.frames;
    const available = ds.byteArray.length - el.dataOffset;
    if (available < el.length) throw new DicomFormatError(`truncated pixel data (${available} of ${el.length} bytes in the file)`);
    const geometry = `${h.columns}x${h.rows}x${h.samplesPerPixel}, ${h.bitsAllocated}-bit, ${h.frames} frame(s) = ${expected} bytes`;
    if (el.length < expected) throw new DicomFormatError(`pixel data length ${el.length} does not match ${geometry}`);
    const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + frameBytes);
    // One pad byte keeps an element's length even.
    return el.length > expected + 1 ? { bytes, warning: `pixel data has ${el.length} bytes for ${geometry}: the extra bytes are ignored` } : { bytes };
  }
  if (!compressed) throw new DicomFormatError(`transfer syntax ${h.transferSyntax}: not supported`);
  const encoded = firstEncapsulatedFrame(ds, el, h.frames, compressed.decoder === 'decodeJpeg');
  const mod = await loadCodecs();
  let decoded: Uint8Array | undefined;
  try {
    const context = new mod.Context({
      width: h.columns,
      height: h.rows,
      bitsAllocated: h.bitsAllocated,
      bitsStored: h.bitsStored,
      samplesPerPixel: h.samplesPerPixel,
      pixelRepresentation: h.pixelRepresentation,
      planarConfiguration: h.planarConfiguration,
      photometricInterpretation: h.photometric,
      encodedBuffer: encoded,
    });
    decoded = mod.NativeCodecs[compressed.decoder](context, { convertColorspaceToRgb: h.samplesPerPixel === 3 }).getDecodedBuffer();
  } catch (err) {
    throw new DicomFormatError(`corrupt ${compressed.name} pixel data (${message(err)})`);
  }
  if (!decoded || decoded.length < frameBytes) {
    throw new DicomFormatError(`${compressed.name} frame decoded to ${decoded?.length ?? 0} bytes, expected ${frameBytes}`);
  }
  return { bytes: decoded.subarray(0, frameBytes) };
}
