/**
 * Shortcut audit: how well the label can be predicted from file metadata alone (format, size, colour, bit depth),
 * never looking at a pixel. If such a baseline scores far above chance, the sources differ in ways a CNN can
 * exploit too, and high CNN accuracy is not evidence that it reads lungs.
 */
import { confusionMatrix, normaliseRows } from './metrics';
import { fitLogistic, predictLogistic, type LogisticModel, type LogisticOptions } from './logistic';
import { describeTree, fitTree, predictTree, type TreeNode } from './tree';
import { argmax, type ConfusionMatrix } from './types';

/** The metadata of one image the baseline uses (a structural subset of the dataset's Sample). */
export interface ImageMeta {
  /** For error messages only. */
  file?: string;
  /** Container format, e.g. 'png', 'jpeg'. */
  format: string;
  width: number;
  height: number;
  /** File size in bytes. */
  bytes: number;
  /** Stored channels (1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha). */
  channels: number;
  bitDepth: number;
  label: string;
}

/** Numeric features after the format one-hot columns, in column order. */
export const NUMERIC_FEATURES = ['width', 'height', 'aspect', 'bytes', 'colour', 'bitDepth'] as const;

/** Feature columns and the train-split standardisation. */
export interface MetadataEncoder {
  /** Formats seen in training, sorted; an unseen format encodes as all zeros. */
  formats: string[];
  /** Column names: `format=<f>` for each format, then {@link NUMERIC_FEATURES}. */
  names: string[];
  mean: number[];
  /** Standard deviation (population); 1 for constant columns, as sklearn's StandardScaler. */
  scale: number[];
}

function checkMeta(s: ImageMeta): void {
  const bad = (['width', 'height', 'bytes', 'channels', 'bitDepth'] as const).find(
    (k) => !(Number.isFinite(s[k]) && s[k] > 0),
  );
  if (bad) throw new RangeError(`${s.file ?? 'sample'}: ${bad} must be a positive number, got ${s[bad]}`);
}

/** Unstandardised feature row for a sample. */
export function rawMetadataFeatures(s: ImageMeta, formats: readonly string[]): number[] {
  checkMeta(s);
  return [
    ...formats.map((f) => (s.format === f ? 1 : 0)),
    s.width,
    s.height,
    s.width / s.height,
    s.bytes,
    s.channels >= 3 ? 1 : 0,
    s.bitDepth,
  ];
}

/** Learns the columns and standardisation from the training samples. */
export function fitMetadataEncoder(train: readonly ImageMeta[]): MetadataEncoder {
  if (train.length === 0) throw new RangeError('no training samples for the metadata baseline');
  const formats = [...new Set(train.map((s) => s.format))].sort();
  const rows = train.map((s) => rawMetadataFeatures(s, formats));
  const n = rows.length;
  const mean = rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / n);
  const scale = mean.map((m, j) => {
    const sd = Math.sqrt(rows.reduce((a, r) => a + (r[j] - m) ** 2, 0) / n);
    return sd > 0 ? sd : 1;
  });
  return { formats, names: [...formats.map((f) => `format=${f}`), ...NUMERIC_FEATURES], mean, scale };
}

/** Standardised feature rows. */
export function encodeMetadata(encoder: MetadataEncoder, samples: readonly ImageMeta[]): number[][] {
  return samples.map((s) =>
    rawMetadataFeatures(s, encoder.formats).map((v, j) => (v - encoder.mean[j]) / encoder.scale[j]),
  );
}

function labelIndices(samples: readonly ImageMeta[], classes: readonly string[]): number[] {
  return samples.map((s) => {
    const k = classes.indexOf(s.label);
    if (k < 0) throw new RangeError(`${s.file ?? 'sample'}: label '${s.label}' is not one of ${classes.join(', ')}`);
    return k;
  });
}

/** A trained metadata-only baseline. */
export interface ShortcutBaseline {
  classes: string[];
  encoder: MetadataEncoder;
  /** Multinomial (or binary) logistic regression on standardised features. */
  logistic: LogisticModel;
  /** Depth-limited tree on raw features (readable thresholds). */
  tree: TreeNode;
}

/** Options of {@link trainShortcutBaseline}. */
export interface ShortcutOptions {
  /** Inverse L2 strength of the logistic regression (sklearn's C, default 1). */
  C?: LogisticOptions['C'];
  /** Depth of the tree (default 2). */
  treeDepth?: number;
}

/** Trains the baseline on the training split. */
export function trainShortcutBaseline(
  train: readonly ImageMeta[],
  classes: readonly string[],
  options: ShortcutOptions = {},
): ShortcutBaseline {
  const encoder = fitMetadataEncoder(train);
  const y = labelIndices(train, classes);
  return {
    classes: [...classes],
    encoder,
    logistic: fitLogistic(encodeMetadata(encoder, train), y, classes.length, { C: options.C }),
    tree: fitTree(
      train.map((s) => rawMetadataFeatures(s, encoder.formats)),
      y,
      classes.length,
      { maxDepth: options.treeDepth ?? 2 },
    ),
  };
}

