import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, classificationMetrics, confusionMatrix } from '../../lib/eval/metrics';
import { argmax } from '../../lib/eval/types';
import { assertClose, binaryCase, sklearnReference, threeClassCase } from './reference';

const binary = binaryCase(1, 200);
const three = threeClassCase(2, 300);
const cases = [
  { name: 'binary', y_true: binary.labels, y_pred: binary.scores.map((s) => (s > 0.5 ? 1 : 0)), n_classes: 2 },
  { name: 'three-class, class 2 never predicted', y_true: three.labels, y_pred: three.probs.map(argmax), n_classes: 3 },
  // class 1 predicted but absent from the truth; class 2 in neither
  { name: 'absent classes', y_true: [0, 0, 0, 3, 3], y_pred: [0, 1, 1, 3, 0], n_classes: 4 },
  { name: 'all correct', y_true: [0, 1, 2, 2], y_pred: [0, 1, 2, 2], n_classes: 3 },
];
const reference = sklearnReference({ classification: cases }).classification;

for (const c of cases) {
  test(`classification metrics match scikit-learn: ${c.name}`, () => {
    const ref = reference[c.name];
    const m = classificationMetrics(c.y_true, c.y_pred, c.n_classes);
    const tol = 1e-12;
    assertClose(m.accuracy, ref.accuracy, tol, 'accuracy');
    assertClose(accuracy(c.y_true, c.y_pred), ref.accuracy, tol, 'accuracy()');
    for (const key of ['precision', 'recall', 'f1', 'support', 'specificity'] as const) {
      assertClose(
        m.perClass.map((s) => s[key]),
        ref[key],
        tol,
        key,
      );
    }
    for (const avg of ['macro', 'weighted'] as const) {
      for (const key of ['precision', 'recall', 'f1', 'specificity'] as const) {
        assertClose(m[avg][key], ref[avg][key], tol, `${avg} ${key}`);
      }
    }
    assert.deepEqual(m.confusion, ref.confusion);
    assertClose(m.confusionNormalised, ref.confusion_normalised, tol, 'row-normalised confusion');
  });
}

test('the 3-class case really has a class that is never predicted', () => {
  const m = classificationMetrics(three.labels, three.probs.map(argmax), 3);
  assert.equal(m.confusion[0][2] + m.confusion[1][2] + m.confusion[2][2], 0);
  assert.ok(m.perClass[2].support > 0);
  assert.equal(m.perClass[2].precision, 0);
});

test('confusion matrix rejects labels outside the classes and mismatched lengths', () => {
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /yTrue\[1\] = 3/);
  assert.throws(() => confusionMatrix([0, 1], [0, 1.5], 3), /yPred\[1\]/);
  assert.throws(() => confusionMatrix([0], [0, 1], 3), /1 true labels but 2 predictions/);
});
