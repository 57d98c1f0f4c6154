/**
 * Plotly figures of evaluation results (pure: data in, figure out), for the report and for notebooks.
 */
import { rocAuc, rocCurve } from '../eval/curves';
import type { Reliability } from '../eval/calibration';
import type { EvaluationSummary } from '../eval/summary';
import type { Prediction } from '../eval/types';
import { barChart, heatmapChart, imageGridFigure, lineChart, type Figure, type LineSeries } from '../plots/figure';
import { pngDataUri } from '../plots/images';
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

/** Where one phase ends and the next begins: x halfway between their adjacent epochs. */
export function phaseBoundaries(history: readonly HistoryRow[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < history.length; i++) if (history[i].phase !== history[i - 1].phase) out.push((history[i - 1].epoch + history[i].epoch) / 2);
  return out;
}

/**
 * Training curve of one metric per epoch, training and validation, with a dotted vertical line where each
 * phase begins (panels would share a y axis, so one metric each).
 */
export function historyFigure(history: readonly HistoryRow[], title: string, metric: 'accuracy' | 'loss' = 'accuracy'): Figure {
  const x = history.map((h) => h.epoch);
  const val = metric === 'accuracy' ? 'val_accuracy' : 'val_loss';
  const values = history.flatMap((h) => [h[metric], h[val]]).filter(Number.isFinite);
  const span: [number, number] = metric === 'accuracy' ? [0, 1] : [Math.min(0, ...values), Math.max(0, ...values)];
  const boundaries: LineSeries[] = phaseBoundaries(history).map((b) => ({ name: 'phase boundary', x: [b, b], y: span, colour: '#999999', dash: 'dot' }));
  return lineChart({
    title,
    panels: [{ title, series: [{ name: 'train', x, y: history.map((h) => h[metric]) }, { name: 'validation', x, y: history.map((h) => h[val]) }, ...boundaries] }],
    xTitle: 'epoch',
    yTitle: metric,
    width: 640,
    height: 380,
  });
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
