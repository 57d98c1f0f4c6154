/**
 * The paired tests against reference answers made by scripts/compare_reference.py (a classic O(m·n) DeLong in
 * numpy, cross-checked with sklearn's roc_auc_score; scipy's binomtest; sklearn's roc_curve) and stored in
 * test/eval/fixtures/compare-reference.json. Rerun the script to regenerate them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { comparePredictions, comparisonJson, pairPredictions, pairwiseComparisons } from '../../lib/eval/compare';
import { decisionCurve } from '../../lib/eval/decision-curve';
import { delongCovariance, delongTest, midranks } from '../../lib/eval/delong';
import { binomialHalfTwoSidedP, twoSidedNormalP } from '../../lib/eval/distributions';
import { mcnemarExact } from '../../lib/eval/mcnemar';
import { holm } from '../../lib/eval/multiple-testing';
import { operatingPoint, predictiveValuesAt, thresholdForSensitivity } from '../../lib/eval/operating-point';
import type { Prediction } from '../../lib/eval/types';
import { CxrError } from '../../lib/errors';
import { assertClose } from './reference';

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'compare-reference.json'), 'utf8'), (_k, v) =>
  v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v,
);

/** |actual − expected| ≤ abs, or within `rel` of expected (p values of order 1e-9 are checked relatively). */
function assertP(actual: number, expected: number, abs: number, rel: number, where: string): void {
  const err = Math.abs(actual - expected);
  assert.ok(err <= abs && err <= Math.max(rel * Math.abs(expected), 1e-15), `${where}: ${actual} vs ${expected}`);
}

/** Binary predictions as the runs write them: class 0 (covid) is the positive class, probs [p, 1 − p]. */
function binaryPreds(positive: readonly number[], scores: readonly number[], patientOf = (i: number) => `p${i}`): Prediction[] {
  return scores.map((s, i) => ({ file: `f${i}.png`, patientId: patientOf(i), label: positive[i] ? 0 : 1, probs: [s, 1 - s] }));
}

test('midranks average the ranks of ties, as scipy.stats.rankdata', () => {
  assert.deepEqual([...midranks([0.3, 0.1, 0.3, 0.2, 0.3])], [4, 1, 4, 2, 4]);
  assert.deepEqual([...midranks([])], []);
});

test('fast DeLong equals the classic structural-components DeLong: AUCs within 1e-6, p within 1e-4', () => {
  for (const c of fixture.delong) {
    const positive = c.positive.map(Boolean);
    const r = delongTest(positive, c.a, c.b);
    const e = c.expected;
    assertClose(r.auc, e.auc, 1e-12, `${c.name} auc`);
    assertClose(r.variance, e.var, 1e-12, `${c.name} var`);
    assertClose(r.covariance, e.cov, 1e-12, `${c.name} cov`);
    assertClose(r.z, e.z, 1e-9, `${c.name} z`);
    assertP(r.p, e.p, 1e-4, 1e-5, `${c.name} p`);
  }
});

test('DeLong covariance of one model is its variance; a missing class gives NaN, not a throw', () => {
  const c = fixture.delong[0];
  const one = delongCovariance(c.positive.map(Boolean), [c.a]);
  assertClose(one.covariance[0][0], c.expected.var[0], 1e-12, 'variance');
  const none = delongTest([true, true], [0.1, 0.2], [0.3, 0.4]);
  assert.ok(Number.isNaN(none.auc[0]) && Number.isNaN(none.p));
  assert.throws(() => delongTest([true, false], [0.1], [0.3, 0.4]), /1 scores for 2 labels/);
  assert.throws(() => delongTest([true, false], [0.1, NaN], [0.3, 0.4]), /not finite/);
});

test('3-class comparison: DeLong per class one-vs-rest with Holm-adjusted p equals the reference', () => {
  const classes = ['covid', 'viral', 'normal'];
  for (const c of fixture.multiclass_delong) {
    const preds = (probs: number[][]): Prediction[] => probs.map((p, i) => ({ file: `f${i}`, patientId: `p${i}`, label: c.labels[i], probs: p }));
    const r = comparePredictions(preds(c.a), preds(c.b), classes, { bootstrap: false });
    assert.equal(r.delongPerClass.length, 3);
    r.delongPerClass.forEach((d, k) => {
      const e = c.expected[k];
      assert.equal(d.class, classes[k]);
      assertClose(d.auc, e.auc, 1e-12, `${c.name} class ${k} auc`);
      assertP(d.p, e.p, 1e-4, 1e-5, `${c.name} class ${k} p`);
      assertP(d.pHolm, e.p_holm, 1e-4, 1e-5, `${c.name} class ${k} p_holm`);
    });
    // The headline test is COVID-vs-rest.
    assert.equal(r.delong, r.delongPerClass[0]);
  }
});

