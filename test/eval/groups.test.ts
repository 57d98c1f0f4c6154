import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupMetrics, groupValue, parseGroupKeys, type GroupMetrics } from '../../lib/eval/groups';
import { alignedTable, groupsJson, groupTable, percentCell } from '../../lib/eval/groups-table';
import { UsageError } from '../../lib/errors';
import type { Prediction } from '../../lib/eval/types';

const BINARY = ['covid', 'not-covid'];
const THREE = ['covid', 'viral', 'normal'];

/** `count` images of true class `label` predicted as `predicted`, one patient per two images. */
function images(group: string, label: number, predicted: number, count: number, k: number): (Prediction & { group: string })[] {
  return Array.from({ length: count }, (_, i) => {
    const probs = new Array<number>(k).fill(0.1 / (k - 1));
    probs[predicted] = 0.9;
    return { file: `${group}/${label}-${predicted}-${i}.png`, patientId: `${group}:${label}-${predicted}-${Math.floor(i / 2)}`, label, probs, group };
  });
}

// Source A: 4 COVID (3 found), 6 other (5 right). Source B: 5 others only (4 right).
const binary = [
  ...images('A', 0, 0, 3, 2), ...images('A', 0, 1, 1, 2), ...images('A', 1, 1, 5, 2), ...images('A', 1, 0, 1, 2),
  ...images('B', 1, 1, 4, 2), ...images('B', 1, 0, 1, 2),
];
const groupOf = (p: Prediction) => (p as Prediction & { group: string }).group;
const boot = { resamples: 1000, seed: 3 };

function within(e: { point: number; ci?: [number, number] }): void {
  assert.ok(e.ci, 'an interval');
  assert.ok(e.ci[0] <= e.point + 1e-12 && e.point <= e.ci[1] + 1e-12, `${e.point} outside ${e.ci}`);
  assert.ok(e.ci[0] >= 0 && e.ci[1] <= 1);
}

test('binary groups: exact accuracy, COVID sensitivity and specificity per group, CIs around them', () => {
  const rows = groupMetrics(binary, groupOf, { classes: BINARY, bootstrap: boot });
  assert.deepEqual(rows.map((r) => r.group), ['A', 'B']);
  const [a, b] = rows;
  assert.equal(a.n, 10);
  assert.equal(a.patients, 2 + 1 + 3 + 1);
  assert.equal(a.accuracy.point, 8 / 10);
  assert.equal(a.sensitivity.point, 3 / 4);
  assert.equal(a.specificity.point, 5 / 6);
  assert.equal(a.perClass.covid.n, 4);
  assert.equal(a.perClass['not-covid'].sensitivity.point, 5 / 6);
  for (const e of [a.accuracy, a.sensitivity, a.specificity]) within(e);
  // B holds no COVID: its COVID sensitivity is undefined, its specificity is what it got right.
  assert.equal(b.n, 5);
  assert.equal(b.accuracy.point, 4 / 5);
  assert.ok(Number.isNaN(b.sensitivity.point));
  assert.equal(b.specificity.point, 4 / 5);
  within(b.specificity);
  assert.equal(b.perClass['not-covid'].sensitivity.point, 4 / 5);
  assert.ok(Number.isNaN(b.perClass['not-covid'].specificity.point));
  // Seeded: the same intervals again.
  assert.deepEqual(groupMetrics(binary, groupOf, { classes: BINARY, bootstrap: boot }), rows);
});

