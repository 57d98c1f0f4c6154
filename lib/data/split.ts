import { InputFileError, UsageError } from '../errors';
import { readCsv } from '../io/csv';
import { LABELS, type Label } from './labels';
import { SPLIT_NAMES, type Dataset, type Sample, type Split, type SplitFractions, type SplitName } from './types';
import { mulberry32 } from '../random';

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };
export const DEFAULT_SEED = 42;
export const SPLIT_CSV_COLUMNS = ['file', 'label', 'patient_id', 'split'] as const;

export interface SplitOptions {
  seed?: number;
  fractions?: SplitFractions;
}

export function validateFractions(f: SplitFractions): SplitFractions {
  const values = SPLIT_NAMES.map((k) => f[k]);
  if (values.some((v) => !Number.isFinite(v) || v < 0) || Math.abs(values.reduce((a, b) => a + b, 0) - 1) > 1e-6 || f.train <= 0) {
    throw new UsageError(`split fractions must be non-negative, sum to 1 and give train a share (got ${values.join(',')})`);
  }
  return f;
}

/** Parses "0.7,0.15,0.15" (train,val,test). */
export function parseFractions(text: string): SplitFractions {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3) throw new UsageError(`--fractions needs three numbers train,val,test (got "${text}")`);
  return validateFractions({ train: parts[0], val: parts[1], test: parts[2] });
}

/**
 * Groups samples that must stay together: same patient, identical bytes, or one near-duplicate image
 * group (union-find, so a chain patient A - duplicate image - patient B is one group). Groups come out in a canonical order
 * (by their first file) so the split does not depend on the input order.
 */
export function leakageGroups(samples: readonly Sample[]): Sample[][] {
  const parent = samples.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const firstBy = new Map<string, number>();
  samples.forEach((s, i) => {
    for (const key of [`p:${s.patientId}`, `h:${s.sha256}`, ...(s.imageGroup ? [`g:${s.imageGroup}`] : [])]) {
      const j = firstBy.get(key);
      if (j === undefined) firstBy.set(key, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, Sample[]>();
  samples.forEach((s, i) => {
    const r = find(i);
    groups.set(r, [...(groups.get(r) ?? []), s]);
  });
  return [...groups.values()]
    .map((g) => g.sort(byFile))
    .sort((a, b) => byFile(a[0], b[0]));
}

function byFile(a: Sample, b: Sample): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

function majorityLabel(group: readonly Sample[]): Label {
  const counts = LABELS.map((l) => group.filter((s) => s.label === l).length);
  return LABELS[counts.indexOf(Math.max(...counts))];
}

/**
 * Patient-grouped split, stratified by class: groups (patients, joined through identical images)
 * are shuffled per class with a seeded PRNG and each is given to the split furthest below its
 * target image count. No patient and no identical image lands in two splits. Deterministic for a
 * seed, whatever the order of `samples`.
 */
export function splitDataset(samples: readonly Sample[], opts: SplitOptions = {}): Split {
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new UsageError(`seed must be an integer (got ${seed})`);
  const fractions = validateFractions(opts.fractions ?? DEFAULT_FRACTIONS);
  const random = mulberry32(seed);
  const out: Record<SplitName, Sample[]> = { train: [], val: [], test: [] };
  const groups = leakageGroups(samples);
  for (const label of LABELS) {
    const stratum = groups.filter((g) => majorityLabel(g) === label);
    for (let i = stratum.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [stratum[i], stratum[j]] = [stratum[j], stratum[i]];
    }
    const total = stratum.reduce((n, g) => n + g.length, 0);
    const count: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
    for (const g of stratum) {
      let best: SplitName = 'train';
      let bestDeficit = -Infinity;
      for (const name of SPLIT_NAMES) {
        if (fractions[name] <= 0) continue;
        const deficit = fractions[name] * total - count[name];
        if (deficit > bestDeficit) [best, bestDeficit] = [name, deficit];
      }
      count[best] += g.length;
      out[best].push(...g);
    }
  }
  for (const name of SPLIT_NAMES) out[name].sort(byFile);
  return { seed, fractions, ...out };
}

/** Rows for the split CSV (`file,label,patient_id,split`), train then val then test, by file. */
export function splitToCsvRows(split: Split): Record<(typeof SPLIT_CSV_COLUMNS)[number], string>[] {
  return SPLIT_NAMES.flatMap((name) =>
    split[name].map((s) => ({ file: s.file, label: s.label, patient_id: s.patientId, split: name })),
  );
}

/**
 * Reads a split CSV against a scanned dataset. Every row must name a usable sample of the dataset
 * with the same label and patient, and no patient or identical image may appear in two splits;
 * otherwise an InputFileError names the CSV and the row. Samples the CSV does not list are left out.
 */
export function readSplitCsv(file: string, dataset: Dataset): Split {
  const rows = readCsv(file, SPLIT_CSV_COLUMNS);
  const byFile = new Map(dataset.samples.map((s) => [s.file, s]));
  const skipped = new Map(dataset.problems.map((p) => [p.file, p.reason]));
  const out: Record<SplitName, Sample[]> = { train: [], val: [], test: [] };
  const seen = new Set<string>();
  const owner = new Map<string, SplitName>();
  rows.forEach((row, i) => {
    const where = `row ${i + 2} (${row.file})`;
    const s = byFile.get(row.file);
    if (!s) {
      const why = skipped.get(row.file);
      throw new InputFileError(file, `${where}: ${why ? `unusable in the data folder: ${why}` : `not in the data folder ${dataset.root}`}`);
    }
    if (!(SPLIT_NAMES as readonly string[]).includes(row.split)) throw new InputFileError(file, `${where}: split must be train, val or test (got "${row.split}")`);
    if (row.label !== s.label) throw new InputFileError(file, `${where}: label ${row.label} but the data folder says ${s.label}`);
    if (row.patient_id !== s.patientId) throw new InputFileError(file, `${where}: patient ${row.patient_id} but the data folder says ${s.patientId}`);
    if (seen.has(s.file)) throw new InputFileError(file, `${where}: listed twice`);
    seen.add(s.file);
    const name = row.split as SplitName;
    for (const key of [`patient ${s.patientId}`, `image content ${s.sha256.slice(0, 12)}…`]) {
      const other = owner.get(key);
      if (other && other !== name) throw new InputFileError(file, `${where}: ${key} is in both ${other} and ${name} (leakage)`);
      owner.set(key, name);
    }
    out[name].push(s);
  });
  const total = seen.size || 1;
  for (const name of SPLIT_NAMES) out[name].sort((a, b) => (a.file < b.file ? -1 : 1));
  return {
    seed: NaN,
    fractions: { train: out.train.length / total, val: out.val.length / total, test: out.test.length / total },
    ...out,
  };
}
