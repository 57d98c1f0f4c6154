/**
 * Plotly figures of evaluation results (pure: data in, figure out), for the report and for notebooks.
 */
import { rocAuc, rocCurve } from '../eval/curves';
import type { Reliability } from '../eval/calibration';
import type { EvaluationSummary } from '../eval/summary';
import type { Prediction } from '../eval/types';
import { barChart } from '../plots/bars';
import type { Figure } from '../plots/figure';
import { heatmapChart } from '../plots/heatmap';
import { imageGridFigure, pngDataUri } from '../plots/images';
import { lineChart, type LineSeries } from '../plots/lines';
import type { HistoryRow } from '../train/trainer';

const DIAGONAL: LineSeries = { name: 'chance', x: [0, 1], y: [0, 1], colour: '#999999', dash: 'dash' };

/** Confusion matrix: cells coloured by row percentage, labelled with count and percentage. */
export function confusionFigure(s: EvaluationSummary, title: string): Figure {
  const pct = s.confusionNormalised.map((row) => row.map((v) => (Number.isFinite(v) ? 100 * v : 0)));
  return heatmapChart({
    title,
    z: pct,
    x: s.classes,
    y: s.classes,
    text: s.confusion.map((row, i) => row.map((n, j) => `${n} (${pct[i][j].toFixed(0)} %)`)),
    xTitle: 'predicted',
    yTitle: 'true',
    zTitle: '% of row',
    zRange: [0, 100],
  });
}

/** ROC curves, one-vs-rest per class (binary: the COVID class only), with AUC in the legend. */
export function rocFigure(preds: readonly Prediction[], classes: readonly string[], title: string): Figure {
  const shown = classes.length === 2 ? [0] : classes.map((_, k) => k);
  const series: LineSeries[] = [];
  for (const k of shown) {
    const positive = preds.map((p) => p.label === k);
    if (!positive.some(Boolean) || positive.every(Boolean)) continue; // no curve without both outcomes
    const scores = preds.map((p) => p.probs[k]);
    const roc = rocCurve(positive, scores);
    const auc = rocAuc(positive, scores);
    series.push({ name: `${classes[k]} (AUC ${auc.toFixed(3)})`, x: roc.fpr, y: roc.tpr });
  }
  return lineChart({ title, panels: [{ title, series: [...series, DIAGONAL] }], xTitle: 'false positive rate', yTitle: 'true positive rate', width: 560, height: 480 });
}

/** Reliability diagram before and after temperature scaling (non-empty bins). */
export function reliabilityFigure(before: Reliability, after: Reliability, temperature: number, title: string): Figure {
  const line = (name: string, r: Reliability): LineSeries => {
    const bins = r.bins.filter((b) => b.count > 0);
    return { name, x: bins.map((b) => b.meanConfidence), y: bins.map((b) => b.observed) };
  };
  return lineChart({
    title,
    panels: [{ title, series: [line(`before (ECE ${before.ece.toFixed(3)})`, before), line(`T = ${temperature.toFixed(2)} (ECE ${after.ece.toFixed(3)})`, after), { ...DIAGONAL, name: 'perfect' }] }],
    xTitle: 'confidence',
    yTitle: 'observed accuracy',
    width: 560,
    height: 480,
  });
}

/** The rows of one training phase and the epoch number each is drawn at. */
export interface PhaseSegment {
  phase: number;
  /** 1-based, continuous over the run: a phase's first epoch follows the last epoch the phase before it ran. */
  epochs: number[];
  rows: HistoryRow[];
}

/**
 * History split into its phases, epochs renumbered as they ran. `HistoryRow.epoch` counts over the schedule
 * (phase 2 of a 40 + 30 schedule starts at 41), so a phase 1 that stopped early would leave a gap.
 * @example phaseSegments(history).map((s) => s.epochs[0]) // [1, 13] when phase 1 stopped after 12 epochs
 */
export function phaseSegments(history: readonly HistoryRow[]): PhaseSegment[] {
  const out: PhaseSegment[] = [];
  history.forEach((row, i) => {
    if (out.length === 0 || out[out.length - 1].phase !== row.phase) out.push({ phase: row.phase, epochs: [], rows: [] });
    out[out.length - 1].epochs.push(i + 1);
    out[out.length - 1].rows.push(row);
  });
  return out;
}

/**
 * Training curve of one metric per epoch, training and validation (panels would share a y axis, so one
 * metric each). Each phase is its own line segment, never joined to the next, and a dashed vertical line
 * marks where each phase after the first begins.
 * @example historyFigure(run.history, 'Training: ResNet-50 binary', 'loss')
 */
export function historyFigure(history: readonly HistoryRow[], title: string, metric: 'accuracy' | 'loss' = 'accuracy'): Figure {
  const val = metric === 'accuracy' ? 'val_accuracy' : 'val_loss';
  const segments = phaseSegments(history);
  const series = segments.flatMap((s): LineSeries[] => [
    { name: 'train', x: s.epochs, y: s.rows.map((h) => h[metric]) },
    { name: 'validation', x: s.epochs, y: s.rows.map((h) => h[val]) },
  ]);
  const marks = segments.slice(1).map((s) => ({ x: s.epochs[0] - 0.5, text: `phase ${s.phase}` }));
  return lineChart({ title, panels: [{ title, series, marks }], xTitle: 'epoch', yTitle: metric, width: 640, height: 380 });
}

/** Test accuracy (0–1) of each run on intact and occluded images: one bar group per image version. */
export function occlusionFigure(runs: readonly { label: string; rows: readonly { name: string; accuracy: number }[] }[], title: string): Figure {
  const names = runs.length ? runs[0].rows.map((v) => v.name) : [];
  return barChart({
    title,
    categories: names,
    series: runs.map((r) => ({ name: r.label, values: names.map((n) => 100 * (r.rows.find((v) => v.name === n)?.accuracy ?? NaN)) })),
    yTitle: 'test accuracy (%)',
    labels: true,
  });
}

/** One explained image for {@link gradCamFigure}: a PNG (e.g. from `encodePng` of an overlay) and its caption. */
export interface GradCamCell {
  png: Uint8Array;
  width: number;
  height: number;
  caption: string;
}

/** Grad-CAM overlays in rows (e.g. one row per true class and correct/wrong); empty rows are left out. */
export function gradCamFigure(rows: readonly { label: string; cells: readonly GradCamCell[] }[], title: string): Figure {
  return imageGridFigure({
    title,
    cellSize: 150,
    rows: rows
      .filter((r) => r.cells.length > 0)
      .map((r) => ({ label: r.label, cells: r.cells.map((c) => ({ source: pngDataUri(c.png), width: c.width, height: c.height, title: c.caption })) })),
  });
}
