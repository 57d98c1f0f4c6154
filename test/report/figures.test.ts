import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyFigure, phaseBoundaries } from '../../lib/report/figures';
import type { HistoryRow } from '../../lib/train/trainer';

const row = (epoch: number, phase: number, accuracy: number, loss: number): HistoryRow => ({
  epoch, phase, loss, accuracy, val_loss: loss + 0.1, val_accuracy: accuracy - 0.05, lr: 1e-3, seconds: 1,
});

test('phaseBoundaries lies between the last epoch of a phase and the first of the next', () => {
  assert.deepEqual(phaseBoundaries([row(1, 1, 0.5, 1), row(2, 1, 0.6, 0.9), row(3, 2, 0.7, 0.8), row(4, 2, 0.8, 0.7)]), [2.5]);
  // Early stopping can end phase 1 early: epochs are numbered over the whole schedule.
  assert.deepEqual(phaseBoundaries([row(1, 1, 0.5, 1), row(51, 2, 0.6, 0.9)]), [26]);
  assert.deepEqual(phaseBoundaries([row(1, 1, 0.5, 1), row(2, 1, 0.6, 0.9)]), []);
  assert.deepEqual(phaseBoundaries([]), []);
});

test('historyFigure draws train and validation curves and marks the phase boundary across the value range', () => {
  const history = [row(1, 1, 0.5, 2.5), row(2, 2, 0.7, 0.8)];
  const traces = (fig: ReturnType<typeof historyFigure>) => fig.data as unknown as { name?: string; x: number[]; y: number[] }[];
  const loss = traces(historyFigure(history, 'loss', 'loss'));
  const boundary = loss.filter((t) => t.name === 'phase boundary');
  assert.equal(boundary.length, 1);
  assert.deepEqual(boundary[0].x, [1.5, 1.5]);
  assert.deepEqual(boundary[0].y, [0, 2.6], 'spans 0 to the largest loss (validation 2.5 + 0.1)');
  assert.deepEqual(loss.find((t) => t.name === 'train')!.y, [2.5, 0.8]);
  const acc = traces(historyFigure(history, 'accuracy'));
  assert.deepEqual(acc.find((t) => t.name === 'phase boundary')!.y, [0, 1]);
  assert.deepEqual(acc.find((t) => t.name === 'validation')!.y.map((v) => +v.toFixed(2)), [0.45, 0.65]);
  assert.equal(traces(historyFigure([row(1, 1, 0.5, 1)], 'one phase')).filter((t) => t.name === 'phase boundary').length, 0);
});
