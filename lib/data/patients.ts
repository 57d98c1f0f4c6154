/** A patient id read from a file name, and the pattern that gave it. */
export interface FileNamePatient {
  patientId: string;
  pattern: string;
}

/**
 * Patient ids encoded in the file names of known public sets (the Kermany/Guangzhou paediatric
 * set, which the study's Kaggle folder draws its viral and normal images from):
 * `person1004_virus_1686` / `person12_bacteria_46` -> `person1004` / `person12`, and
 * `IM-0123-0001`, `IM-0123-0001-0002`, `NORMAL2-IM-0123-0001` -> `IM-0123`. The NORMAL2 series is
 * merged with the IM series of the same number: if they are different people, grouping them only
 * makes the split slightly coarser; if they are the same, keeping them apart would leak.
 */
const PATTERNS: { name: string; re: RegExp; id: (m: RegExpMatchArray) => string }[] = [
  { name: 'person<N>_<virus|bacteria>_<M>', re: /(?:^|[^a-z0-9])(person\d+)_(?:virus|bacteria)_\d+/i, id: (m) => m[1].toLowerCase() },
  { name: '[NORMAL2-]IM-<NNNN>-<MMMM>', re: /(?:^|[^a-z0-9])(?:normal2-)?(im-\d+)-\d+/i, id: (m) => m[1].toUpperCase() },
];

/** The patient a file name encodes, or undefined. `name` may be a path; only its last part counts. */
export function patientFromFileName(name: string): FileNamePatient | undefined {
  const base = name.split(/[\\/]/).pop() ?? name;
  for (const p of PATTERNS) {
    const m = base.match(p.re);
    if (m) return { patientId: p.id(m), pattern: p.name };
  }
  return undefined;
}
