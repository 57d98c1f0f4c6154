import * as assert from 'node:assert/strict';
import { test } from 'node:test';

// danfojs-node loads tfjs-node's native binding, which the project's set-up builds; CXR_SKIP_NATIVE_TESTS=1
// skips these tests (the modules are imported inside them so that skipping never loads the binding).
const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;
const table = () => import('../../lib/notebook/table');

test('frame keeps the first row’s column order and gives an empty frame its named columns', { skip }, async () => {
  const { frame } = await table();
  const df = frame([{ label: 'covid', n: 3 }, { n: 8, label: 'normal' }]);
  assert.deepEqual(df.columns, ['label', 'n']);
  assert.deepEqual(df.values, [['covid', 3], ['normal', 8]]);
  assert.deepEqual(frame([], ['a', 'b']).columns, ['a', 'b']);
  assert.equal(frame([], ['a', 'b']).shape[0], 0);
});

test('frameTable renders escaped HTML and Markdown, numbers to three significant digits', { skip }, async () => {
  const { frame, frameTable } = await table();
  const t = frameTable(frame([{ a: '1 | 2', 'b<c': 'x & y', r: 1 / 3, n: 12 }]));
  assert.equal(
    t.toHTML(),
    '<table><thead><tr><th>a</th><th>b&lt;c</th><th>r</th><th>n</th></tr></thead>' +
      '<tbody><tr><td>1 | 2</td><td>x &amp; y</td><td>0.333</td><td>12</td></tr></tbody></table>',
  );
  assert.equal(t.toMarkdown(), '| a | b<c | r | n |\n| --- | --- | --- | --- |\n| 1 \\| 2 | x & y | 0.333 | 12 |');
});

test('frameTable stops at the limit and says how many rows it left out', { skip }, async () => {
  const { frame, frameTable } = await table();
  const t = frameTable(frame([1, 2, 3].map((i) => ({ i }))));
  assert.equal(t.toMarkdown({ limit: 2 }), '| i |\n| --- |\n| 1 |\n| 2 |\n\n… 1 more row(s)');
  assert.match(t.toHTML({ limit: 1 }), /<td>1<\/td><\/tr><\/tbody><\/table><p>… 2 more row\(s\)<\/p>$/);
  assert.equal(t.toMarkdown({ limit: 3 }), t.toMarkdown());
});

test('frameTable shows describe()’s statistics as the row labels when asked for the index', { skip }, async () => {
  const { frame, frameTable } = await table();
  const md = frameTable(frame([{ w: 2 }, { w: 4 }]).describe(), { index: true }).toMarkdown();
  const rows = md.split('\n').slice(2);
  assert.deepEqual(rows.slice(0, 2), ['| count | 2 |', '| mean | 3 |']);
  assert.ok(rows.includes('| min | 2 |') && rows.includes('| max | 4 |'), md);
});

test('a report table block shown as a DataFrame keeps its text cells as they are', { skip }, async () => {
  const { frameTable, tableFrame } = await table();
  const block = { header: ['Task', 'Test images', 'Accuracy (95 % CI)'], rows: [['binary', '273', '99.6 (98.8–100)']] };
  assert.equal(
    frameTable(tableFrame(block.header, block.rows)).toMarkdown(),
    '| Task | Test images | Accuracy (95 % CI) |\n| --- | --- | --- |\n| binary | 273 | 99.6 (98.8–100) |',
  );
});

test('a column named like a DataFrame member is refused with the column named, not a broken frame', { skip }, async () => {
  const { frame, tableFrame } = await table();
  assert.throws(() => frame([{ property: 'age', values: 3 }]), { name: 'CxrError', message: /column "values" is also a DataFrame member/ });
  assert.throws(() => tableFrame(['a', 'sum'], []), /column "sum"/);
  assert.deepEqual(frame([{ property: 'age', 'distinct values': 3 }]).values, [['age', 3]]);
});

test('danfo.js computes on the project’s TensorFlow.js: one tfjs-core, its tensors are the project’s', { skip }, async () => {
  const tf = await import('@tensorflow/tfjs');
  const { frame } = await table();
  const t = frame([{ a: 1, b: 2 }, { a: 3, b: 4 }]).tensor as unknown;
  assert.ok(t instanceof tf.Tensor, 'a DataFrame tensor is a tensor of the project’s tfjs-core');
  assert.equal(tf.getBackend(), 'tensorflow', 'on the native backend');
  assert.deepEqual(await tf.sum(t as InstanceType<typeof tf.Tensor>).data(), Float32Array.of(10));
});
