import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../lib/random';
import { classificationMetrics } from '../../lib/eval/metrics';
import {
  confusionTable,
  formatCi,
  formatEstimate,
  formatPercent,
  markdownTable,
  summaryTable,
} from '../../lib/eval/report-table';
import { summarise, summaryJson } from '../../lib/eval/summary';
import { argmax, type Prediction } from '../../lib/eval/types';
import { randomInt, threeClassCase } from './reference';

const CLASSES = ['covid', 'viral', 'normal'];

/** Predictions for 100 patients with 1–4 images each. */
function predictions(seed: number): Prediction[] {
  const { labels, probs } = threeClassCase(seed, 250);
  const random = mulberry32(seed + 1);
  let patient = 0;
  let left = 0;
  return labels.map((label, i) => {
    if (left === 0) {
      patient++;
      left = 1 + randomInt(random, 4);
    }
    left--;
    return { file: `img${i}.png`, patientId: `pt${patient}`, label, probs: probs[i] };
  });
}

const preds = predictions(31);

test('summary point estimates equal the plain metrics; every estimate has a CI around it', () => {
  const s = summarise(preds, CLASSES, { bootstrap: { resamples: 1000, seed: 2 } });
  const m = classificationMetrics(
    preds.map((p) => p.label),
    preds.map((p) => argmax(p.probs)),
    3,
  );
  assert.equal(s.accuracy.point, m.accuracy);
  assert.equal(s.macroF1.point, m.macro.f1);
  assert.deepEqual(s.confusion, m.confusion);
  assert.equal(s.n, 250);
  assert.equal(s.patients, new Set(preds.map((p) => p.patientId)).size);
  const all = [s.accuracy, s.macroF1, s.auc, ...CLASSES.flatMap((c) => [s.perClass[c].sensitivity, s.perClass[c].specificity])];
  for (const e of all) {
    assert.ok(e.ci, 'has a CI');
    assert.ok(e.ci[0] <= e.point && e.point <= e.ci[1], `${e.ci[0]} <= ${e.point} <= ${e.ci[1]}`);
  }
  assert.equal(s.perClass.normal.sensitivity.point, m.perClass[2].recall);
  assert.deepEqual(s.bootstrap, { resamples: 1000, seed: 2, level: 0.95 });
  assert.deepEqual(summarise(preds, CLASSES, { bootstrap: { resamples: 1000, seed: 2 } }), s, 'deterministic');
});

test('the --json shape carries accuracy, its CI, n and per-class results', () => {
  const s = summarise(preds, CLASSES, { bootstrap: { resamples: 1000 } });
  const j = summaryJson(s) as any;
  const line = JSON.parse(JSON.stringify(j));
  assert.equal(line.accuracy, s.accuracy.point);
  assert.deepEqual(line.ci, s.accuracy.ci);
  assert.equal(line.n, 250);
  assert.deepEqual(Object.keys(line.per_class), CLASSES);
  assert.equal(line.per_class.viral.support, s.perClass.viral.support);
});

test('without bootstrap there are no intervals; probability rows must fit the classes', () => {
  const s = summarise(preds, CLASSES, { bootstrap: false });
  assert.equal(s.accuracy.ci, undefined);
  assert.equal(s.bootstrap, undefined);
  assert.throws(() => summarise([{ ...preds[0], probs: [1, 0] }], CLASSES), /img0.png: 2 probabilities for 3 classes/);
});

test('formatCi, formatPercent and estimates print as the report shows them', () => {
  assert.equal(formatCi(0.931, [0.902, 0.956]), '93.1 % (90.2–95.6)');
  assert.equal(formatCi(0.9731, [0.951, 0.99], { percent: false }), '0.973 (0.951–0.990)');
  assert.equal(formatCi(1, undefined), '100.0 %');
  assert.equal(formatCi(NaN, [0, 1]), 'n/a');
  assert.equal(formatPercent(0.5), '50.0 %');
  assert.equal(formatPercent(0.12345, 2), '12.35 %');
  assert.equal(formatEstimate({ point: 0.5, ci: [0.4, 0.6] }), '50.0 % (40.0–60.0)');
});

test('tables are valid Markdown with escaped cells and one row per summary', () => {
  assert.deepEqual(markdownTable(['a', 'b|c'], [['1', 'x\ny']]), ['| a | b\\|c |', '|---|---|', '| 1 | x y |']);
  assert.throws(() => markdownTable(['a'], [['1', '2']]), /2 cells, header has 1/);
  const s = summarise(preds, CLASSES, { bootstrap: { resamples: 1000 } });
  const lines = summaryTable(['Model', 'Task'], [
    { label: ['ResNet-50', '3-class'], summary: s },
    { label: ['NASNetMobile', '3-class'], summary: s },
  ]);
  assert.equal(lines.length, 4);
  const cols = (l: string) => l.split(' | ').length;
  assert.equal(cols(lines[2]), cols(lines[0]));
  assert.match(lines[0], /\| Model \| Task \| n \| Patients \| Accuracy \(95 % CI\) \|/);
  assert.match(lines[2], /^\| ResNet-50 \| 3-class \| 250 \| \d+ \| \d+\.\d % \(\d+\.\d–\d+\.\d\) \|/);
  const cm = confusionTable(s.confusion, CLASSES);
  assert.equal(cm.length, 5);
  assert.match(cm[2], /^\| covid \| \d+ \| \d+ \| 0 \|$/);
  assert.match(confusionTable(s.confusionNormalised, CLASSES, { percent: true })[3], /^\| viral \| [\d.]+ % \|/);
});
