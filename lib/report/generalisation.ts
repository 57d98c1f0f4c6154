/**
 * The report's generalisation section: how each model scores on images of a source it never saw (runs that
 * held a source out) beside its internal test score, and the internal test broken down by source. Internal
 * accuracy on confounded data says little; these two tables say whether the model recognises disease or
 * hospital. Pure: computed from the run files already read.
 */
import { groupMetrics, type GroupMetrics } from '../eval/groups';
import type { Estimate, Prediction } from '../eval/types';
import { STUDY_REPORTED, TASK_DISPLAY, BACKBONE_DISPLAY } from './study-numbers';

/** The blocks this section uses (declared here so no import cycle forms with document.ts). */
type SectionBlock =
  | { kind: 'heading'; level: 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; header: string[]; rows: string[][] };

/** What the section needs of a run (a subset of collect's RunResult). */
export interface GeneralisationRun {
  id: string;
  model: string;
  task: string;
  classes: string[];
  holdout: string[];
  /** The recipe in words (see describeRecipe in lib/train/config.ts). */
  recipe?: string;
  test: Prediction[];
  held: (Prediction & { source: string })[];
  /** Source of each internal test image, by file (from the data folders; empty when they are gone). */
  sources: Record<string, string>;
}

/** Accuracy and the sensitivity of each class present, with patient-bootstrap CIs (lib/eval/groups.ts). */
export function scoreGroup(preds: readonly Prediction[], classes: readonly string[], resamples = 2000): GroupMetrics {
  return groupMetrics(preds, () => 'all', { classes, bootstrap: { resamples, seed: 0 } })[0];
}

const pct = (e: Estimate) => (Number.isFinite(e.point) ? `${(100 * e.point).toFixed(1)}${e.ci ? ` (${(100 * e.ci[0]).toFixed(1)}–${(100 * e.ci[1]).toFixed(1)})` : ''}` : '—');
const name = (r: GeneralisationRun) => `${BACKBONE_DISPLAY[r.model] ?? r.model} · ${TASK_DISPLAY[r.task] ?? r.task}`;
const sens = (s: GroupMetrics) =>
  Object.entries(s.perClass).filter(([, c]) => c.n > 0).map(([name, c]) => `${name} ${pct(c.sensitivity)}`).join('; ');

/** The section's blocks; empty when no run has a held-out source and no test image has a known source. */
export function generalisationSection(runs: readonly GeneralisationRun[], resamples = 2000): SectionBlock[] {
  const held = runs.filter((r) => r.held.length > 0);
  const main = runs.filter((r) => r.holdout.length === 0);
  const blocks: SectionBlock[] = [];
  if (held.length > 0) {
    blocks.push(
      { kind: 'heading', level: 2, text: 'Generalisation: held-out sources' },
      {
        kind: 'paragraph',
        text:
          'Each row is a run that never saw one source: its images were in no split (not trained on, not used to choose epochs, not in the internal test) and were scored after training. ' +
          'A model that learned the disease scores a held-out source about as well as its internal test; one that learned the hospital does not. ' +
          'Rows of one source with different recipes are the ablation: the recipe column names what differs from the de-confounded default. ' +
          "The study's published accuracy is shown for scale only: it was measured on validation data with patients on both sides of the split.",
      },
    );
    const rows = held.map((r) => {
      const h = scoreGroup(r.held, r.classes, resamples);
      const internal = scoreGroup(r.test, r.classes, resamples);
      const published = (STUDY_REPORTED as Record<string, Record<string, number>>)[r.task]?.[r.model];
      return [name(r), r.recipe ?? '—', r.holdout.join(', '), `${h.n} (${h.patients})`, pct(internal.accuracy), pct(h.accuracy), sens(h), published !== undefined ? `${published}` : '—'];
    });
    blocks.push({ kind: 'table', header: ['model', 'recipe', 'held-out source', 'images (patients)', 'internal test accuracy %', 'held-out accuracy %', 'held-out sensitivity % by class', 'study reported %'], rows });
  }
  const bySource = main.flatMap((r) => {
    const groups = new Map<string, Prediction[]>();
    for (const p of r.test) {
      const s = r.sources[p.file];
      if (s) groups.set(s, [...(groups.get(s) ?? []), p]);
    }
    if (groups.size < 2) return [];
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([source, preds]) => {
      const s = scoreGroup(preds, r.classes, resamples);
      return [name(r), source, `${s.n} (${s.patients})`, pct(s.accuracy), sens(s)];
    });
  });
  if (bySource.length > 0) {
    blocks.push(
      { kind: 'heading', level: 2, text: 'Internal test by source' },
      { kind: 'paragraph', text: 'The internal test split broken down by the collection each image comes from (patient-bootstrap 95 % CIs). A source whose images are all one class shows that class\'s sensitivity only.' },
      { kind: 'table', header: ['model', 'source', 'images (patients)', 'accuracy %', 'sensitivity % by class'], rows: bySource },
    );
  }
  return blocks;
}
