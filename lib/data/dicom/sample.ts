import type { Sample } from '../types';
import { DicomFormatError, parseDicom } from './parse';
import { dicomExclusion } from './exclusion';
import { patientKey } from './patient-key';

/** What a DICOM header tells the scan about one image; `excluded` says why it must not be used. */
export interface DicomSampleFields {
  /** Salted hash of PatientID (patient-key.ts); absent when the header has none. */
  patientId?: string;
  view?: string;
  ageGroup?: string;
  source?: string;
  excluded?: string;
}

/** Adult or paediatric from PatientAge (`045Y`, `007M`, `010W`, `003D`); ages over 89 are shown as 90+ (HIPAA). */
export function ageGroupFromAge(age: string | undefined): string | undefined {
  const m = age?.trim().toUpperCase().match(/^(\d{1,3})\s*([YMWD])?$/);
  if (!m) return undefined;
  const n = Number(m[1]);
  const years = Math.floor(m[2] === 'M' ? n / 12 : m[2] === 'W' ? n / 52 : m[2] === 'D' ? n / 365 : n);
  return `${years >= 18 ? 'adult' : 'paediatric'}(age=${years > 89 ? '90+' : years})`;
}

/**
 * The scan's fields from a DICOM header: patient (hashed PatientID), view, age group, source
 * (Manufacturer and Station Name), or why the image is excluded (no pixels, lateral, not a chest).
 * @param buf the whole file (its header is parsed again; pixels are not decoded)
 * @example dicomSampleFields(buf) // { patientId: 'dicom:…', view: 'PA', ageGroup: 'adult(age=45)', source: 'ACME DR1' }
 */
export function dicomSampleFields(buf: Uint8Array): DicomSampleFields {
  let parsed;
  try {
    parsed = parseDicom(buf);
  } catch (err) {
    if (err instanceof DicomFormatError) return { excluded: err.message };
    throw err;
  }
  const { safe } = parsed;
  const source = [safe.manufacturer, safe.stationName].filter(Boolean).join(' ');
  const excluded = dicomExclusion(safe, parsed.pixelData !== null);
  const ageGroup = ageGroupFromAge(safe.patientAge);
  return {
    ...(parsed.patientId ? { patientId: patientKey(parsed.patientId) } : {}),
    ...(safe.viewPosition ? { view: safe.viewPosition.toUpperCase() } : {}),
    ...(ageGroup ? { ageGroup } : {}),
    ...(source ? { source } : {}),
    ...(excluded ? { excluded } : {}),
  };
}

/**
 * `sample` with the DICOM header's fields where the manifest gives none (a manifest row always wins).
 * @param fromManifest the fields the manifest row set, if any
 */
export function withDicomFields(sample: Sample, fields: DicomSampleFields | undefined, fromManifest: Partial<Pick<Sample, 'patientId' | 'source' | 'view' | 'ageGroup'>> = {}): Sample {
  if (!fields) return sample;
  const out = { ...sample };
  if (fields.patientId && !fromManifest.patientId) out.patientId = fields.patientId;
  if (fields.source && !fromManifest.source) out.source = fields.source;
  if (fields.view && !fromManifest.view) out.view = fields.view;
  if (fields.ageGroup && !fromManifest.ageGroup) out.ageGroup = fields.ageGroup;
  return out;
}

/** Whether the sample's patient came from a DICOM PatientID (possibly prefixed by a dataset name). */
export function hasDicomPatient(s: Pick<Sample, 'format' | 'patientId'>): boolean {
  return s.format === 'dicom' && /(^|:)dicom:[0-9a-f]{16}$/.test(s.patientId);
}

/** The scan's note on patients taken from DICOM headers, if any were. */
export function dicomPatientNotes(samples: readonly Sample[]): string[] {
  const n = samples.filter(hasDicomPatient).length;
  return n > 0 ? [`patient id from the DICOM PatientID (salted hash) for ${n} image(s)`] : [];
}
