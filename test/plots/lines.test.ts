import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineChart } from '../../lib/plots/lines';
import { assertPortable } from './portable';

test('lineChart: small multiples get their own axes, shared ranges, one legend entry per series name', () => {
  const x = [0, 1, 2];
  const panel = (title: string) => ({ title, series: [{ name: 'a', x, y: [0, 1, 2] }, { name: 'b', x, y: [2, 1, 0] }] });
  const fig = lineChart({ title: 'l', panels: [panel('p1'), panel('p2'), panel('p3')], columns: 2, xTitle: 'x', yTitle: 'y', logY: true });
  assert.equal(fig.data.length, 6);
  assert.deepEqual(fig.data.map((t) => [t.xaxis, t.yaxis]), [['x', 'y'], ['x', 'y'], ['x2', 'y2'], ['x2', 'y2'], ['x3', 'y3'], ['x3', 'y3']]);
  assert.deepEqual(fig.data.map((t) => t.showlegend), [true, true, false, false, false, false]);
  assert.equal((fig.layout.xaxis2 as { matches: string }).matches, 'x');
  assert.equal((fig.layout.yaxis3 as { type: string }).type, 'log');
  for (const key of ['xaxis', 'xaxis2', 'xaxis3', 'yaxis', 'yaxis2', 'yaxis3']) {
    const [lo, hi] = (fig.layout[key] as { domain: [number, number] }).domain;
    assert.ok(lo >= 0 && hi <= 1 && lo < hi, `${key} domain ${lo}..${hi}`);
  }
  // The same series name keeps its colour across panels.
  assert.deepEqual(fig.data[0].line, fig.data[2].line);
  assert.equal((fig.layout.annotations as unknown[]).length, 3, 'one title per panel');
  assert.equal(fig.layout.shapes, undefined);
  assertPortable(fig);
  assert.throws(() => lineChart({ title: 'l', panels: [{ title: 'p', series: [{ name: 'a', x: [1, 2], y: [1] }] }] }), /a: 1 values for 2 x values/);
});

test('lineChart: a series in segments stays one legend entry and one colour; marks are dashed lines across the panel', () => {
  const fig = lineChart({
    title: 'l',
    panels: [{
      title: 'l',
      series: [{ name: 'a', x: [1, 2], y: [0, 1] }, { name: 'b', x: [1, 2], y: [1, 0] }, { name: 'a', x: [3, 4], y: [1, 2] }],
      marks: [{ x: 2.5, text: 'phase <2>' }],
    }],
  });
  assert.deepEqual(fig.data.map((t) => [t.name, t.showlegend]), [['a', true], ['b', true], ['a', false]]);
  assert.deepEqual(fig.data[0].line, fig.data[2].line);
  assert.equal(fig.data[0].legendgroup, fig.data[2].legendgroup, 'clicking the legend hides every segment');
  const shapes = fig.layout.shapes as { x0: number; x1: number; y0: number; y1: number; xref: string; yref: string; line: { dash: string } }[];
  assert.equal(shapes.length, 1);
  assert.deepEqual([shapes[0].x0, shapes[0].x1, shapes[0].y0, shapes[0].y1], [2.5, 2.5, 0, 1]);
  assert.deepEqual([shapes[0].xref, shapes[0].yref, shapes[0].line.dash], ['x', 'y domain', 'dash']);
  const label = (fig.layout.annotations as { text: string; x: number; yanchor: string }[])[0];
  assert.deepEqual([label.text, label.x, label.yanchor], ['phase &lt;2&gt;', 2.5, 'bottom']);
  assertPortable(fig);
});
