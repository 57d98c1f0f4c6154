import * as zlib from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';

/** Transfer syntaxes whose pixel data are stored as plain samples (no codec). */
export const NATIVE_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
};
const BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** A lookup table (Modality or VOI LUT Sequence item, PS3.3 C.11.1 / C.11.2). */
export interface Lut {
  /** First input value mapped; lower inputs take the first entry, higher than the last take the last. */
  firstMapped: number;
  /** Nominal bits per entry (LUT Descriptor's third value). */
  bits: number;
  data: Uint16Array;
}

/** The window of the VOI LUT module (PS3.3 C.11.2.1.2). */
export interface VoiWindow {
  center: number;
  width: number;
  func: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  /** How many windows the header offers (the first is used). */
  count: number;
}

/** Everything the pixel pipeline needs, read from the header. No patient data. */
export interface DicomImageHeader {
  transferSyntax: string;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  photometric: string;
  planarConfiguration: number;
  frames: number;
  littleEndian: boolean;
  rescale?: { slope: number; intercept: number };
  modalityLut?: Lut;
  window?: VoiWindow;
  voiLut?: Lut;
}

/** Header fields that are safe to show (no patient, institution or accession data). */
export interface DicomSafeFields {
  sopClassUid?: string;
  modality?: string;
  bodyPart?: string;
  viewPosition?: string;
  patientAge?: string;
  manufacturer?: string;
  model?: string;
  stationName?: string;
}

/** A parsed DICOM file. `patientId` is identifying: it never leaves lib/data except hashed. */
export interface ParsedDicom {
  dataSet: DataSet;
  /** Null when the file has no Pixel Data (e.g. a structured report). */
  pixelData: Element | null;
  image: DicomImageHeader | null;
  safe: DicomSafeFields;
  patientId?: string;
}

/** A DICOM file cannot be read; `message` never holds a header value. */
export class DicomFormatError extends Error {
  override name = 'DicomFormatError';
}