test('each group resamples only its own patients: one patient gives a zero-width interval', () => {
  const one = images('C', 2, 2, 3, 3).concat(images('C', 2, 0, 1, 3)).map((p) => ({ ...p, patientId: 'only' }));
  const others = images('D', 0, 0, 6, 3).concat(images('D', 1, 2, 4, 3));
  const [c, d] = groupMetrics([...others, ...one], groupOf, { classes: THREE, bootstrap: boot });
  assert.equal(c.group, 'C');
  assert.equal(c.patients, 1);
  assert.equal(c.accuracy.point, 3 / 4);
  assert.deepEqual(c.accuracy.ci, [3 / 4, 3 / 4]);
  assert.equal(c.perClass.normal.sensitivity.point, 3 / 4);
  assert.ok(Number.isNaN(c.perClass.normal.specificity.point));
  assert.equal(c.perClass.covid.specificity.point, 3 / 4);
  // D: COVID all found; viral all called normal.
  assert.equal(d.accuracy.point, 6 / 10);
  assert.equal(d.perClass.covid.sensitivity.point, 1);
  assert.equal(d.perClass.viral.sensitivity.point, 0);
  assert.equal(d.perClass.normal.specificity.point, 6 / 10);
  assert.ok(Number.isNaN(d.perClass.normal.sensitivity.point));
  within(d.accuracy);
  assert.ok(d.accuracy.ci![0] < d.accuracy.ci![1]);
});

test('without a bootstrap: points only', () => {
  const rows = groupMetrics(binary, groupOf, { classes: BINARY, bootstrap: false });
  assert.equal(rows[0].accuracy.ci, undefined);
  assert.throws(() => groupMetrics([], groupOf, { classes: BINARY }), RangeError);
});

test('group values: source, dataset, canonical age group', () => {
  const s = { source: 'NIH ChestX-ray14', dataset: 'cxr-adult', ageGroup: 'adult(age=80)' };
  assert.equal(groupValue(s, 'source'), 'NIH ChestX-ray14');
  assert.equal(groupValue(s, 'dataset'), 'cxr-adult');
  assert.equal(groupValue(s, 'age_group'), 'adult');
  assert.equal(groupValue({ ...s, ageGroup: undefined }, 'age_group'), 'unknown');
});

test('--by keys: repeatable, comma-separated, deduplicated; an unknown key is a one-line usage error', () => {
  assert.deepEqual(parseGroupKeys(['source,age_group', 'source', 'dataset']), ['source', 'age_group', 'dataset']);
  assert.deepEqual(parseGroupKeys(undefined), []);
  assert.throws(() => parseGroupKeys(['source,hospital']), (e: unknown) => e instanceof UsageError && /^--by 'hospital': expected one of source, age_group, dataset/.test(e.message) && !e.message.includes('\n'));
});

test('group tables: aligned columns, CIs as "95.0 (91.2–98.1)", — where undefined; JSON with nulls', () => {
  assert.equal(percentCell({ point: 0.95, ci: [0.912, 0.981] }), '95.0 (91.2–98.1)');
  assert.equal(percentCell({ point: NaN }), '—');
  assert.equal(percentCell({ point: 1 }), '100.0');
  const rows = groupMetrics(binary, groupOf, { classes: BINARY, bootstrap: boot });
  const lines = groupTable('source', rows, BINARY);
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^source +n +patients +accuracy +sens covid +spec covid$/);
  assert.match(lines[1], /^A +10 +7 +80\.0 \(\d+\.\d–\d+\.\d\) +75\.0 \(\d+\.\d–\d+\.\d\) +83\.3 \(\d+\.\d–\d+\.\d\)$/);
  assert.match(lines[2], /^B +5 +3 +80\.0 \(\d+\.\d–\d+\.\d\) +— +80\.0/);
  // The last column is right-aligned: every line ends at the same column ('–' and '—' count as one).
  assert.equal(new Set(lines.map((l) => [...l].length)).size, 1);
  assert.deepEqual(alignedTable(['g', 'x'], [['long', '1'], ['s', '100']]), ['g       x', 'long    1', 's     100']);
  // Three classes: every class's sensitivity and specificity.
  const three = groupTable('age_group', [] as GroupMetrics[], THREE);
  assert.match(three[0], /sens covid +sens viral +sens normal +spec covid +spec viral +spec normal$/);

  const json = groupsJson({ source: rows }) as { source: Record<string, any>[] };
  assert.equal(json.source[1].group, 'B');
  assert.deepEqual(json.source[1].sensitivity, { point: null, ci: null });
  assert.equal(json.source[0].accuracy.point, 0.8);
  assert.equal(json.source[0].accuracy.ci.length, 2);
  assert.equal(json.source[0].perClass.covid.n, 4);
  assert.ok(JSON.parse(JSON.stringify(json)));
});
