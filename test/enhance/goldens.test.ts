import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';
import { checkCase, loadIndex } from './golden-cases';

// Committed outputs of numpy + OpenCV (scripts/make_enhance_goldens.py): ours must match every value.
const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'enhance');
const index = loadIndex(dir);

test('the goldens cover the sizes, grids and clip limits the study and the edge cases need', () => {
  const clahe = index.cases.filter((c) => c.kind === 'clahe');
  const sizes = new Set(clahe.map((c) => `${index.images[c.input].width}x${index.images[c.input].height}`));
  for (const s of ['1x1', '7x5', '224x224', '300x257', '256x250']) assert.ok(sizes.has(s), `size ${s}`);
  const grids = new Set(clahe.map((c) => c.tileGrid!.join('x')));
  for (const g of ['1x1', '2x2', '8x8', '16x16', '3x5']) assert.ok(grids.has(g), `grid ${g}`);
  const clips = new Set(clahe.map((c) => c.clipLimit));
  for (const c of [0.5, 2, 4, 40]) assert.ok(clips.has(c), `clip ${c}`);
  assert.ok(index.cases.some((c) => c.kind === 'pipeline' && index.images[c.input].channels === 3));
});

for (const kind of ['percentile', 'whiteBalance', 'grey', 'clahe', 'pipeline'] as const) {
  const cases = index.cases.filter((c) => c.kind === kind);
  test(`${kind}: ${cases.length} golden cases, 0 differing values (OpenCV ${index.opencv}, numpy ${index.numpy})`, () => {
    assert.ok(cases.length > 0);
    const failures = cases.map((c) => checkCase(dir, index, c)).filter((f) => f !== null);
    assert.deepEqual(failures, []);
  });
}
