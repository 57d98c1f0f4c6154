import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averagePrecision,
  averagePrecisionOvr,
  precisionRecallCurve,
  rocAuc,
  rocAucOvr,
  rocCurve,
  taskAuc,
  trapezoidArea,
} from '../../lib/eval/curves';
import { mulberry32 } from '../../lib/random';
import { assertClose, binaryCase, sklearnReference, threeClassCase } from './reference';

const b1 = binaryCase(11, 200);
const b2 = binaryCase(12, 37);
const continuous = (() => {
  const random = mulberry32(13);
  const labels = Array.from({ length: 150 }, () => (random() < 0.3 ? 1 : 0));
  return { labels, scores: labels.map((l) => random() + 0.5 * l) };
})();
const rankingCases = [
  { name: 'ties', positive: b1.labels, score: b1.scores },
  { name: 'small', positive: b2.labels, score: b2.scores },
  { name: 'continuous', positive: continuous.labels, score: continuous.scores },
  { name: 'all tied', positive: [0, 1, 1, 0, 1], score: [0.5, 0.5, 0.5, 0.5, 0.5] },
  { name: 'perfect', positive: [0, 0, 1, 1], score: [0.1, 0.2, 0.8, 0.9] },
  { name: 'reversed', positive: [1, 1, 0, 0], score: [0.1, 0.2, 0.8, 0.9] },
  { name: 'no positives', positive: [0, 0, 0], score: [0.1, 0.4, 0.3] },
  { name: 'no negatives', positive: [1, 1, 1], score: [0.1, 0.4, 0.4] },
];
const three = threeClassCase(14, 300);
const threeMissing = { labels: three.labels.map((l) => (l === 2 ? 0 : l)), probs: three.probs };
const multiCases = [
  { name: 'three-class', y_true: three.labels, probs: three.probs, n_classes: 3 },
  { name: 'class 2 absent', y_true: threeMissing.labels, probs: threeMissing.probs, n_classes: 3 },
];
const ref = sklearnReference({ ranking: rankingCases, multiclass_ranking: multiCases });

const bool = (xs: number[]) => xs.map((x) => x === 1);

for (const c of rankingCases) {
  test(`ROC and PR curves match scikit-learn exactly: ${c.name}`, () => {
    const r = ref.ranking[c.name];
    const roc = rocCurve(bool(c.positive), c.score);
    assert.deepEqual(roc, r.roc);
    assert.deepEqual(rocCurve(bool(c.positive), c.score, { dropIntermediate: false }), r.roc_all);
    assert.deepEqual(precisionRecallCurve(bool(c.positive), c.score), r.pr);
    assertClose(rocAuc(bool(c.positive), c.score), r.auc, 1e-12, 'roc auc');
    assertClose(averagePrecision(bool(c.positive), c.score), r.ap, 1e-12, 'average precision');
  });
}

for (const c of multiCases) {
  test(`one-vs-rest AUC and AP match scikit-learn: ${c.name}`, () => {
    const r = ref.multiclass_ranking[c.name];
    const auc = rocAucOvr(c.y_true, c.probs, c.n_classes);
    assertClose(auc.perClass, r.auc_per_class, 1e-12, 'auc per class');
    assertClose(auc.macro, r.auc_macro, 1e-12, 'auc macro');
    assertClose(auc.weighted, r.auc_weighted, 1e-12, 'auc weighted');
    assertClose(taskAuc(c.y_true, c.probs, 3), r.auc_macro, 1e-12, 'task auc');
    const ap = averagePrecisionOvr(c.y_true, c.probs, c.n_classes);
    assertClose(ap.perClass, r.ap_per_class, 1e-12, 'ap per class');
    if (r.ap_macro !== undefined) {
      assertClose(ap.macro, r.ap_macro, 1e-12, 'ap macro');
      assertClose(ap.weighted, r.ap_weighted, 1e-12, 'ap weighted');
    }
  });
}

test('the binary task AUC is the AUC of class 1', () => {
  const probs = b1.scores.map((s) => [1 - s, s]);
  assertClose(taskAuc(b1.labels, probs, 2), ref.ranking.ties.auc, 1e-12, 'task auc');
});

test('trapezoid area works for decreasing x and rejects non-monotonic x', () => {
  assert.equal(trapezoidArea([1, 0.5, 0], [1, 1, 1]), 1);
  assert.throws(() => trapezoidArea([0, 1, 0.5], [0, 1, 1]), /neither increasing nor decreasing/);
});

test('curves reject non-finite scores and mismatched lengths', () => {
  assert.throws(() => rocCurve([true, false], [0.1, NaN]), /score\[1\] = NaN/);
  assert.throws(() => precisionRecallCurve([true], [0.1, 0.2]), /1 labels but 2 scores/);
});
