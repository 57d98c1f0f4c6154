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

/** The class a folder name stands for, or undefined when it names no class. */
export function labelForFolder(name: string): Label | undefined {
  return ALIASES[name.trim().toLowerCase()];
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
