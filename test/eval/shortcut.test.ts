import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../lib/random';
import { fitLogistic, predictLogistic } from '../../lib/eval/logistic';
import {
  encodeMetadata,
  fitMetadataEncoder,
  rawMetadataFeatures,
  shortcutAudit,
  shortcutProbabilities,
  trainShortcutBaseline,
  type ImageMeta,
} from '../../lib/eval/shortcut';
import { describeTree, fitTree, predictTree } from '../../lib/eval/tree';
import { assertClose, randomInt, sklearnReference } from './reference';

const CLASSES = ['covid', 'viral', 'normal'];

/**
 * Metadata that leaks the label the way public COVID collections do: covid images are mostly small JPEGs,
 * some colour; viral and normal mostly large greyscale PNGs of different sizes. Overlap keeps it imperfect.
 */
function syntheticMeta(seed: number, n: number, classes = CLASSES): ImageMeta[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = classes[randomInt(random, classes.length)];
    const leak = random() < 0.8;
    const k = leak ? CLASSES.indexOf(label) : randomInt(random, 3);
    const width = [600, 1200, 1800][k] + randomInt(random, 400);
    const height = Math.round(width * (0.8 + 0.4 * random()));
    return {
      file: `${label}/${i}.${k === 0 ? 'jpg' : 'png'}`,
      format: k === 0 ? 'jpeg' : random() < 0.9 ? 'png' : 'jpeg',
      width,
      height,
      bytes: Math.round(width * height * (k === 0 ? 0.15 : 0.6) * (0.7 + 0.6 * random())),
      channels: k === 0 && random() < 0.4 ? 3 : 1,
      bitDepth: k === 2 && random() < 0.3 ? 16 : 8,
      label,
    };
  });
}

const train3 = syntheticMeta(1, 240);
const test3 = syntheticMeta(2, 120);
const train2 = syntheticMeta(3, 160, ['covid', 'normal']);
const test2 = syntheticMeta(4, 80, ['covid', 'normal']);
const encoder3 = fitMetadataEncoder(train3);
const encoder2 = fitMetadataEncoder(train2);
const raw = (enc: { formats: string[] }, s: ImageMeta[]) => s.map((x) => rawMetadataFeatures(x, enc.formats));
const idx = (s: ImageMeta[], classes: string[]) => s.map((x) => classes.indexOf(x.label));

const logisticCases = [
  { name: '3-class C=1', X_train: raw(encoder3, train3), y_train: idx(train3, CLASSES), X_test: raw(encoder3, test3), C: 1 },
  { name: '3-class C=0.05', X_train: raw(encoder3, train3), y_train: idx(train3, CLASSES), X_test: raw(encoder3, test3), C: 0.05 },
  {
    name: 'binary C=1',
    X_train: raw(encoder2, train2),
    y_train: idx(train2, ['covid', 'normal']),
    X_test: raw(encoder2, test2),
    C: 1,
  },
];
const ref = sklearnReference({ logistic: logisticCases }).logistic;

test('the 3-class metadata baseline matches StandardScaler + LogisticRegression (C=1)', () => {
  const baseline = trainShortcutBaseline(train3, CLASSES);
  assert.ok(baseline.logistic.converged);
  assertClose(shortcutProbabilities(baseline, test3), ref['3-class C=1'].probs, 1e-6, 'probabilities');
});

test('the binary baseline uses sklearn\'s binary convention (one weight vector) and matches it', () => {
  const baseline = trainShortcutBaseline(train2, ['covid', 'normal']);
  assert.equal(baseline.logistic.weights.length, 1);
  assertClose(shortcutProbabilities(baseline, test2), ref['binary C=1'].probs, 1e-6, 'probabilities');
});

test('stronger regularisation (C=0.05) matches sklearn too', () => {
  const Xtrain = encodeMetadata(encoder3, train3);
  const model = fitLogistic(Xtrain, idx(train3, CLASSES), 3, { C: 0.05 });
  assertClose(predictLogistic(model, encodeMetadata(encoder3, test3)), ref['3-class C=0.05'].probs, 1e-6, 'probabilities');
});

test('the audit reports val/test accuracy and per-class recall far above chance on leaky metadata', () => {
  const audit = shortcutAudit({ train: train3, val: syntheticMeta(5, 100), test: test3 }, CLASSES);
  assert.deepEqual(audit.featureNames, ['format=jpeg', 'format=png', 'width', 'height', 'aspect', 'bytes', 'colour', 'bitDepth']);
  for (const split of [audit.val, audit.test]) {
    assert.ok(split.logistic.accuracy > 0.7, `logistic accuracy ${split.logistic.accuracy}`);
    assert.ok(split.tree.accuracy > 0.7, `tree accuracy ${split.tree.accuracy}`);
    assert.deepEqual(Object.keys(split.logistic.recall), CLASSES);
    assert.equal(split.logistic.confusion.flat().reduce((a, b) => a + b, 0), split.logistic.n);
  }
  assert.ok(audit.majorityTestAccuracy < 0.45);
  assert.equal(audit.singleFeature.length, audit.featureNames.length);
  assert.ok(['width', 'height', 'bytes'].includes(audit.singleFeature[0].feature), audit.singleFeature[0].feature);
  assert.match(audit.treeText[0], /^\[covid \d+, viral \d+, normal \d+\]$/);
  assert.match(audit.treeText[1], /^ {2}if \w+ <= [\d.]+: /);
});

test('metadata without signal gives a baseline near chance', () => {
  const random = mulberry32(9);
  const noise = (n: number): ImageMeta[] =>
    Array.from({ length: n }, () => ({
      format: random() < 0.5 ? 'png' : 'jpeg',
      width: 1000 + randomInt(random, 500),
      height: 1000 + randomInt(random, 500),
      bytes: 100000 + randomInt(random, 50000),
      channels: 1,
      bitDepth: 8,
      label: CLASSES[randomInt(random, 3)],
    }));
  const audit = shortcutAudit({ train: noise(300), val: noise(300), test: noise(600) }, CLASSES);
  assert.ok(audit.test.logistic.accuracy < 0.45, `accuracy ${audit.test.logistic.accuracy}`);
});

test('an unknown format at test time encodes as no format; a label outside the classes is an error naming the file', () => {
  const row = rawMetadataFeatures({ ...test3[0], format: 'bmp' }, encoder3.formats);
  assert.deepEqual(row.slice(0, 2), [0, 0]);
  assert.throws(
    () => trainShortcutBaseline([{ ...train3[0], file: 'x/odd.png', label: 'cat' }], CLASSES),
    /x\/odd.png: label 'cat'/,
  );
  assert.throws(() => rawMetadataFeatures({ ...test3[0], file: 'y.png', width: 0 }, []), /y.png: width/);
});

test('a depth-1 tree finds the one feature that separates the classes', () => {
  const random = mulberry32(11);
  const X = Array.from({ length: 100 }, () => [random(), random(), random()]);
  const y = X.map((x) => (x[1] > 0.42 ? 1 : 0));
  const tree = fitTree(X, y, 2, { maxDepth: 1 });
  assert.equal(tree.feature, 1);
  assert.ok(X.every((x, i) => predictTree(tree, x) === y[i]));
  const lines = describeTree(tree, ['a', 'b', 'c'], ['no', 'yes']);
  assert.equal(lines.length, 3);
  assert.match(lines[1], /if b <= 0\.4\d+: → no/);
});
