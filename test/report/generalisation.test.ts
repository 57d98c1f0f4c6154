import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generalisationSection, scoreGroup, type GeneralisationRun } from '../../lib/report/generalisation';

const p = (file: string, label: number, predicted: number, patient = file) => ({
  file, patientId: patient, label, probs: [0, 1, 2].map((k) => (k === predicted ? 0.8 : 0.1)),
});

test('scoreGroup: accuracy and per-class sensitivity with CIs around them', () => {
  const preds = [p('a', 0, 0), p('b', 0, 1), p('c', 0, 0), p('d', 0, 0), p('e', 2, 2)];
  const s = scoreGroup(preds, ['covid', 'viral', 'normal'], 1000);
  assert.equal(s.n, 5);
  assert.equal(s.accuracy.point, 0.8);
  assert.equal(s.perClass.covid.sensitivity.point, 0.75);
  assert.equal(s.perClass.normal.sensitivity.point, 1);
  assert.equal(s.perClass.viral.n, 0, 'a class absent from the group has no sensitivity');
  const [lo, hi] = s.accuracy.ci!;
  assert.ok(lo <= 0.8 && hi >= 0.8 && lo < hi);
});

test('generalisationSection: a held-out table beside the internal score, and the internal test by source', () => {
  const classes = ['covid', 'viral', 'normal'];
  const main: GeneralisationRun = {
    id: 'm', model: 'resnet50', task: 'multiclass', classes, holdout: [], recipe: 'deconfounded', held: [],
    test: [p('x/1', 0, 0), p('x/2', 0, 0), p('y/1', 2, 0), p('y/2', 2, 2)],
    sources: { 'x/1': 'X', 'x/2': 'X', 'y/1': 'Y', 'y/2': 'Y' },
  };
  const held: GeneralisationRun = {
    ...main, id: 'h', holdout: ['Z'], sources: {},
    held: [{ ...p('z/1', 2, 0), source: 'Z' }, { ...p('z/2', 2, 2), source: 'Z' }, { ...p('z/3', 2, 2), source: 'Z' }],
  };
  const blocks = generalisationSection([main, held], 1000);
  const tables = blocks.filter((b) => b.kind === 'table') as { header: string[]; rows: string[][] }[];
  assert.equal(tables.length, 2);
  const [heldRow] = tables[0].rows;
  assert.equal(heldRow[2], 'Z');
  assert.equal(heldRow[3], '3 (3)');
  assert.match(heldRow[5], /^66\.7 /);
  assert.match(heldRow[6], /^normal 66\.7 /);
  assert.deepEqual(tables[1].rows.map((r) => [r[1], r[3].split(' ')[0]]), [['X', '100.0'], ['Y', '50.0']]);
  assert.deepEqual(generalisationSection([{ ...main, sources: {} }], 1000), []);
});
