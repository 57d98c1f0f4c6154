import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { CxrError } from '../../lib/errors';
import { figureBundle, PLOTLY_MIME, show, showPng } from '../../lib/plots/display';
import { barChart } from '../../lib/plots/bars';

const fig = barChart({ title: 'Counts', categories: ['a'], series: [{ name: 's', values: [1] }], width: 500, height: 300 });

test('figureBundle: plotly JSON and a PNG fallback in one output, shown at the figure size', () => {
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47]);
  const b = figureBundle(fig, png);
  const plotly = b.data[PLOTLY_MIME] as { data: unknown; layout: unknown; config: Record<string, unknown> };
  assert.equal(plotly.data, fig.data);
  assert.equal(plotly.layout, fig.layout);
  assert.equal(b.data['image/png'], Buffer.from(png).toString('base64'));
  assert.equal(b.data['text/plain'], '<figure: Counts>');
  assert.deepEqual(b.metadata, { 'image/png': { width: 500, height: 300 } });
});

test('outside a tslab kernel, show… says where it works instead of failing obscurely', async () => {
  await assert.rejects(show(fig), (err: Error) => err instanceof CxrError && /tslab kernel/.test(err.message));
  assert.throws(() => showPng(new Uint8Array(4)), CxrError);
});
