import * as path from 'node:path';
import { InputFileError } from '../errors';
import { readCsv } from '../io/csv';
import { labelForFolder, type ClassMap, type Label } from './labels';
import { sourceOf } from './provenance';

/** One row of a dataset's manifest.csv, as far as the data layer uses it. */
export interface ManifestEntry {
  /** Posix path relative to the data root. */
  file: string;
  label: Label;
  patientId?: string;
  source?: string;
  view?: string;
  ageGroup?: string;
  /** Lower-case hex. */
  sha256?: string;
  /** The full CSV row, for tools that need more columns (fetch). */
  row: Record<string, string>;
}

export const MANIFEST_NAME = 'manifest.csv';

/** Normalises a manifest path to posix form and refuses paths that leave the data root. */
export function manifestPath(file: string, manifest: string, line: number): string {
  const posix = file.trim().replace(/\\/g, '/');
  const norm = path.posix.normalize(posix);
  if (!posix || path.posix.isAbsolute(norm) || norm === '..' || norm.startsWith('../') || /^[a-z]:/i.test(norm)) {
    throw new InputFileError(manifest, `row ${line}: file "${file}" must be a path inside the data folder`);
  }
  return norm;
}

export interface ReadManifestOptions {
  /** Extra label names mapped to a class (see ClassMap). */
  classMap?: ClassMap;
  /** Called for a row whose label is neither a class nor mapped, instead of failing (the row is left out). */
  onUnknownLabel?: (file: string, label: string) => void;
}

/**
 * Reads a manifest: columns `file` and `label` required; `patient_id`, `source` (else the
 * collection named in `source_dataset`, else `source_repo`), `view`, `age_group`, `sha256` used when
 * present. Labels accept folder aliases (`virus`) and the class map. A file listed twice, a bad label
 * (unless `onUnknownLabel` takes it) or hash, or a path outside the folder is an error.
 * @throws InputFileError naming the manifest and the row
 */
export function readManifest(file: string, opts: ReadManifestOptions = {}): Map<string, ManifestEntry> {
  const rows = readCsv(file, ['file', 'label']);
  const entries = new Map<string, ManifestEntry>();
  rows.forEach((row, i) => {
    const line = i + 2;
    const rel = manifestPath(row.file ?? '', file, line);
    const label = labelForFolder(row.label ?? '', opts.classMap);
    if (!label) {
      if (!opts.onUnknownLabel) throw new InputFileError(file, `row ${line}: unknown label "${row.label}" for ${rel}`);
      opts.onUnknownLabel(rel, row.label ?? '');
      return;
    }
    if (entries.has(rel)) throw new InputFileError(file, `row ${line}: ${rel} is listed twice`);
    const sha = (row.sha256 ?? '').trim().toLowerCase();
    if (sha && !/^[0-9a-f]{64}$/.test(sha)) throw new InputFileError(file, `row ${line}: sha256 "${row.sha256}" is not 64 hex digits`);
    const opt = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
    entries.set(rel, {
      file: rel,
      label,
      patientId: opt(row.patient_id),
      source: sourceOf(row),
      view: opt(row.view),
      ageGroup: opt(row.age_group),
      sha256: sha || undefined,
      row,
    });
  });
  return entries;
}
