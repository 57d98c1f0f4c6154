import { colourKind, sizeBin } from '../data/confounds';
import { LABELS, type Label } from '../data/labels';
import type { Sample } from '../data/types';

// Notebook 01 and the confound audit bin size and colour the same way.
export { colourKind, sizeBin };

/**
 * Descriptive views of a scanned dataset for notebook 01: counts by class, and the properties other
 * than the lungs that differ between classes (where a model could find a shortcut).
 */

/** Images of each class that have each value of one property. */
export interface CrossTab {
  /** Property values, most frequent first. */
  values: string[];
  /** `counts[v][c]`: images with `values[v]` in class `LABELS[c]`. */
  counts: number[][];
}

/** Counts images by a property's value and class. */
export function crossTab(samples: readonly Sample[], key: (s: Sample) => string): CrossTab {
  const byValue = new Map<string, number[]>();
  for (const s of samples) {
    const v = key(s);
    let row = byValue.get(v);
    if (!row) byValue.set(v, (row = LABELS.map(() => 0)));
    row[LABELS.indexOf(s.label)] += 1;
  }
  const entries = [...byValue.entries()].sort(([a, x], [b, y]) => sum(y) - sum(x) || (a < b ? -1 : a > b ? 1 : 0));
  return { values: entries.map(([v]) => v), counts: entries.map(([, row]) => row) };
}

/** The images and distinct patients of each class. */
export function classCounts(samples: readonly Sample[]): Record<Label, { images: number; patients: number }> {
  const out = Object.fromEntries(LABELS.map((l) => [l, { images: 0, patients: 0 }])) as Record<Label, { images: number; patients: number }>;
  const seen = new Set<string>();
  for (const s of samples) {
    out[s.label].images += 1;
    const key = `${s.label}\u0000${s.patientId}`;
    if (!seen.has(key)) {
      seen.add(key);
      out[s.label].patients += 1;
    }
  }
  return out;
}

/** For each class, the number of images of each of its patients (one entry per patient). */
export function imagesPerPatient(samples: readonly Sample[]): Record<Label, number[]> {
  const counts = new Map<string, { label: Label; n: number }>();
  for (const s of samples) {
    const key = `${s.label}\u0000${s.patientId}`;
    const c = counts.get(key);
    if (c) c.n += 1;
    else counts.set(key, { label: s.label, n: 1 });
  }
  const out = Object.fromEntries(LABELS.map((l) => [l, [] as number[]])) as Record<Label, number[]>;
  for (const { label, n } of counts.values()) out[label].push(n);
  return out;
}

/** Samples grouped by class, in `LABELS` order. */
export function byClass(samples: readonly Sample[]): Record<Label, Sample[]> {
  const out = Object.fromEntries(LABELS.map((l) => [l, [] as Sample[]])) as Record<Label, Sample[]>;
  for (const s of samples) out[s.label].push(s);
  return out;
}

/**
 * `n` samples of each class, chosen by content hash: an arbitrary but reproducible pick that does not
 * favour any source the way "the first n files" would. `offset` pages on to the next `n`.
 */
export function pickPerClass(samples: readonly Sample[], n: number, offset = 0): Record<Label, Sample[]> {
  const groups = byClass(samples);
  for (const l of LABELS) {
    groups[l] = [...groups[l]].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0)).slice(offset, offset + n);
  }
  return groups;
}

/** Width ÷ height of the stored image. */
export function aspectRatio(s: Pick<Sample, 'width' | 'height'>): number {
  return s.width / s.height;
}

/** Aspect-ratio bins: portrait, about square, landscape. */
export function aspectBin(s: Pick<Sample, 'width' | 'height'>): string {
  const r = aspectRatio(s);
  if (r < 0.9) return 'portrait (<0.9)';
  if (r <= 1.1) return 'square (0.9–1.1)';
  return 'landscape (>1.1)';
}

/** Age group without the per-image detail in parentheses (`adult_or_unknown(age=65)` → `adult_or_unknown`). */
export function ageGroup(s: Pick<Sample, 'ageGroup'>): string {
  const g = s.ageGroup?.replace(/\(.*\)$/, '').trim();
  return g ? g : 'unknown';
}

/** A non-image property a model could learn instead of the disease. */
export interface ShortcutAttribute {
  name: string;
  key: (s: Sample) => string;
}

/** The properties notebook 01 checks. */
export const SHORTCUT_ATTRIBUTES: readonly ShortcutAttribute[] = [
  { name: 'age group', key: ageGroup },
  { name: 'source', key: (s) => s.source },
  { name: 'format', key: (s) => s.format },
  { name: 'colour', key: colourKind },
  { name: 'size', key: sizeBin },
  { name: 'aspect', key: aspectBin },
];

/** One value of one attribute: which classes have it. */
export interface ShortcutRow {
  attribute: string;
  value: string;
  images: number;
  /** Images of each class with this value. */
  perClass: Record<Label, number>;
  /** Share of this value's images in each class, percent (what a model learns from the value). */
  classShare: Record<Label, number>;
  /** The class most of this value's images belong to, and its share (percent). */
  dominant: Label;
  dominantShare: number;
}

/** How much one attribute alone tells about the class. */
export interface AttributeLeak {
  attribute: string;
  values: number;
  /**
   * Accuracy (percent) of guessing each image's class as the majority class of its attribute value,
   * measured on the same images: an upper bound of what the attribute alone gives.
   */
  accuracy: number;
  /** Accuracy of always guessing the largest class (percent). */
  baseline: number;
}

/**
 * What could let a model cheat: for each attribute, the class composition of each of its values, and
 * how accurately the attribute alone predicts the class. Values held by one class only are shortcuts
 * a network can learn from pixels (a hospital's marker, a format's compression, a child's body size).
 */
export function shortcutTable(
  samples: readonly Sample[],
  attributes: readonly ShortcutAttribute[] = SHORTCUT_ATTRIBUTES,
): { rows: ShortcutRow[]; leaks: AttributeLeak[] } {
  const totals = LABELS.map((l) => samples.filter((s) => s.label === l).length);
  const baseline = samples.length ? (100 * Math.max(...totals)) / samples.length : 0;
  const rows: ShortcutRow[] = [];
  const leaks: AttributeLeak[] = [];
  for (const a of attributes) {
    const tab = crossTab(samples, a.key);
    let correct = 0;
    tab.values.forEach((value, v) => {
      const counts = tab.counts[v];
      const images = sum(counts);
      const top = counts.indexOf(Math.max(...counts));
      correct += counts[top];
      rows.push({
        attribute: a.name,
        value,
        images,
        perClass: Object.fromEntries(LABELS.map((l, c) => [l, counts[c]])) as Record<Label, number>,
        classShare: Object.fromEntries(LABELS.map((l, c) => [l, (100 * counts[c]) / images])) as Record<Label, number>,
        dominant: LABELS[top],
        dominantShare: (100 * counts[top]) / images,
      });
    });
    leaks.push({ attribute: a.name, values: tab.values.length, accuracy: samples.length ? (100 * correct) / samples.length : 0, baseline });
  }
  return { rows, leaks };
}

function sum(xs: readonly number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}
