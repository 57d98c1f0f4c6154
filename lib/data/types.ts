import type { ClassMap, Label } from './labels';

/** One usable image of a scanned dataset. */
export interface Sample {
  /**
   * Path relative to the data root, with `/` separators (the key used in manifests and split CSVs). When
   * several data folders are merged, prefixed by the folder's dataset name: `cxr-adult/normal/x.jpg`.
   */
  file: string;
  /** Absolute path. */
  path: string;
  label: Label;
  /**
   * Patient the image belongs to: from manifest.csv, else from the file name, else one per image; prefixed
   * by the dataset name (`cxr-adult:nih:00000002`) when several data folders are merged.
   */
  patientId: string;
  /** Name of the data folder the image was read from (its base name, made unique when merging). */
  dataset: string;
  /**
   * The collection the image comes from (manifest `source`, else the collection in `source_dataset`, else
   * `source_repo`; without a manifest the file-name prefix before `__`, else the dataset name).
   */
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
  /** As the manifest gives it (e.g. `adult(age=80)`); `ageGroupOf` in provenance.ts makes it canonical. */
  ageGroup?: string;
  /** Samples sharing this id are near-duplicate images (perceptual hash) and stay on one side of a split. */
  imageGroup?: string;
}

/** One data folder of a (possibly merged) dataset. */
export interface DataFolder {
  /** Dataset name: the folder's base name, made unique. */
  name: string;
  /** Absolute path. */
  dir: string;
}

/** A file a scan skipped (or, with `strict`, refused), and why. */
export interface ScanProblem {
  file: string;
  reason: string;
}

export interface Dataset {
  /** Absolute path of the folder holding the class folders (the first folder when several are merged). */
  root: string;
  /** Every data folder read, in the order given. */
  folders: DataFolder[];
  /** Extra folder names that were mapped to a class. */
  classMap: ClassMap;
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
