import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePredictions } from '../../lib/eval/compare';
import type { Prediction } from '../../lib/eval/types';
import type { StudyData } from '../../lib/report/collect';
import { comparisonSection } from '../../lib/report/comparison';
import { binaryCase, threeClassCase } from '../eval/reference';

const BINARY = ['covid', 'not-covid'];
const MULTI = ['covid', 'viral', 'normal'];

function binaryPreds(seed: number, split: string): Prediction[] {
  // The same labels for every model (seed 1), scores from the model's own seed.
  const { labels } = binaryCase(1, 80);
  const { scores } = binaryCase(seed, 80);
  return labels.map((l, i) => ({ file: `${split}/${i}.png`, patientId: `p${i >> 1}`, label: l ? 0 : 1, probs: [scores[i], 1 - scores[i]] }));
}

function multiPreds(seed: number, split: string): Prediction[] {
  const { labels, probs } = threeClassCase(seed, 60);
  return labels.map((l, i) => ({ file: `${split}/${i}.png`, patientId: `p${i}`, label: l, probs: probs[i] }));
}

/** The parts of a study the comparison reads: finished runs with their val and test predictions. */
function study(runs: { id: string; model: string; task: 'binary' | 'multiclass'; val: Prediction[]; test: Prediction[] }[]): StudyData {
  return {
    runs: runs.map((r) => ({
      id: r.id,
      model: r.model,
      task: r.task,
      test: { bootstrap: { resamples: 1000, seed: 0, level: 0.95 } },
      run: { classes: r.task === 'binary' ? BINARY : MULTI, val: r.val, test: r.test },
    })),
  } as unknown as StudyData;
}

test('the report compares the backbones of each task pairwise, with operating points and a decision curve', () => {
  const data = study([
    { id: 'r1', model: 'resnet50', task: 'binary', val: binaryPreds(2, 'val'), test: binaryPreds(3, 'test') },
    { id: 'r2', model: 'nasnetmobile', task: 'binary', val: binaryPreds(4, 'val'), test: binaryPreds(5, 'test') },
    { id: 'r3', model: 'resnet101', task: 'binary', val: binaryPreds(6, 'val'), test: binaryPreds(7, 'test') },
    { id: 'r4', model: 'resnet50', task: 'multiclass', val: multiPreds(8, 'val'), test: multiPreds(9, 'test') },
  ]);
  const blocks = comparisonSection(data);
  const headings = blocks.filter((b) => b.kind === 'heading').map((b) => (b as { text: string }).text);
  assert.deepEqual(headings, ['Model comparison', 'Model comparison, binary (COVID vs not)', 'Model comparison, 3-class']);
  const tables = blocks.filter((b): b is Extract<typeof b, { kind: 'table' }> => b.kind === 'table');
  // Binary: a pairwise table of three backbones (three pairs) and their operating points; 3-class: one run, no pairs.
  assert.equal(tables.length, 3);
  const [pairs, points, multiPoints] = tables;
  assert.deepEqual(pairs.rows.map((r) => r[0]), ['ResNet-50 vs NASNetMobile', 'ResNet-50 vs ResNet-101', 'NASNetMobile vs ResNet-101']);
  const direct = comparePredictions(binaryPreds(3, 'test'), binaryPreds(5, 'test'), BINARY, { bootstrap: { resamples: 1000, seed: 0 } });
  assert.equal(pairs.rows[0][2], `${direct.delong.auc[0].toFixed(3)} / ${direct.delong.auc[1].toFixed(3)}`);
  assert.equal(pairs.rows[0][4], `${direct.mcnemar.b} / ${direct.mcnemar.c}`);
  assert.equal(points.rows.length, 3);
  assert.equal(multiPoints.rows.length, 1);
  const figures = blocks.filter((b): b is Extract<typeof b, { kind: 'figure' }> => b.kind === 'figure');
  assert.deepEqual(figures.map((f) => f.name), ['decision-curve-binary', 'decision-curve-multiclass']);
  assert.deepEqual(figures[0].figure.data.map((t) => t.name), ['ResNet-50', 'NASNetMobile', 'ResNet-101', 'treat all', 'treat none']);
});

test('runs scored on different test images are not paired, and no runs give no section', () => {
  const data = study([
    { id: 'r1', model: 'resnet50', task: 'binary', val: binaryPreds(2, 'val'), test: binaryPreds(3, 'test') },
    { id: 'r2', model: 'resnet50', task: 'binary', val: binaryPreds(4, 'val'), test: binaryPreds(5, 'other') },
  ]);
  const blocks = comparisonSection(data);
  assert.equal(blocks.filter((b) => b.kind === 'heading').length, 3);
  // Each group has one run: operating points only.
  for (const t of blocks.filter((b): b is Extract<typeof b, { kind: 'table' }> => b.kind === 'table')) assert.equal(t.header[0], 'Model');
  assert.deepEqual(comparisonSection(study([])), []);
});
