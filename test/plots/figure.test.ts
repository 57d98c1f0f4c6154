import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  barChart, CLASS_COLOURS, formatNumber, heatmapChart, histogramChart, imageGridFigure, lineChart, type Figure,
} from '../../lib/plots/figure';

/**
 * The attributes both plotly.js 3.x (export) and 4.x (JupyterLab renderer) accept: titles are objects,
 * colours are #rrggbb or integer rgb()/rgba(), no `*src` keys, no typed arrays, JSON round-trips.
 */
function assertPortable(fig: Figure): void {
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig, 'figure must be plain JSON');
  const walk = (v: unknown, at: string): void => {
    if (ArrayBuffer.isView(v)) assert.fail(`${at}: typed array`);
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`));
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        assert.ok(!k.endsWith('src'), `${at}.${k}: *src attributes were removed in plotly.js 4`);
        if (k === 'title') assert.equal(typeof x, 'object', `${at}.title must be { text } (plotly.js 3 dropped strings)`);
        if (k === 'color' && typeof x === 'string') {
          assert.match(x, /^(#[0-9a-fA-F]{6}|rgba?\(\d+,\s*\d+,\s*\d+(,\s*(0|1|0?\.\d+))?\))$/, `${at}.color ${x}`);
        }
        walk(x, `${at}.${k}`);
      }
    }
  };
  walk(fig, 'figure');
}

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
  assertPortable(fig);
  assert.throws(() => barChart({ title: 't', categories: ['a', 'b'], series: [{ name: 's', values: [1] }] }), /s: 1 values for 2 categories/);
});

test('histogramChart: shared bins, normalisation, grouped unless overlay is asked for', () => {
  const fig = histogramChart({
    title: 'h',
    series: [{ name: 'viral', values: [1, 2, 2] }, { name: 'normal', values: [3] }],
    bins: { start: 0, end: 4, size: 1 },
    normalise: 'percent',
  });
  assert.equal(fig.layout.barmode, 'group');
  assert.deepEqual(fig.data[0].xbins, { start: 0, end: 4, size: 1 });
  assert.equal(fig.data[1].histnorm, 'percent');
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, '% of images');
  assertPortable(fig);
  const overlay = histogramChart({ title: 'h', series: [{ name: 'a', values: [1] }, { name: 'b', values: [2] }], barmode: 'overlay' });
  assert.equal(overlay.layout.barmode, 'overlay');
  assert.ok((overlay.data[0].opacity as number) < 1);
});

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
  assertPortable(fig);
  assert.throws(() => lineChart({ title: 'l', panels: [{ title: 'p', series: [{ name: 'a', x: [1, 2], y: [1] }] }] }), /a: 1 values for 2 x values/);
});

test('heatmapChart: reversed Blues (darker = more), value text in each cell, size follows labels', () => {
  const fig = heatmapChart({ title: 'h', z: [[100, 0.5], [33.333, 12]], x: ['covid', 'normal'], y: ['source: a', 'a much longer row label here'], zRange: [0, 100] });
  const t = fig.data[0];
  assert.equal(t.colorscale, 'Blues');
  assert.equal(t.reversescale, true);
  assert.deepEqual(t.text, [['100', '0.5'], ['33.3', '12']]);
  assert.equal(t.zmin, 0);
  assert.equal(t.zmax, 100);
  assert.ok((fig.layout.margin as { l: number }).l > 7 * 'a much longer row label here'.length, 'room for the row labels');
  assertPortable(fig);
  assert.throws(() => heatmapChart({ title: 'h', z: [[1]], x: ['a', 'b'], y: ['r'] }), /z row 0: 1 values for 2 column labels/);
});

test('imageGridFigure: one image trace per cell, aspect kept, row labels and captions', () => {
  const cell = (w: number, h: number, title: string) => ({ source: 'data:image/png;base64,AAAA', width: w, height: h, title });
  const fig = imageGridFigure({
    title: 'grid',
    rows: [{ label: 'covid', cells: [cell(40, 20, 'a'), cell(20, 40, 'b<i>')] }, { label: 'normal', cells: [cell(10, 10, 'c')] }],
    cellSize: 100,
  });
  assert.equal(fig.data.length, 3);
  assert.ok(fig.data.every((t) => t.type === 'image' && t.source === 'data:image/png;base64,AAAA'));
  assert.deepEqual(fig.data.map((t) => t.xaxis), ['x', 'x2', 'x3']);
  const y2 = fig.layout.yaxis2 as { range: number[]; scaleanchor: string };
  assert.deepEqual(y2.range, [39.5, -0.5], 'images run top to bottom');
  assert.equal(y2.scaleanchor, 'x2', 'square pixels');
  const texts = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.ok(texts.includes('b&lt;i&gt;'), 'captions are escaped');
  assert.ok(texts.includes('<b>covid</b>'));
  assert.ok(fig.layout.width! >= 2 * 100 && fig.layout.height! >= 2 * 100);
  assertPortable(fig);
});

test('formatNumber: integers as they are, others to three significant digits', () => {
  assert.equal(formatNumber(12), '12');
  assert.equal(formatNumber(33.3333), '33.3');
  assert.equal(formatNumber(0.012345), '0.0123');
  assert.equal(formatNumber(Number.NaN), '');
});
