import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Block } from '../../lib/report/document';
import { figureBlocks, renderHtml, renderMarkdown } from '../../lib/report/render';

const figure = { data: [], layout: {} };
const blocks: Block[] = [
  { kind: 'heading', level: 1, text: 'Title <b>' },
  { kind: 'paragraph', text: 'Run `npm start` & <script>alert(1)</script>' },
  { kind: 'heading', level: 2, text: 'Results' },
  { kind: 'table', header: ['a|b', 'c'], rows: [['1', '<i>2</i>']] },
  { kind: 'figure', name: 'roc', figure, caption: 'ROC "curve"' },
  { kind: 'details', summary: 'More', blocks: [{ kind: 'figure', name: 'missing', figure, caption: 'Gone' }, { kind: 'code', text: 'x < y' }] },
  { kind: 'list', items: ['one', 'two'] },
];

test('HTML escapes text, embeds rendered SVG as a data URI and says which figures are missing', () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>ROC</text></svg>';
  const html = renderHtml(blocks, new Map([['roc', { svg }], ['missing', { error: 'no chromium' }]]));
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<title>Title &lt;b&gt;<\/title>/);
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /Run <code>npm start<\/code> &amp; &lt;script&gt;/);
  assert.match(html, /<td>&lt;i&gt;2&lt;\/i&gt;<\/td>/);
  assert.ok(html.includes(`src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"`));
  assert.match(html, /alt="ROC &quot;curve&quot;"/);
  assert.match(html, /class="missing">Figure “Gone” not rendered: no chromium/);
  assert.match(html, /<pre>x &lt; y<\/pre>/);
  assert.match(html, /<nav><ul><li><a href="#results">Results<\/a><\/li><\/ul><\/nav>/);
  assert.deepEqual(figureBlocks(blocks).map((b) => b.name), ['roc', 'missing']);
});

test('Markdown: headings, escaped table cells, figure links and code fences', () => {
  const md = renderMarkdown(blocks, 'figs');
  assert.match(md, /^# Title <b>$/m);
  assert.match(md, /^\| a\\\|b \| c \|$/m);
  assert.match(md, /^!\[ROC "curve"\]\(figs\/roc\.svg\)$/m);
  assert.match(md, /^```\nx < y\n```$/m);
  assert.match(md, /^- one\n- two$/m);
});
