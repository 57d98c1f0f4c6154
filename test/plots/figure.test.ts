import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { axis, baseLayout, CLASS_COLOURS, domain, escapeText, formatNumber, PALETTE, seriesColour } from '../../lib/plots/figure';

test('formatNumber: integers as they are, others to three significant digits', () => {
  assert.equal(formatNumber(12), '12');
  assert.equal(formatNumber(33.3333), '33.3');
  assert.equal(formatNumber(0.012345), '0.0123');
  assert.equal(formatNumber(Number.NaN), '');
});

test('seriesColour: a class keeps its colour wherever it appears; other series take the palette in turn', () => {
  assert.equal(seriesColour('viral', 5), CLASS_COLOURS.viral);
  assert.equal(seriesColour('train', 0), PALETTE[0]);
  assert.equal(seriesColour('train', PALETTE.length + 1), PALETTE[1]);
  assert.ok(!Object.values(CLASS_COLOURS).includes(seriesColour('train', 3)));
});

test('house layout: title object top left, extra attributes override; axes titled only when asked', () => {
  const l = baseLayout('T', { width: 300, margin: { t: 10 } });
  assert.deepEqual(l.title, { text: 'T', x: 0.02, xanchor: 'left' });
  assert.equal(l.width, 300);
  assert.deepEqual(l.margin, { t: 10 });
  assert.deepEqual(axis('x').title, { text: 'x' });
  assert.equal('title' in axis(undefined), false);
});

test('domain clamps to [0, 1] (plotly resets a domain outside it); text is escaped for plotly', () => {
  assert.deepEqual(domain(-0.1, 1.2), [0, 1]);
  assert.deepEqual(domain(0.1234567, 0.5), [0.123457, 0.5]);
  assert.equal(escapeText('a<b>&c'), 'a&lt;b&gt;&amp;c');
});