test('exact McNemar equals scipy.stats.binomtest: b and c equal, p within 1e-6 (b + c = 0 gives p = 1)', () => {
  for (const c of fixture.mcnemar) {
    const r = mcnemarExact(c.correct_a.map(Boolean), c.correct_b.map(Boolean));
    assert.equal(r.b, c.expected.b, `${c.name} b`);
    assert.equal(r.c, c.expected.c, `${c.name} c`);
    assertP(r.p, c.expected.p, 1e-6, 1e-9, `${c.name} p`);
  }
  assert.throws(() => mcnemarExact([true], []), /1 results of model A but 0/);
});

test('tail probabilities: normal at known quantiles, binomial symmetric and in range', () => {
  assertP(twoSidedNormalP(1.959963984540054), 0.05, 1e-8, 1e-6, 'z 1.96');
  assert.equal(twoSidedNormalP(0), 1);
  assert.equal(twoSidedNormalP(Infinity), 0);
  assert.equal(binomialHalfTwoSidedP(0, 0), 1);
  assert.equal(binomialHalfTwoSidedP(2, 9), binomialHalfTwoSidedP(7, 9));
  assert.throws(() => binomialHalfTwoSidedP(3, 2), RangeError);
});

test('Holm adjusts in step-down order, keeps order and monotonicity, and leaves NaN out of the family', () => {
  assertClose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06], 1e-15, 'holm');
  assertClose(holm([0.01, NaN, 0.03]), [0.02, NaN, 0.03], 1e-15, 'holm NaN');
  assertClose(holm([0.5, 0.6]), [1, 1], 0, 'capped');
});

test('operating point: threshold from validation for the target sensitivity, sens/spec/PPV/NPV on test as the reference', () => {
  for (const c of fixture.operating_point) {
    const e = c.expected;
    const chosen = thresholdForSensitivity(c.val_positive.map(Boolean), c.val_scores, c.target);
    assert.equal(chosen.threshold, e.threshold, `${c.name} threshold`);
    assertClose(chosen.sensitivity, e.val_sensitivity, 1e-12, `${c.name} val sensitivity`);
    assertClose(chosen.specificity, e.val_specificity, 1e-12, `${c.name} val specificity`);
    const op = operatingPoint(binaryPreds(c.val_positive, c.val_scores), binaryPreds(c.test_positive, c.test_scores), {
      targetSensitivity: c.target,
      bootstrap: { resamples: 1000, seed: 1 },
    });
    assert.equal(op.threshold, e.threshold);
    assertClose(op.test.sensitivity.point, e.sensitivity, 1e-12, `${c.name} sensitivity`);
    assertClose(op.test.specificity.point, e.specificity, 1e-12, `${c.name} specificity`);
    op.predictiveValues.forEach((pv, k) => {
      assert.equal(pv.prevalence, e.prevalences[k]);
      assertClose(pv.ppv.point, e.ppv[k], 1e-12, `${c.name} ppv ${pv.prevalence}`);
      assertClose(pv.npv.point, e.npv[k], 1e-12, `${c.name} npv ${pv.prevalence}`);
    });
    for (const est of [op.test.sensitivity, op.test.specificity, ...op.predictiveValues.map((p) => p.ppv)]) {
      if (!Number.isFinite(est.point)) continue;
      assert.ok(est.ci && est.ci[0] <= est.point + 1e-12 && est.point <= est.ci[1] + 1e-12, `${c.name}: CI ${est.ci} around ${est.point}`);
    }
    const curve = decisionCurve(c.test_positive.map(Boolean), c.test_scores, c.net_benefit_thresholds);
    assertClose(curve.netBenefit, e.net_benefit, 1e-12, `${c.name} net benefit`);
    assertClose(curve.treatAll, e.treat_all, 1e-12, `${c.name} treat all`);
  }
});

