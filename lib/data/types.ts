import type { Label } from './labels';

/** One usable image of a scanned dataset. */
export interface Sample {
  /** Path relative to the data root, with `/` separators (the key used in manifests and split CSVs). */
  file: string;
  /** Absolute path. */
  path: string;
  label: Label;
  /** Patient the image belongs to: from manifest.csv, else from the file name, else one per image. */
  patientId: string;
  /** Where the image comes from (manifest `source`/`source_repo`, else the file-name prefix before `__`, else `unknown`). */
  source: string;
  /** SHA-256 of the file's bytes, lower-case hex. */
  sha256: string;
  /** Stored size in pixels, before any EXIF orientation. */
  width: number;
  height: number;
  /** Container format from the file content (not its extension), lower case: `jpeg`, `png`, `webp`, ... */
  format: string;
  /** File size in bytes. */
  bytes: number;
  /** Channels as stored (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA/CMYK). */
  channels: number;
  /** Bits per channel as stored (8 or 16; 1/2/4-bit PNGs report 8 since they decode to 8). */
  bitDepth: number;
  view?: string;
  ageGroup?: string;
}

/** A file a scan skipped (or, with `strict`, refused), and why. */
export interface ScanProblem {
  file: string;
  reason: string;
}

export interface Dataset {
  /** Absolute path of the folder holding the class folders. */
  root: string;
  /** Usable images, sorted by `file`. */
  samples: Sample[];
  problems: ScanProblem[];
  /** Groups (size ≥ 2) of samples with identical bytes. */
  duplicates: Sample[][];
  /** What was derived rather than read, and other facts a user should know. */
  notes: string[];
  hasManifest: boolean;
}

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface Split {
  /** Seed the split was made with; NaN when it was read from a CSV (the CSV does not record it). */
  seed: number;
  /** Requested fractions (or, read from a CSV, the fractions found there). */
  fractions: SplitFractions;
  train: Sample[];
  val: Sample[];
  /** For final evaluation only. */
  test: Sample[];
}
