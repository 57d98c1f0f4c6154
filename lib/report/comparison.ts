/**
 * The report's model comparison: for each task, the backbones tested pairwise on the same test images (DeLong,
 * McNemar, accuracy difference), each backbone's operating point for a target COVID sensitivity, and their
 * decision curves. Pure: computed from the run files already in {@link StudyData}.
 */
import { pairwiseComparisons } from '../eval/compare';
import { operatingPointTable, pairwiseTable } from '../eval/compare-table';
import { decisionCurve } from '../eval/decision-curve';
import { operatingPoint, type OperatingPoint } from '../eval/operating-point';
import { describeError } from '../errors';
import { decisionCurveFigure } from '../plots/decision-curve';
import type { Figure } from '../plots/figure';
import type { RunResult, StudyData } from './collect';
import { BACKBONE_DISPLAY, TASK_DISPLAY } from './study-numbers';

/** The blocks this section uses (a subset of the document's blocks, declared here so no import cycle forms). */
type SectionBlock =
  | { kind: 'heading'; level: 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; header: string[]; rows: string[][] }
  | { kind: 'figure'; name: string; figure: Figure; caption: string };

/** Target sensitivity of the report's operating points: a rule-out test should miss few COVID cases. */
export const REPORT_TARGET_SENSITIVITY = 0.95;

/** Backbone names, made unique with the run id where one backbone has several runs of a task. */
function names(runs: readonly RunResult[]): string[] {
  const base = runs.map((r) => BACKBONE_DISPLAY[r.model] ?? r.model);
  return base.map((b, i) => (base.indexOf(b) !== base.lastIndexOf(b) ? `${b} (${runs[i].id})` : b));
}

/** Runs grouped by task and by the exact set of test images (only those can be paired). */
function groups(data: StudyData): RunResult[][] {
  const out = new Map<string, RunResult[]>();
  for (const r of data.runs) {
    const key = `${r.task}\n${r.run.test.map((p) => p.file).sort().join('\n')}`;
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return [...out.values()];
}

function taskBlocks(runs: readonly RunResult[], resamples: number): SectionBlock[] {
  const task = runs[0].task;
  const label = names(runs);
  const classes = runs[0].run.classes;
  const bootstrap = { resamples, seed: 0 };
  const blocks: SectionBlock[] = [h3(`Model comparison, ${TASK_DISPLAY[task] ?? task}`)];
  if (runs.length > 1) {
    const pairs = pairwiseTable(pairwiseComparisons(runs.map((r, i) => ({ name: label[i], predictions: r.run.test })), classes, { bootstrap }));
    blocks.push({ kind: 'table', ...pairs });
  }
  const points: { name: string; point: OperatingPoint }[] = [];
  const failures: string[] = [];
  runs.forEach((r, i) => {
    try {
      points.push({ name: label[i], point: operatingPoint(r.run.val, r.run.test, { targetSensitivity: REPORT_TARGET_SENSITIVITY, bootstrap }) });
    } catch (err) {
      failures.push(`${label[i]}: ${describeError(err)}`);
    }
  });
  if (points.length) blocks.push({ kind: 'table', ...operatingPointTable(points) });
  if (failures.length) blocks.push({ kind: 'paragraph', text: `No operating point for ${failures.join('; ')}.` });
  const curves = runs.map((r) => decisionCurve(r.run.test.map((p) => p.label === 0), r.run.test.map((p) => p.probs[0])));
  blocks.push({
    kind: 'figure',
    name: `decision-curve-${task}`,
    figure: decisionCurveFigure({
      title: `Decision curve (${classes[0]}, test): ${TASK_DISPLAY[task] ?? task}`,
      thresholds: curves[0].thresholds,
      models: curves.map((c, i) => ({ name: label[i], netBenefit: c.netBenefit })),
      treatAll: curves[0].treatAll,
      prevalence: curves[0].prevalence,
    }),
    caption: `Net benefit on test of acting on each model's ${classes[0]} probability, over threshold probabilities, against acting on every patient or on none. A model is useful at a threshold where its curve lies above both.`,
  });
  return blocks;
}

const h3 = (text: string): SectionBlock => ({ kind: 'heading', level: 3, text });

/**
 * The comparison section: a pairwise table per task (backbones on the same test images), operating points and
 * a decision curve.
 * @example reportDocument's `...comparisonSection(data)`
 */
export function comparisonSection(data: StudyData): SectionBlock[] {
  if (data.runs.length === 0) return [];
  const resamples = data.runs[0].test.bootstrap?.resamples ?? 2000;
  return [
    { kind: 'heading', level: 2, text: 'Model comparison' },
    {
      kind: 'paragraph',
      text: `Backbones of one task are compared on the same test images: DeLong's test of the COVID AUCs (3-class: each class one-vs-rest, Holm-adjusted, COVID first), the exact McNemar test of correctness (b: A right and B wrong; c: A wrong and B right) and the accuracy difference with a paired patient-bootstrap CI. Operating point: the threshold of the COVID probability that reaches ${(100 * REPORT_TARGET_SENSITIVITY).toFixed(0)} % sensitivity on the validation split, measured on test; PPV and NPV follow from the test sensitivity and specificity at the stated prevalences. With a few hundred test images, a non-significant difference is not evidence that two models are equal.`,
    },
    ...groups(data).flatMap((g) => taskBlocks(g, resamples)),
  ];
}