test('operating point refuses what cannot be chosen', () => {
  assert.throws(() => thresholdForSensitivity([true, false], [0.3, 0.2], 0), /target sensitivity/);
  const val = binaryPreds([0, 0], [0.2, 0.3]);
  assert.throws(() => operatingPoint(val, val), CxrError);
  assertClose(predictiveValuesAt(0.9, 0.8, 0.05).ppv, (0.9 * 0.05) / (0.9 * 0.05 + 0.2 * 0.95), 1e-15, 'ppv');
});

test('comparePredictions: binary keys as the reference, accuracy difference with a paired patient-bootstrap CI', () => {
  const c = fixture.delong[0];
  // Two images per patient: the bootstrap resamples patients.
  const a = binaryPreds(c.positive, c.a, (i) => `p${i >> 1}`);
  const b = binaryPreds(c.positive, c.b, (i) => `p${i >> 1}`);
  const r = comparePredictions(a, [...b].reverse(), ['covid', 'not-covid'], { names: ['A', 'B'], bootstrap: { resamples: 1000, seed: 3 } });
  assertClose(r.delong.auc, c.expected.auc, 1e-6, 'auc');
  assertP(r.delong.p, c.expected.p, 1e-4, 1e-5, 'p');
  assert.equal(r.delongPerClass.length, 1);
  assert.equal(r.delong.pHolm, r.delong.p);
  const right = (s: number, pos: number) => (s >= 0.5) === Boolean(pos); // argmax of [s, 1 − s]: ties go to covid
  const ra = c.a.map((s: number, i: number) => right(s, c.positive[i]));
  const rb = c.b.map((s: number, i: number) => right(s, c.positive[i]));
  assert.equal(r.mcnemar.b, ra.filter((x: boolean, i: number) => x && !rb[i]).length);
  assert.equal(r.mcnemar.c, ra.filter((x: boolean, i: number) => !x && rb[i]).length);
  const accA = ra.filter(Boolean).length / ra.length;
  const accB = rb.filter(Boolean).length / rb.length;
  assertClose(r.accuracy, [accA, accB], 1e-15, 'accuracy');
  assertClose(r.accuracyDiff.point, accA - accB, 1e-15, 'accuracy diff');
  assert.ok(r.accuracyDiff.ci![0] < r.accuracyDiff.point && r.accuracyDiff.point < r.accuracyDiff.ci![1]);
  assert.equal(r.patients, 100);

  const json = comparisonJson(r) as any;
  assert.deepEqual(Object.keys(json).slice(3, 5), ['delong', 'delong_per_class']);
  assert.deepEqual(Object.keys(json.delong).filter((k) => ['auc', 'z', 'p'].includes(k)), ['auc', 'z', 'p']);
  assert.deepEqual(Object.keys(json.mcnemar), ['b', 'c', 'p']);
  assert.equal(json.accuracy_diff, r.accuracyDiff.point);
  // Swapping A and B flips the signs and swaps b and c; p stays.
  const swapped = comparePredictions(b, a, ['covid', 'not-covid'], { bootstrap: false });
  assertClose(swapped.delong.z, -r.delong.z, 1e-12, 'z');
  assert.deepEqual([swapped.mcnemar.b, swapped.mcnemar.c], [r.mcnemar.c, r.mcnemar.b]);
  assert.equal(swapped.accuracyDiff.ci, undefined);
});

test('pairing refuses different images or labels; three models give three pairs', () => {
  const a = binaryPreds([1, 0, 1], [0.9, 0.2, 0.7]);
  assert.throws(() => pairPredictions(a, a.slice(1)), /3 predictions but .* 2/);
  assert.throws(() => pairPredictions(a, [{ ...a[0], label: 1 }, a[1], a[2]]), /f0\.png: label 0 for A but 1 for B/);
  assert.throws(() => pairPredictions(a, [{ ...a[0], file: 'x.png' }, a[1], a[2]]), /f0\.png is scored by A but not by B/);
  const four = binaryPreds([1, 0, 1, 0], [0.9, 0.2, 0.7, 0.4]);
  const pairs = pairwiseComparisons(
    ['A', 'B', 'C'].map((name) => ({ name, predictions: four })),
    ['covid', 'not-covid'],
    { bootstrap: false },
  );
  assert.deepEqual(pairs.map((p) => p.names), [['A', 'B'], ['A', 'C'], ['B', 'C']]);
  for (const p of pairs) assert.deepEqual([p.mcnemar.b, p.mcnemar.c, p.mcnemar.p, p.delong.z, p.delong.p], [0, 0, 1, 0, 1]);
});
