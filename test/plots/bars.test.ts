import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChart, histogramChart } from '../../lib/plots/bars';
import { CLASS_COLOURS, DEFAULT_SIZE } from '../../lib/plots/figure';
import { assertPortable } from './portable';

test('barChart: one trace per series over the categories, class colours, labels', () => {
  const fig = barChart({
    title: 'Counts',
    categories: ['covid', 'viral', 'normal'],
    series: [{ name: 'covid', values: [1, 2, 3] }, { name: 'other', values: [4, 5, 6] }],
    labels: true,
    stacked: true,
  });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[0].x, ['covid', 'viral', 'normal']);
  assert.deepEqual(fig.data[1].y, [4, 5, 6]);
  assert.equal((fig.data[0].marker as { color: string }).color, CLASS_COLOURS.covid);
  assert.notEqual((fig.data[1].marker as { color: string }).color, CLASS_COLOURS.covid);
  assert.deepEqual(fig.data[0].text, ['1', '2', '3']);
  assert.equal(fig.layout.barmode, 'stack');
  assert.equal(fig.layout.title?.text, 'Counts');
  assert.equal(fig.layout.showlegend, true);
  assertPortable(fig);
  assert.throws(() => barChart({ title: 't', categories: ['a', 'b'], series: [{ name: 's', values: [1] }] }), /s: 1 values for 2 categories/);
  const one = barChart({ title: 't', categories: ['a'], series: [{ name: 's', values: [1] }], yTitle: 'n', width: 300 });
  assert.equal(one.layout.showlegend, false, 'no legend for a single series');
  assert.deepEqual([one.layout.width, one.layout.height], [300, DEFAULT_SIZE.height]);
  assert.deepEqual((one.layout.yaxis as { title: unknown }).title, { text: 'n' });
});

test('histogramChart: shared bins, normalisation, grouped unless overlay is asked for', () => {
  const fig = histogramChart({
    title: 'h',
    series: [{ name: 'viral', values: [1, 2, 2] }, { name: 'normal', values: [3] }],
    bins: { start: 0, end: 4, size: 1 },
    normalise: 'percent',
    logX: true,
  });
  assert.equal(fig.layout.barmode, 'group');
  assert.deepEqual(fig.data[0].xbins, { start: 0, end: 4, size: 1 });
  assert.equal(fig.data[1].histnorm, 'percent');
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, '% of images');
  assert.equal((fig.layout.xaxis as { type: string }).type, 'log');
  assertPortable(fig);
  const overlay = histogramChart({ title: 'h', series: [{ name: 'a', values: [1] }, { name: 'b', values: [2] }], barmode: 'overlay' });
  assert.equal(overlay.layout.barmode, 'overlay');
  assert.ok((overlay.data[0].opacity as number) < 1);
  assert.equal((overlay.layout.yaxis as { title: { text: string } }).title.text, 'images');
});
