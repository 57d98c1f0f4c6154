import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCi, bootstrapCis, quantileSorted } from '../../lib/eval/bootstrap';
import { mulberry32 } from '../../lib/random';

interface Rec {
  file: string;
  patientId: string;
  correct: number;
  /** A continuous per-patient value, so that resample means rarely tie. */
  x: number;
}

const accuracy = (s: readonly Rec[]) => s.reduce((a, r) => a + r.correct, 0) / s.length;
const meanX = (s: readonly Rec[]) => s.reduce((a, r) => a + r.x, 0) / s.length;

/** `patients` patients with `perPatient` identical images each; a patient is right on all or none. */
function clustered(patients: number, perPatient: number, seed: number): Rec[] {
  const random = mulberry32(seed);
  const out: Rec[] = [];
  for (let p = 0; p < patients; p++) {
    const correct = random() < 0.8 ? 1 : 0;
    const x = random();
    for (let i = 0; i < perPatient; i++) out.push({ file: `p${p}_${i}.png`, patientId: `p${p}`, correct, x });
  }
  return out;
}

test('the same seed gives the same interval; another seed a (slightly) different one', () => {
  const data = clustered(60, 3, 1);
  const a = bootstrapCi(data, (r) => r.patientId, meanX, { seed: 7, resamples: 1000 });
  const b = bootstrapCi(data, (r) => r.patientId, meanX, { seed: 7, resamples: 1000 });
  const c = bootstrapCi(data, (r) => r.patientId, meanX, { seed: 8, resamples: 1000 });
  assert.deepEqual(a, b);
  assert.notDeepEqual([a.lo, a.hi], [c.lo, c.hi]);
});

test('the interval contains the point estimate and has the requested coverage settings', () => {
  const data = clustered(80, 2, 2);
  const ci = bootstrapCi(data, (r) => r.patientId, accuracy, { seed: 1 });
  assert.equal(ci.point, accuracy(data));
  assert.ok(ci.lo <= ci.point && ci.point <= ci.hi, `${ci.lo} <= ${ci.point} <= ${ci.hi}`);
  assert.ok(ci.lo < ci.hi);
  assert.equal(ci.resamples, 2000);
  assert.equal(ci.patients, 80);
  assert.equal(ci.level, 0.95);
});

test('resampling patients gives a wider interval than treating their identical images as independent', () => {
  const data = clustered(40, 10, 3);
  const byPatient = bootstrapCi(data, (r) => r.patientId, accuracy, { seed: 4 });
  const byImage = bootstrapCi(data, (r) => r.file, accuracy, { seed: 4 });
  assert.equal(byPatient.patients, 40);
  assert.equal(byImage.patients, 400);
  const wPatient = byPatient.hi - byPatient.lo;
  const wImage = byImage.hi - byImage.lo;
  // 10 copies per patient: the honest interval is about √10 ≈ 3.2 times wider
  assert.ok(wPatient > 2 * wImage, `patient width ${wPatient} vs image width ${wImage}`);
});

test('the interval does not depend on the order of the records', () => {
  const data = clustered(30, 3, 5);
  const a = bootstrapCi(data, (r) => r.patientId, accuracy, { seed: 9, resamples: 1000 });
  const b = bootstrapCi([...data].reverse(), (r) => r.patientId, accuracy, { seed: 9, resamples: 1000 });
  assert.deepEqual(a, b);
});

test('undefined resamples are counted and left out, several metrics share the draws', () => {
  const data: Rec[] = [
    { file: 'a', patientId: 'a', correct: 1, x: 0 },
    { file: 'b', patientId: 'b', correct: 0, x: 0 },
  ];
  const r = bootstrapCis(
    data,
    (x) => x.patientId,
    {
      acc: accuracy,
      // undefined unless both patients are drawn
      both: (s) => (new Set(s.map((x) => x.patientId)).size === 2 ? 1 : NaN),
    },
    { seed: 3, resamples: 1000 },
  );
  assert.equal(r.acc.resamples, 1000);
  assert.equal(r.both.resamples + r.both.undefinedResamples, 1000);
  assert.ok(r.both.undefinedResamples > 350 && r.both.undefinedResamples < 650);
  assert.deepEqual([r.both.lo, r.both.hi], [1, 1]);
});

test('fewer than 1,000 resamples or an empty dataset is refused', () => {
  const data = clustered(5, 1, 6);
  assert.throws(() => bootstrapCi(data, (r) => r.patientId, accuracy, { resamples: 999 }), /at least 1000/);
  assert.throws(() => bootstrapCi([], (r: Rec) => r.patientId, accuracy), /no records/);
});

test('quantiles interpolate linearly as numpy does; the PRNG is uniform', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([0, 10], 0.025), 0.25);
  const random = mulberry32(42);
  let s = 0;
  for (let i = 0; i < 100000; i++) {
    const u = random();
    assert.ok(u >= 0 && u < 1);
    s += u;
  }
  assert.ok(Math.abs(s / 100000 - 0.5) < 0.01);
});
