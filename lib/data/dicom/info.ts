import * as fs from 'node:fs';
import { InputFileError, describeError } from '../../errors';
import { COMPRESSED_SYNTAXES } from './codecs';
import { decodeDicom } from './image';
import { DicomFormatError, NATIVE_SYNTAXES, parseDicom } from './parse';
import { describePipeline } from './pixels';
import { ageGroupFromAge } from './sample';
import { patientKey } from './patient-key';

/** What `cxr dicom info` shows: header fields that identify no one, and the pipeline the pixels go through. */
export interface DicomInfo {
  file: string;
  transferSyntax: string;
  transferSyntaxName: string;
  width: number;
  height: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  /** Salted hash of PatientID, as the data layer groups by it; never the id itself. */
  patientKey?: string;
  modality?: string;
  bodyPart?: string;
  viewPosition?: string;
  /** From PatientAge, with ages over 89 shown as 90+. */
  ageGroup?: string;
  manufacturer?: string;
  model?: string;
  stationName?: string;
  /** The display pipeline's steps, in order. */
  pipeline: string[];
  warnings: string[];
}

/**
 * Reads a DICOM file, decodes its first frame (so a file that cannot be shown fails here too) and
 * describes it without patient name, birth date, accession number or institution.
 * @throws InputFileError naming the file when it cannot be read, is no DICOM, or cannot be decoded
 * @example (await dicomInfo('cxr.dcm')).pipeline // ['stored values: 12 of 16 bits …', …]
 */
export async function dicomInfo(file: string): Promise<DicomInfo> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (err) {
    throw new InputFileError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { cause: err });
  }
  let parsed;
  try {
    parsed = parseDicom(buf);
  } catch (err) {
    if (err instanceof DicomFormatError) throw new InputFileError(file, err.message, { cause: err });
    throw err;
  }
  const img = await decodeDicom(buf, file);
  const h = img.header;
  const { safe } = parsed;
  const ageGroup = ageGroupFromAge(safe.patientAge);
  return {
    file,
    transferSyntax: h.transferSyntax,
    transferSyntaxName: NATIVE_SYNTAXES[h.transferSyntax] ?? COMPRESSED_SYNTAXES[h.transferSyntax]?.name ?? 'unknown',
    width: h.columns,
    height: h.rows,
    frames: h.frames,
    samplesPerPixel: h.samplesPerPixel,
    photometric: h.photometric,
    bitsAllocated: h.bitsAllocated,
    bitsStored: h.bitsStored,
    ...(parsed.patientId ? { patientKey: patientKey(parsed.patientId) } : {}),
    modality: safe.modality,
    bodyPart: safe.bodyPart,
    viewPosition: safe.viewPosition,
    ...(ageGroup ? { ageGroup } : {}),
    manufacturer: safe.manufacturer,
    model: safe.model,
    stationName: safe.stationName,
    pipeline: h.samplesPerPixel === 3 ? [`colour (${h.photometric}): 8-bit RGB as stored, converted to grey by the enhancement`] : describePipeline(h),
    warnings: img.warnings,
  };
}
