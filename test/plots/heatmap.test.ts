import * as assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { closeBrowser, renderSvg } from '../../lib/plots/export';
import { heatmapChart, type HeatmapOptions } from '../../lib/plots/heatmap';
import { assertPortable } from './portable';

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

// A confusion matrix as the report draws it (lib/report/figures.ts).
const confusion: HeatmapOptions = {
  title: 'Test confusion matrix: ResNet-50 · 3-class',
  z: [[90, 5, 5], [3, 80, 17], [1, 9, 90]],
  x: ['covid', 'viral', 'normal'],
  y: ['covid', 'viral', 'normal'],
  xTitle: 'predicted',
  yTitle: 'true',
  zTitle: '% of row',
  zRange: [0, 100],
};

test('heatmapChart: column labels and x-axis title under the cells, the top margin left to the title', () => {
  const fig = heatmapChart(confusion);
  assert.equal((fig.layout.xaxis as { side: string }).side, 'bottom');
  const margin = fig.layout.margin as { t: number; b: number };
  assert.ok(margin.b >= 60, `bottom margin ${margin.b} holds tick labels and the axis title`);
  const untitled = heatmapChart({ ...confusion, xTitle: undefined }).layout.margin as { b: number };
  assert.ok(untitled.b < margin.b, 'no room kept for a missing axis title');
});

after(() => closeBrowser());

/** Vertical extent [top, bottom] in CSS pixels of a one-line SVG text: its baseline y and font size. */
function textBand(tag: string): [number, number] {
  const y = Number(/\sy="([-\d.]+)"/.exec(tag)?.[1]);
  const size = Number(/font-size: ([\d.]+)px/.exec(tag)?.[1]);
  assert.ok(Number.isFinite(y) && size > 0, `no position in ${tag.slice(0, 80)}`);
  return [y - 0.8 * size, y + 0.25 * size];
}

test('rendered: the title, the column labels and the x-axis title are clear of each other and inside the figure', { timeout: 120_000 }, async () => {
  const fig = heatmapChart(confusion);
  const svg = await renderSvg(fig);
  const title = textBand(/<text[^>]*class="gtitle"[^>]*>/.exec(svg)![0]);
  const xTitle = textBand(/<text[^>]*class="xtitle"[^>]*>/.exec(svg)![0]);
  const ticks = [...svg.matchAll(/<g class="xtick"><text[^>]*>/g)].map((m) => textBand(m[0]));
  assert.equal(ticks.length, 3);
  const bands: [string, [number, number]][] = [['title', title], ['x-axis title', xTitle], ...ticks.map((b, i): [string, [number, number]] => [`column label ${i}`, b])];
  for (const [name, [top, bottom]] of bands) assert.ok(top >= 0 && bottom <= fig.layout.height!, `${name} ${top}..${bottom} inside 0..${fig.layout.height}`);
  const apart = (a: [number, number], b: [number, number]) => a[1] <= b[0] || b[1] <= a[0];
  assert.ok(apart(title, xTitle), `title ${title} and x-axis title ${xTitle} overlap`);
  for (const t of ticks) {
    assert.ok(apart(title, t), `title ${title} and column label ${t} overlap`);
    assert.ok(apart(xTitle, t), `x-axis title ${xTitle} and column label ${t} overlap`);
  }
});
