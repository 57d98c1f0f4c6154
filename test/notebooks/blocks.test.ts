import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportSections } from '../../lib/notebook/blocks';
import type { Block } from '../../lib/report/document';

const blocks: Block[] = [
  { kind: 'heading', level: 1, text: 'Report' },
  { kind: 'paragraph', text: 'intro' },
  { kind: 'heading', level: 2, text: 'Results' },
  { kind: 'paragraph', text: 'r1' },
  { kind: 'heading', level: 3, text: 'Per class' },
  { kind: 'paragraph', text: 'r2' },
  { kind: 'heading', level: 2, text: 'Grad-CAM' },
  { kind: 'paragraph', text: 'g' },
  { kind: 'heading', level: 2, text: 'Limitations' },
];

test('reportSections keeps the named level-2 sections with their subsections, in report order', () => {
  const texts = (bs: Block[]) => bs.map((b) => ('text' in b ? b.text : b.kind));
  assert.deepEqual(texts(reportSections(blocks, ['Results'])), ['Results', 'r1', 'Per class', 'r2']);
  assert.deepEqual(texts(reportSections(blocks, ['Limitations', 'Grad-CAM'])), ['Grad-CAM', 'g', 'Limitations']);
  assert.deepEqual(reportSections(blocks, ['Nothing']), []);
});
