/**
 * The report's generalisation section: how each model scores on images of a source it never saw (runs that
 * held a source out) beside its internal test score, and the internal test broken down by source. Internal
 * accuracy on confounded data says little; these two tables say whether the model recognises disease or
 * hospital. Pure: computed from the run files already read.
 */
import { bootstrapCi, type BootstrapCi } from '../eval/bootstrap';
import type { Prediction } from '../eval/types';
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
  test: Prediction[];
  held: (Prediction & { source: string })[];
  /** Source of each internal test image, by file (from the data folders; empty when they are gone). */
  sources: Record<string, string>;
}

/** Accuracy and per-class sensitivity, each with a patient-bootstrap CI. */
export interface GroupScore {
  n: number;
  patients: number;
  accuracy: BootstrapCi;
  /** Per class present in the group: share of its images predicted as that class. */
  sensitivity: Record<string, BootstrapCi>;
}

const argmax = (p: readonly number[]) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);

/**
 * Scores a group of predictions.
 * @param resamples bootstrap resamples (≥ 1000)
 */
export function scoreGroup(preds: readonly Prediction[], classes: readonly string[], resamples = 2000): GroupScore {
  const opts = { resamples, seed: 0 };
  const correct = (s: readonly Prediction[]) => (s.length ? s.filter((p) => argmax(p.probs) === p.label).length / s.length : NaN);
  const sensitivity: Record<string, BootstrapCi> = {};
  classes.forEach((c, k) => {
    const own = preds.filter((p) => p.label === k);
    if (own.length) sensitivity[c] = bootstrapCi(own, (p) => p.patientId, correct, opts);
  });
  return { n: preds.length, patients: new Set(preds.map((p) => p.patientId)).size, accuracy: bootstrapCi(preds, (p) => p.patientId, correct, opts), sensitivity };
}

const pct = (c: BootstrapCi) => (Number.isFinite(c.point) ? `${(100 * c.point).toFixed(1)} (${(100 * c.lo).toFixed(1)}–${(100 * c.hi).toFixed(1)})` : '—');
const name = (r: GeneralisationRun) => `${BACKBONE_DISPLAY[r.model] ?? r.model} · ${TASK_DISPLAY[r.task] ?? r.task}`;
const sens = (s: GroupScore) => Object.entries(s.sensitivity).map(([c, ci]) => `${c} ${pct(ci)}`).join('; ');

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
          "The study's published accuracy is shown for scale only: it was measured on validation data with patients on both sides of the split.",
      },
    );
    const rows = held.map((r) => {
      const h = scoreGroup(r.held, r.classes, resamples);
      const internal = scoreGroup(r.test, r.classes, resamples);
      const published = (STUDY_REPORTED as Record<string, Record<string, number>>)[r.task]?.[r.model];
      return [name(r), r.holdout.join(', '), `${h.n} (${h.patients})`, pct(internal.accuracy), pct(h.accuracy), sens(h), published !== undefined ? `${published}` : '—'];
    });
    blocks.push({ kind: 'table', header: ['model', 'held-out source', 'images (patients)', 'internal test accuracy %', 'held-out accuracy %', 'held-out sensitivity % by class', 'study reported %'], rows });
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