/** Logistic-regression class probabilities for samples. */
export function shortcutProbabilities(baseline: ShortcutBaseline, samples: readonly ImageMeta[]): number[][] {
  return predictLogistic(baseline.logistic, encodeMetadata(baseline.encoder, samples));
}

/** Accuracy, per-class recall and confusion of one classifier on one split. */
export interface ShortcutScore {
  n: number;
  accuracy: number;
  /** Recall (sensitivity) per class name; NaN for a class absent from the split. */
  recall: Record<string, number>;
  confusion: ConfusionMatrix;
  confusionNormalised: ConfusionMatrix;
}

function score(classes: readonly string[], yTrue: number[], yPred: number[]): ShortcutScore {
  const confusion = confusionMatrix(yTrue, yPred, classes.length);
  const recall: Record<string, number> = {};
  let correct = 0;
  classes.forEach((c, k) => {
    const support = confusion[k].reduce((a, b) => a + b, 0);
    recall[c] = support > 0 ? confusion[k][k] / support : NaN;
    correct += confusion[k][k];
  });
  return {
    n: yTrue.length,
    accuracy: yTrue.length > 0 ? correct / yTrue.length : NaN,
    recall,
    confusion,
    confusionNormalised: normaliseRows(confusion),
  };
}

/** Scores of the logistic regression and the tree on samples of a held-out split. */
export function scoreShortcut(
  baseline: ShortcutBaseline,
  samples: readonly ImageMeta[],
): { logistic: ShortcutScore; tree: ShortcutScore } {
  const y = labelIndices(samples, baseline.classes);
  const probs = shortcutProbabilities(baseline, samples);
  const raw = samples.map((s) => rawMetadataFeatures(s, baseline.encoder.formats));
  return {
    logistic: score(baseline.classes, y, probs.map(argmax)),
    tree: score(baseline.classes, y, raw.map((x) => predictTree(baseline.tree, x))),
  };
}

/** How well one feature alone separates the classes: a tree restricted to it, trained on train. */
export interface SingleFeatureScore {
  feature: string;
  trainAccuracy: number;
  testAccuracy: number;
}

/** The full audit result for a split. */
export interface ShortcutAudit {
  classes: string[];
  featureNames: string[];
  /** Accuracy of always predicting the most frequent training class, on test: the bar to beat. */
  majorityTestAccuracy: number;
  val: { logistic: ShortcutScore; tree: ShortcutScore };
  test: { logistic: ShortcutScore; tree: ShortcutScore };
  /** The tree, one line per node. */
  treeText: string[];
  /** Single-feature trees, best test accuracy first. */
  singleFeature: SingleFeatureScore[];
}

/** Trains the metadata baseline on `train` and reports it on `val` and `test`. */
export function shortcutAudit(
  split: { train: readonly ImageMeta[]; val: readonly ImageMeta[]; test: readonly ImageMeta[] },
  classes: readonly string[],
  options: ShortcutOptions = {},
): ShortcutAudit {
  const baseline = trainShortcutBaseline(split.train, classes, options);
  const { formats, names } = baseline.encoder;
  const Xtrain = split.train.map((s) => rawMetadataFeatures(s, formats));
  const Xtest = split.test.map((s) => rawMetadataFeatures(s, formats));
  const ytrain = labelIndices(split.train, classes);
  const ytest = labelIndices(split.test, classes);
  const acc = (tree: TreeNode, X: number[][], y: number[]) =>
    y.length > 0 ? y.filter((c, i) => predictTree(tree, X[i]) === c).length / y.length : NaN;
  const singleFeature = names
    .map((feature, j) => {
      const tree = fitTree(Xtrain, ytrain, classes.length, { maxDepth: options.treeDepth ?? 2, features: [j] });
      return { feature, trainAccuracy: acc(tree, Xtrain, ytrain), testAccuracy: acc(tree, Xtest, ytest) };
    })
    .sort((a, b) => b.testAccuracy - a.testAccuracy || b.trainAccuracy - a.trainAccuracy);
  const counts = classes.map((_, k) => ytrain.filter((c) => c === k).length);
  const majority = argmax(counts);
  return {
    classes: [...classes],
    featureNames: names,
    majorityTestAccuracy: ytest.length > 0 ? ytest.filter((c) => c === majority).length / ytest.length : NaN,
    val: scoreShortcut(baseline, split.val),
    test: scoreShortcut(baseline, split.test),
    treeText: describeTree(baseline.tree, names, classes),
    singleFeature,
  };
}
