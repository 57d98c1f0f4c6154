import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyFigure, phaseSegments } from '../../lib/report/figures';
import type { HistoryRow } from '../../lib/train/trainer';

const row = (epoch: number, phase: number, accuracy: number, loss: number): HistoryRow => ({
  epoch, phase, loss, accuracy, val_loss: loss + 0.1, val_accuracy: accuracy - 0.05, lr: 1e-3, seconds: 1,
});

// Phase 1 scheduled for 40 epochs stopped early after 3; phase 2's rows are numbered from 41 over the schedule.
const earlyStop = [row(1, 1, 0.5, 2.5), row(2, 1, 0.6, 1.5), row(3, 1, 0.65, 1.2), row(41, 2, 0.7, 0.8), row(42, 2, 0.8, 0.7)];

test('phaseSegments: one segment per phase, epochs continuous over what actually ran', () => {
  const segments = phaseSegments(earlyStop);
  assert.deepEqual(segments.map((s) => [s.phase, s.epochs]), [[1, [1, 2, 3]], [2, [4, 5]]]);
  assert.deepEqual(segments[1].rows, earlyStop.slice(3));
  assert.deepEqual(phaseSegments([row(1, 1, 0.5, 1), row(2, 1, 0.6, 0.9)]).map((s) => s.epochs), [[1, 2]]);
  assert.deepEqual(phaseSegments([]), []);
});

type LineTrace = { name: string; x: number[]; y: number[]; showlegend: boolean; line: unknown };
const traces = (fig: ReturnType<typeof historyFigure>) => fig.data as unknown as LineTrace[];

test('historyFigure: each phase its own segment, phase 2 right after phase 1, a dashed line marks the switch', () => {
  const fig = historyFigure(earlyStop, 'loss', 'loss');
  const train = traces(fig).filter((t) => t.name === 'train');
  assert.equal(train.length, 2, 'phase 1 and phase 2 are separate traces, never joined by a line');
  assert.deepEqual(train.map((t) => t.x), [[1, 2, 3], [4, 5]]);
  assert.equal(train[1].x[0], train[0].x[train[0].x.length - 1] + 1, 'phase 2 starts right after phase 1');
  assert.deepEqual(train.map((t) => t.y), [[2.5, 1.5, 1.2], [0.8, 0.7]]);
  assert.deepEqual(train[0].line, train[1].line, 'one colour per curve');
  assert.deepEqual(traces(fig).map((t) => t.showlegend), [true, true, false, false], 'one legend entry per curve');
  const validation = traces(fig).filter((t) => t.name === 'validation');
  assert.deepEqual(validation.map((t) => t.y.map((v) => +v.toFixed(2))), [[2.6, 1.6, 1.3], [0.9, 0.8]]);
  const shapes = fig.layout.shapes as { x0: number; x1: number; line: { dash: string } }[];
  assert.equal(shapes.length, 1);
  assert.deepEqual([shapes[0].x0, shapes[0].x1, shapes[0].line.dash], [3.5, 3.5, 'dash']);
  assert.ok((fig.layout.annotations as { text: string }[]).some((a) => a.text === 'phase 2'));
  const acc = traces(historyFigure(earlyStop, 'accuracy'));
  assert.deepEqual(acc.filter((t) => t.name === 'train').map((t) => t.y), [[0.5, 0.6, 0.65], [0.7, 0.8]]);
  const single = historyFigure([row(1, 1, 0.5, 1), row(2, 1, 0.6, 0.9)], 'one phase');
  assert.equal(single.data.length, 2);
  assert.equal(single.layout.shapes, undefined, 'no mark without a phase switch');
});
