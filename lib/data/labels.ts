import { UsageError } from '../errors';

/** The three classes, in the order used for class indices everywhere (one-hot, confusion matrices). */
export const LABELS = ['covid', 'viral', 'normal'] as const;
export type Label = (typeof LABELS)[number];

export type Task = 'binary' | 'multiclass';

/**
 * Folder names accepted for each class (compared case-insensitively). `virus` is the study's Kaggle
 * name (COVID_IEEE/{covid,virus,normal}); the rest are common spellings in public CXR sets.
 */
const ALIASES: Record<string, Label> = {
  covid: 'covid',
  'covid-19': 'covid',
  covid19: 'covid',
  viral: 'viral',
  virus: 'viral',
  'viral pneumonia': 'viral',
  viral_pneumonia: 'viral',
  normal: 'normal',
};

/**
 * Extra folder (or manifest label) names mapped to a class, e.g. `{ pneumonia: 'viral' }` for an adult
 * pneumonia folder used as the non-COVID pneumonia class. Explicit and recorded in the run config: a
 * folder the toolkit does not know is never folded into a class silently.
 */
export type ClassMap = Readonly<Record<string, Label>>;

/**
 * The class a folder name stands for, or undefined when it names no class.
 * @param classMap extra names (lower case) the user mapped to a class
 */
export function labelForFolder(name: string, classMap: ClassMap = {}): Label | undefined {
  const key = name.trim().toLowerCase();
  return ALIASES[key] ?? (Object.hasOwn(classMap, key) ? classMap[key] : undefined);
}

/**
 * Parses `--class-map NAME=CLASS` values (repeatable, or comma-separated).
 * @example parseClassMap(['pneumonia=viral']) // { pneumonia: 'viral' }
 * @throws UsageError when a value is not NAME=CLASS with CLASS one of covid, viral, normal
 */
export function parseClassMap(values: readonly string[]): ClassMap {
  const map: Record<string, Label> = {};
  for (const item of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    const m = item.match(/^([^=]+)=([^=]+)$/);
    const label = m ? ALIASES[m[2].trim().toLowerCase()] : undefined;
    if (!m || !label) throw new UsageError(`--class-map '${item}': expected FOLDER=CLASS with CLASS one of ${LABELS.join(', ')}`);
    map[m[1].trim().toLowerCase()] = label;
  }
  return map;
}

export function isLabel(value: string): value is Label {
  return (LABELS as readonly string[]).includes(value);
}

/** Class names a model predicts for a task: binary is covid vs everything else. */
export function taskLabels(task: Task): readonly string[] {
  return task === 'binary' ? ['covid', 'not-covid'] : LABELS;
}

/** Index of a sample's class in `taskLabels(task)`. */
export function taskLabelIndex(label: Label, task: Task): number {
  if (task === 'binary') return label === 'covid' ? 0 : 1;
  return LABELS.indexOf(label);
}
