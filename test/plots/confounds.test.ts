import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { classShareChart, type SharePanel } from '../../lib/plots/confounds';
import { CLASS_COLOURS } from '../../lib/plots/figure';
import { assertPortable } from './portable';

const classes = ['covid', 'viral', 'normal'];
const panels: SharePanel[] = [
  { property: 'source', table: { ieee8023: { covid: 30, viral: 0, normal: 0 }, 'Kermany <children>': { covid: 0, viral: 15, normal: 5 } } },
  { property: 'age group', table: { adult: { covid: 30, viral: 1, normal: 9 }, paediatric: { covid: 0, viral: 14, normal: 6 }, unknown: { covid: 0, viral: 0, normal: 0 } } },
];

test('classShareChart: one trace per class and panel, shares in % of each value, first value on top', () => {
  const fig = classShareChart({ title: 'Class share', panels, classes });
  assert.equal(fig.data.length, classes.length * panels.length);
  const covidSource = fig.data[0];
  assert.equal(covidSource.orientation, 'h');
  // Reversed: plotly's category axis runs bottom-up, so the first value of the table comes last.
  assert.deepEqual(covidSource.y, ['Kermany &lt;children&gt; (20)', 'ieee8023 (30)']);
  assert.deepEqual(covidSource.x, [0, 100]);
  assert.deepEqual(covidSource.customdata, [0, 30]);
  assert.deepEqual(fig.data[1].x, [75, 0], 'viral is 15 of the 20 Kermany images');
  const normalAge = fig.data[5];
  assert.equal(normalAge.yaxis, 'y2');
  assert.deepEqual(normalAge.x, [0, 30, 22.5], 'a value with no images gives 0 %, not NaN');
  assert.equal((normalAge.marker as { color: string }).color, CLASS_COLOURS.normal);
  assert.deepEqual(fig.data.map((t) => t.showlegend), [true, true, true, false, false, false], 'one legend entry per class');
  assert.equal(fig.layout.barmode, 'stack');
  const y1 = (fig.layout.yaxis as { domain: [number, number] }).domain;
  const y2 = (fig.layout.yaxis2 as { domain: [number, number] }).domain;
  assert.ok(y2[1] < y1[0], 'the second panel lies below the first');
  assert.ok(Math.abs((y1[1] - y1[0]) / (y2[1] - y2[0]) - 2 / 3) < 1e-3, 'panel heights follow the number of values');
  assert.deepEqual((fig.layout.annotations as { text: string }[]).map((a) => a.text), ['source', 'age group']);
  assertPortable(fig);
});

test('classShareChart refuses an empty chart or panel', () => {
  assert.throws(() => classShareChart({ title: 't', panels: [], classes }), /no panel/);
  assert.throws(() => classShareChart({ title: 't', panels: [{ property: 'format', table: {} }], classes }), /'format' has no value/);
});
