import { auditConfounds, formatConfounds, type ConfoundAudit } from './confounds';
import { LABELS, type Label } from './labels';
import { ageGroupOf } from './provenance';
import type { Dataset, Sample } from './types';

export type PerClass = Record<Label, number>;

/** Counts that describe a dataset, with a per-class breakdown wherever a property could predict the class. */
export interface DataSummary {
  root: string;
  /** Every data folder read (several when merged): dataset name and path. */
  folders: { name: string; dir: string }[];
  /** Extra folders read as a class. */
  classMap: Record<string, Label>;
  hasManifest: boolean;
  images: number;
  patients: number;
  perClass: Record<Label, { images: number; patients: number }>;
  /** source -> images per class */
  perSource: Record<string, PerClass>;
  /** format -> images per class */
  perFormat: Record<string, PerClass>;
  /** dataset (data folder) -> images per class */
  perDataset: Record<string, PerClass>;
  /** age group (adult, paediatric, unknown) -> images per class */
  ageGroups: Record<string, PerClass>;
  /** How well age group, source, format, size… alone predict the class, with warnings. */
  confounds: ConfoundAudit;
  /** Stored sizes per class and overall. */
  size: Record<Label | 'all', { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number; medianLongSide: number } | null>;
  imagesPerPatient: { min: number; median: number; max: number; mean: number };
  duplicates: { groups: number; files: number; crossClass: number };
  /** Files skipped by the scan. */
  skipped: number;
  notes: string[];
}

function emptyPerClass(): PerClass {
  return { covid: 0, viral: 0, normal: 0 };
}

function median(sorted: number[]): number {
  if (sorted.length === 0) return 0;
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

function tally(samples: readonly Sample[], key: (s: Sample) => string): Record<string, PerClass> {
  const out: Record<string, PerClass> = {};
  for (const s of samples) (out[key(s)] ??= emptyPerClass())[s.label] += 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function sizeRange(samples: readonly Sample[]) {
  if (samples.length === 0) return null;
  const longSides = samples.map((s) => Math.max(s.width, s.height)).sort((a, b) => a - b);
  return {
    minWidth: Math.min(...samples.map((s) => s.width)),
    maxWidth: Math.max(...samples.map((s) => s.width)),
    minHeight: Math.min(...samples.map((s) => s.height)),
    maxHeight: Math.max(...samples.map((s) => s.height)),
    medianLongSide: median(longSides),
  };
}

export function summarize(dataset: Dataset): DataSummary {
  const { samples } = dataset;
  const perPatient = new Map<string, number>();
  for (const s of samples) perPatient.set(s.patientId, (perPatient.get(s.patientId) ?? 0) + 1);
  const counts = [...perPatient.values()].sort((a, b) => a - b);
  const perClass = Object.fromEntries(
    LABELS.map((l) => {
      const own = samples.filter((s) => s.label === l);
      return [l, { images: own.length, patients: new Set(own.map((s) => s.patientId)).size }];
    }),
  ) as DataSummary['perClass'];
  const size = Object.fromEntries([
    ...LABELS.map((l) => [l, sizeRange(samples.filter((s) => s.label === l))]),
    ['all', sizeRange(samples)],
  ]) as DataSummary['size'];
  return {
    root: dataset.root,
    folders: dataset.folders,
    classMap: { ...dataset.classMap },
    hasManifest: dataset.hasManifest,
    images: samples.length,
    patients: perPatient.size,
    perClass,
    perSource: tally(samples, (s) => s.source),
    perFormat: tally(samples, (s) => s.format),
    perDataset: tally(samples, (s) => s.dataset),
    ageGroups: tally(samples, (s) => ageGroupOf(s.ageGroup)),
    confounds: auditConfounds(samples),
    size,
    imagesPerPatient: {
      min: counts[0] ?? 0,
      median: median(counts),
      max: counts[counts.length - 1] ?? 0,
      mean: counts.length ? samples.length / counts.length : 0,
    },
    duplicates: {
      groups: dataset.duplicates.length,
      files: dataset.duplicates.reduce((n, g) => n + g.length, 0),
      crossClass: dataset.duplicates.filter((g) => new Set(g.map((s) => s.label)).size > 1).length,
    },
    skipped: dataset.problems.length,
    notes: dataset.notes,
  };
}

function table(title: string, rows: Record<string, PerClass>): string[] {
  const names = Object.keys(rows);
  const w = Math.max(title.length, ...names.map((n) => n.length));
  const head = `${title.padEnd(w)}  ${LABELS.map((l) => l.padStart(7)).join('')}  ${'total'.padStart(7)}`;
  return [
    head,
    ...names.map((n) => {
      const r = rows[n];
      const total = LABELS.reduce((a, l) => a + r[l], 0);
      return `${n.padEnd(w)}  ${LABELS.map((l) => String(r[l]).padStart(7)).join('')}  ${String(total).padStart(7)}`;
    }),
  ];
}

/** The summary as plain-text tables for a terminal or a notebook. */
export function formatSummary(s: DataSummary): string {
  const lines: string[] = [];
  if (s.folders.length > 1) {
    lines.push(`data folders (merged): ${s.folders.map((f) => `${f.name} = ${f.dir}`).join(', ')}${s.hasManifest ? ' (all with manifest.csv)' : ''}`);
  } else {
    lines.push(`data folder: ${s.root}${s.hasManifest ? ' (with manifest.csv)' : ' (no manifest.csv)'}`);
  }
  for (const [folder, label] of Object.entries(s.classMap)) lines.push(`class map: ${folder}/ → ${label}`);
  lines.push(`images: ${s.images}   patients: ${s.patients}   skipped files: ${s.skipped}`);
  lines.push('');
  const classRows: Record<string, PerClass> = {
    images: Object.fromEntries(LABELS.map((l) => [l, s.perClass[l].images])) as PerClass,
    patients: Object.fromEntries(LABELS.map((l) => [l, s.perClass[l].patients])) as PerClass,
  };
  lines.push(...table('class', classRows), '');
  if (s.folders.length > 1) lines.push(...table('dataset', s.perDataset), '');
  lines.push(...table('source', s.perSource), '');
  lines.push(...table('format', s.perFormat), '');
  lines.push(...table('age group', s.ageGroups), '');
  lines.push('size (stored pixels)');
  for (const k of [...LABELS, 'all'] as const) {
    const r = s.size[k];
    lines.push(r ? `  ${k.padEnd(7)} width ${r.minWidth}-${r.maxWidth}, height ${r.minHeight}-${r.maxHeight}, median long side ${r.medianLongSide}` : `  ${k.padEnd(7)} (none)`);
  }
  const p = s.imagesPerPatient;
  lines.push('', `images per patient: min ${p.min}, median ${p.median}, mean ${p.mean.toFixed(2)}, max ${p.max}`);
  lines.push(`exact duplicates: ${s.duplicates.groups} group(s), ${s.duplicates.files} file(s), ${s.duplicates.crossClass} across classes`);
  lines.push('', formatConfounds(s.confounds));
  if (s.notes.length > 0) lines.push('', 'notes:', ...s.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}