/** True when `buf` has the DICOM Part 10 preamble: `DICM` at byte 128 (PS3.10 7.1). */
export function isDicom(buf: Uint8Array): boolean {
  return buf.length >= 132 && buf[128] === 0x44 && buf[129] === 0x49 && buf[130] === 0x43 && buf[131] === 0x4d;
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }`; one line out of any of them. */
function parserMessage(err: unknown): string {
  const inner = err && typeof err === 'object' && 'exception' in err ? (err as { exception: unknown }).exception : err;
  const text = inner instanceof Error ? inner.message : String(inner);
  return text.replace(/^dicomParser[.:]\w+:\s*/, '').split('\n')[0];
}

function inflate(bytes: Uint8Array, position: number): Uint8Array {
  let inflated: Uint8Array;
  try {
    inflated = zlib.inflateRawSync(bytes.subarray(position));
  } catch (err) {
    // A corrupt stream, or the page (a browser has no synchronous inflate).
    throw new DicomFormatError(`deflated transfer syntax: cannot inflate the data set (${err instanceof Error ? err.message : String(err)})`);
  }
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position));
  whole.set(inflated, position);
  return whole;
}

const str = (ds: DataSet, tag: string) => ds.string(tag)?.trim() || undefined;

/** A US/SS value whose VR may be implicit: signed when the header says so (PS3.5 A.1 ambiguous VRs). */
function ambiguousInt(ds: DataSet, tag: string, index: number, signed: boolean): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2 * (index + 1)) return undefined;
  return (el.vr ? el.vr === 'SS' : signed) ? ds.int16(tag, index) : ds.uint16(tag, index);
}

function readLut(item: DataSet, signedInput: boolean): Lut | undefined {
  const desc = item.elements.x00283002;
  const data = item.elements.x00283006;
  if (!desc || !data) return undefined;
  const entries = item.uint16('x00283002', 0) || 65536;
  const firstMapped = ambiguousInt(item, 'x00283002', 1, signedInput) ?? 0;
  const bits = item.uint16('x00283002', 2) ?? 16;
  if (data.dataOffset + data.length > item.byteArray.length) throw new DicomFormatError('LUT Data runs past the end of the file');
  const values = new Uint16Array(Math.min(entries, data.length >> 1));
  for (let i = 0; i < values.length; i++) values[i] = item.byteArrayParser.readUint16(item.byteArray, data.dataOffset + 2 * i);
  if (values.length === 0) throw new DicomFormatError('empty LUT Data');
  return { firstMapped, bits, data: values };
}

function firstItem(ds: DataSet, tag: string): DataSet | undefined {
  return ds.elements[tag]?.items?.[0]?.dataSet;
}

function readWindow(ds: DataSet): VoiWindow | undefined {
  const center = ds.floatString('x00281050', 0);
  const width = ds.floatString('x00281051', 0);
  if (center === undefined || width === undefined || !Number.isFinite(center) || !Number.isFinite(width)) return undefined;
  const fn = (str(ds, 'x00281056') ?? 'LINEAR').toUpperCase();
  if (fn !== 'LINEAR' && fn !== 'LINEAR_EXACT' && fn !== 'SIGMOID') throw new DicomFormatError(`unsupported VOI LUT Function ${fn}`);
  const count = Math.min(ds.numStringValues('x00281050') ?? 1, ds.numStringValues('x00281051') ?? 1);
  return { center, width, func: fn, count };
}

function required(ds: DataSet, tag: string, name: string): number {
  const v = ds.uint16(tag);
  if (v === undefined) throw new DicomFormatError(`no ${name} in the header`);
  return v;
}

function readImageHeader(ds: DataSet, transferSyntax: string): DicomImageHeader {
  const bitsAllocated = required(ds, 'x00280100', 'Bits Allocated (0028,0100)');
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const pixelRepresentation = ds.uint16('x00280103') ?? 0;
  const signed = pixelRepresentation === 1;
  const slope = ds.floatString('x00281053');
  const intercept = ds.floatString('x00281052');
  const modalityItem = firstItem(ds, 'x00283000');
  const voiItem = firstItem(ds, 'x00283010');
  const window = readWindow(ds);
  return {
    transferSyntax,
    rows: required(ds, 'x00280010', 'Rows (0028,0010)'),
    columns: required(ds, 'x00280011', 'Columns (0028,0011)'),
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: ds.uint16('x00280102') ?? bitsStored - 1,
    pixelRepresentation,
    photometric: (str(ds, 'x00280004') ?? 'MONOCHROME2').toUpperCase(),
    planarConfiguration: ds.uint16('x00280006') ?? 0,
    frames: Math.max(1, ds.intString('x00280008') ?? 1),
    littleEndian: transferSyntax !== BIG_ENDIAN,
    ...(slope !== undefined && intercept !== undefined && Number.isFinite(slope) && Number.isFinite(intercept)
      ? { rescale: { slope, intercept } }
      : {}),
    ...(modalityItem ? { modalityLut: readLut(modalityItem, signed) } : {}),
    ...(window ? { window } : {}),
    // A VOI LUT's input is the modality output, which is signed only if the stored values are and no LUT made them unsigned.
    ...(voiItem ? { voiLut: readLut(voiItem, signed && !modalityItem) } : {}),
  };
}

/**
 * Parses a DICOM Part 10 file (explicit/implicit VR little endian, deflated, big endian; any
 * compressed transfer syntax, whose frames are decoded later). Reads only the fields the pixel
 * pipeline and the data layer use; patient name, birth date, accession number and institution are
 * never read.
 * @param buf the whole file
 * @throws DicomFormatError when the file is not DICOM, has no transfer syntax, or cannot be parsed
 * @example parseDicom(fs.readFileSync('cxr.dcm')).image?.photometric // 'MONOCHROME1'
 */
export function parseDicom(buf: Uint8Array): ParsedDicom {
  if (!isDicom(buf)) throw new DicomFormatError('not a DICOM file (no DICM preamble at byte 128)');
  try {
    return readParsed(dicomParser.parseDicom(buf, { inflater: inflate } as dicomParser.ParseDicomOptions));
  } catch (err) {
    if (err instanceof DicomFormatError) throw err;
    // dicom-parser reports bad input by throwing strings or `{ exception }`, also from its value accessors.
    if (!(typeof err === 'string' || err instanceof Error || (err && typeof err === 'object' && 'exception' in err))) throw err;
    const msg = parserMessage(err);
    if (/0002,0010/.test(msg)) throw new DicomFormatError('no Transfer Syntax UID (0002,0010) in the file meta header');
    if (/buffer overrun|exceeds|past end|end of (buffer|stream)/i.test(msg)) throw new DicomFormatError(`truncated DICOM: an element runs past the end of the file (${msg})`);
    throw new DicomFormatError(`malformed DICOM (${msg})`);
  }
}

function readParsed(ds: DataSet): ParsedDicom {
  const transferSyntax = (ds.string('x00020010') ?? '').replace(/\0/g, '').trim();
  if (!transferSyntax) throw new DicomFormatError('no Transfer Syntax UID (0002,0010) in the file meta header');
  if (!ds.elements.x7fe00010 && (ds.elements.x7fe00008 || ds.elements.x7fe00009)) {
    throw new DicomFormatError('floating-point pixel data (7FE0,0008/0009): not supported');
  }
  const pixelData = ds.elements.x7fe00010 ?? null;
  return {
    dataSet: ds,
    pixelData,
    image: pixelData ? readImageHeader(ds, transferSyntax) : null,
    safe: {
      sopClassUid: str(ds, 'x00080016'),
      modality: str(ds, 'x00080060'),
      bodyPart: str(ds, 'x00180015'),
      viewPosition: str(ds, 'x00185101'),
      patientAge: str(ds, 'x00101010'),
      manufacturer: str(ds, 'x00080070'),
      model: str(ds, 'x00081090'),
      stationName: str(ds, 'x00081010'),
    },
    patientId: str(ds, 'x00100020'),
  };
}
