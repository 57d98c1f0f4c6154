import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossValidationSection, overFolds } from '../../lib/report/cross-validation';

test('overFolds: mean, sample sd and the t-interval (scipy: t.ppf(0.975, 2) = 4.303)', () => {
  const r = overFolds([0.9, 0.92, 0.88]);
  assert.ok(Math.abs(r.mean - 0.9) < 1e-12);
  assert.ok(Math.abs(r.sd - 0.02) < 1e-12);
  const half = (4.303 * 0.02) / Math.sqrt(3);
  assert.ok(Math.abs(r.ci[0] - (0.9 - half)) < 1e-9 && Math.abs(r.ci[1] - (0.9 + half)) < 1e-9);
});

test('crossValidationSection: one row per complete set of folds; a partial set is left out', () => {
  const run = (index: number, acc: number, k = 3, task = 'binary') => ({
    model: 'resnet50', task, fold: { k, index }, test: { n: 10, accuracy: { point: acc }, auc: { point: 0.9 } },
  });
  const blocks = crossValidationSection([run(1, 0.8), run(0, 0.9), run(2, 0.7), run(0, 0.5, 3, 'multiclass'), { model: 'resnet50', task: 'binary', test: run(0, 1).test }]);
  const table = blocks.find((b) => b.kind === 'table') as { rows: string[][] };
  assert.equal(table.rows.length, 1);
  assert.equal(table.rows[0][2], '90.0, 80.0, 70.0');
  assert.match(table.rows[0][3], /^80\.0 ± 10\.0 \(55\.2–104\.8\)$/);
  assert.deepEqual(crossValidationSection([run(0, 0.5)]), []);
});
