/**
 * The confound audit: how well each property of an image that is not its content (age group, source,
 * dataset, format, colour, size, view) predicts its class, before any model is trained. A class confined to
 * one age group or one source is a shortcut a network will take (DeGrave et al. 2021); this makes it
 * visible in `cxr data summary` and the report.
 */
import { LABELS, type Label } from './labels';
import { ageGroupOf } from './provenance';
import type { Sample } from './types';

export type ClassCounts = Record<Label, number>;

/** A property of a sample other than its pixels. */
export interface ConfoundProperty {
  name: string;
  value: (s: Sample) => string;
}

/** Longest side in bins: stored size is a classic source fingerprint. */
export function sizeBin(s: Pick<Sample, 'width' | 'height'>): string {
  const side = Math.max(s.width, s.height);
  if (side < 512) return '<512 px';
  if (side < 768) return '512–767 px';
  if (side < 1024) return '768–1023 px';
  if (side < 2048) return '1024–2047 px';
  return '≥2048 px';
}

/** Stored colour layout, e.g. `grey 8-bit`, `RGB 8-bit`. */
export function colourKind(s: Pick<Sample, 'channels' | 'bitDepth'>): string {
  const names: Record<number, string> = { 1: 'grey', 2: 'grey+alpha', 3: 'RGB', 4: 'RGBA' };
  return `${names[s.channels] ?? `${s.channels}-channel`} ${s.bitDepth}-bit`;
}

/** The properties audited, in the order reported. */
export const CONFOUND_PROPERTIES: readonly ConfoundProperty[] = [
  { name: 'age group', value: (s) => ageGroupOf(s.ageGroup) },
  { name: 'source', value: (s) => s.source },
  { name: 'dataset', value: (s) => s.dataset },
  { name: 'format', value: (s) => s.format },
  { name: 'pixels', value: colourKind },
  { name: 'size', value: sizeBin },
  { name: 'view', value: (s) => (s.view ?? 'unknown').split(/[ (]/)[0] || 'unknown' },
];

export interface ConfoundRow {
  property: string;
  /** value → images per class, values most frequent first */
  table: Record<string, ClassCounts>;
  /** Accuracy of guessing the class from this property alone (the majority class of each value), in-sample. */
  predictability: number;
}

export interface ConfoundAudit {
  /** Accuracy of always guessing the largest class. */
  majority: number;
  rows: ConfoundRow[];
  /** One line per value (with ≥ 10 images) that is nearly one class, e.g. "format png: 93 % of its 200 images are covid". */
  warnings: string[];
}

/** Share of one class among a value's images at or above which the audit warns. */
export const CONFINED = 0.9;
/** Values with fewer images are not warned about (too few to matter, too many lines). */
const MIN_GROUP = 10;

function crossTab(samples: readonly Sample[], value: (s: Sample) => string): Record<string, ClassCounts> {
  const out = new Map<string, ClassCounts>();
  for (const s of samples) {
    const v = value(s);
    if (!out.has(v)) out.set(v, { covid: 0, viral: 0, normal: 0 });
    out.get(v)![s.label] += 1;
  }
  const total = (c: ClassCounts) => LABELS.reduce((a, l) => a + c[l], 0);
  return Object.fromEntries([...out.entries()].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1)));
}

const pct = (x: number) => `${Math.round(100 * x)} %`;

/**
 * Audits a dataset's samples.
 * @example auditConfounds(ds.samples).warnings // ['age group adult: 100 % of its 536 images are covid, and 100 % of covid images are age group adult', …]
 */
export function auditConfounds(samples: readonly Sample[], properties = CONFOUND_PROPERTIES): ConfoundAudit {
  const n = samples.length;
  const classTotals = Object.fromEntries(LABELS.map((l) => [l, samples.filter((s) => s.label === l).length])) as ClassCounts;
  const majority = n ? Math.max(...LABELS.map((l) => classTotals[l])) / n : 0;
  const warnings: string[] = [];
  const rows = properties.map((p) => {
    const table = crossTab(samples, p.value);
    const values = Object.entries(table);
    const predictability = n ? values.reduce((a, [, c]) => a + Math.max(...LABELS.map((l) => c[l])), 0) / n : 0;
    if (values.length > 1) {
      for (const [v, c] of values) {
        const size = LABELS.reduce((a, k) => a + c[k], 0);
        const top = LABELS.reduce((a, k) => (c[k] > c[a] ? k : a), LABELS[0]);
        const ofValue = c[top] / size;
        const ofClass = c[top] / classTotals[top];
        if (size >= MIN_GROUP && ofValue >= CONFINED) {
          warnings.push(
            `${p.name} ${v}: ${pct(ofValue)} of its ${size} images are ${top}` +
              (ofClass >= CONFINED ? `, and ${pct(ofClass)} of ${top} images are ${p.name} ${v}` : ''),
          );
        }
      }
    }
    return { property: p.name, table, predictability };
  });
  for (const r of rows) {
    if (r.predictability >= CONFINED && r.predictability > majority + 0.1) {
      warnings.push(`${r.property} alone gives the class of ${pct(r.predictability)} of images (always guessing the largest class: ${pct(majority)})`);
    }
  }
  return { majority, rows, warnings };
}

/** The audit as text: one cross-table per property with its predictability, then the warnings. */
export function formatConfounds(a: ConfoundAudit): string {
  const lines = [`confound audit (class from one property alone; always guessing the largest class: ${pct(a.majority)})`];
  for (const r of a.rows) {
    const names = Object.keys(r.table);
    const w = Math.max(r.property.length, ...names.map((v) => v.length));
    lines.push('', `${r.property.padEnd(w)}  ${LABELS.map((l) => l.padStart(7)).join('')}   → class from ${r.property}: ${pct(r.predictability)}`);
    for (const v of names) lines.push(`${v.padEnd(w)}  ${LABELS.map((l) => String(r.table[v][l]).padStart(7)).join('')}`);
  }
  lines.push('', a.warnings.length ? 'warnings:' : 'no class is confined to one value of these properties');
  for (const w of a.warnings) lines.push(`  ! ${w}`);
  return lines.join('\n');
}
