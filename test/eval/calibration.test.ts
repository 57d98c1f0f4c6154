import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyTemperature,
  expectedCalibrationError,
  fitTemperature,
  fitTemperatureToPredictions,
  negativeLogLikelihood,
  reliability,
  softmax,
  topLabelReliability,
} from '../../lib/eval/calibration';
import { mulberry32 } from '../../lib/random';
import { argmax, type Prediction } from '../../lib/eval/types';
import { assertClose, randomInt, sklearnReference } from './reference';

/** Over-confident 3-class logits: a correct-ish signal scaled up so a temperature above 1 helps. */
function overconfident(seed: number, n: number, scale: number): { logits: number[][]; labels: number[] } {
  const random = mulberry32(seed);
  const labels = Array.from({ length: n }, () => randomInt(random, 3));
  const logits = labels.map((l) => [0, 1, 2].map((k) => scale * ((k === l ? 1.2 : 0) + 2 * (random() - 0.5))));
  return { logits, labels };
}

const calibrationCases = (() => {
  const random = mulberry32(21);
  const prob = Array.from({ length: 500 }, () => Math.round(random() * 40) / 40); // values on bin edges too
  const positive = prob.map((p) => (random() < p * 0.8 ? 1 : 0));
  return [
    { name: '10 bins', positive, prob, n_bins: 10 },
    { name: '15 bins', positive, prob, n_bins: 15 },
    { name: '7 bins', positive, prob, n_bins: 7 },
  ];
})();
const over = overconfident(22, 400, 12);
const under = overconfident(23, 400, 0.3);
const binaryLogits = (() => {
  const random = mulberry32(24);
  const labels = Array.from({ length: 300 }, () => (random() < 0.5 ? 1 : 0));
  return { logits: labels.map((l) => [0, 4 * (l - 0.5) + 8 * (random() - 0.5)]), labels };
})();
const temperatureCases = [
  { name: 'overconfident', ...over },
  { name: 'underconfident', ...under },
  { name: 'binary', ...binaryLogits },
];
const ref = sklearnReference({ calibration: calibrationCases, temperature: temperatureCases });

for (const c of calibrationCases) {
  test(`reliability bins match sklearn calibration_curve: ${c.name}`, () => {
    const r = reliability(
      c.prob,
      c.positive.map((p) => p === 1),
      c.n_bins,
    );
    const nonEmpty = r.bins.filter((b) => b.count > 0);
    assert.deepEqual(
      nonEmpty.map((b) => b.observed),
      ref.calibration[c.name].prob_true,
    );
    assertClose(
      nonEmpty.map((b) => b.meanConfidence),
      ref.calibration[c.name].prob_pred,
      1e-12,
      'prob_pred',
    );
    // ECE is the count-weighted gap of these bins
    const ece = nonEmpty.reduce((a, b) => a + (b.count / r.n) * Math.abs(b.observed - b.meanConfidence), 0);
    assertClose(r.ece, ece, 1e-15, 'ece');
    assert.equal(r.bins.reduce((a, b) => a + b.count, 0), c.prob.length);
  });
}

for (const c of temperatureCases) {
  test(`temperature scaling finds scipy's NLL minimum: ${c.name}`, () => {
    const fit = fitTemperature(c.logits, c.labels);
    const r = ref.temperature[c.name];
    assert.equal(fit.atBound, false);
    assertClose(fit.temperature, r.temperature, 1e-6 * r.temperature, 'temperature');
    assertClose(fit.nllBefore, r.nll_before, 1e-12, 'nll before');
    assert.ok(fit.nllAfter <= r.nll_after + 1e-12, `our NLL ${fit.nllAfter} vs scipy ${r.nll_after}`);
    assert.ok(fit.nllAfter < fit.nllBefore);
  });
}

test('temperature above 1 for over-confident logits, below 1 for under-confident ones', () => {
  assert.ok(fitTemperature(over.logits, over.labels).temperature > 1);
  assert.ok(fitTemperature(under.logits, under.labels).temperature < 1);
});

function toPredictions(logits: number[][], labels: number[]): Prediction[] {
  return logits.map((z, i) => ({ file: `f${i}.png`, patientId: `p${i}`, label: labels[i], probs: softmax(z) }));
}

test('temperature fitted on validation lowers validation NLL and leaves every argmax unchanged on test', () => {
  const val = toPredictions(over.logits.slice(0, 200), over.labels.slice(0, 200));
  const testSet = toPredictions(over.logits.slice(200), over.labels.slice(200));
  const fit = fitTemperatureToPredictions(val);
  assert.ok(fit.nllAfter < fit.nllBefore);
  const scaled = applyTemperature(testSet, fit.temperature);
  assert.deepEqual(scaled.map((p) => argmax(p.probs)), testSet.map((p) => argmax(p.probs)));
  const nll = (ps: Prediction[]) =>
    negativeLogLikelihood(
      ps.map((p) => p.probs.map(Math.log)),
      ps.map((p) => p.label),
    );
  assert.ok(nll(scaled) < nll(testSet), 'held-out NLL improves too on this over-confident model');
  assert.ok(expectedCalibrationError(scaled) < expectedCalibrationError(testSet));
  for (const p of scaled) assertClose(p.probs.reduce((a, b) => a + b, 0), 1, 1e-12, 'probabilities sum');
});

test('separable data drives the temperature to the bound instead of diverging', () => {
  const fit = fitTemperature(
    [
      [0, 1],
      [1, 0],
    ],
    [1, 0],
  );
  assert.equal(fit.atBound, true);
  assert.ok(fit.temperature <= 1e-3 * (1 + 1e-12));
});

test('ECE of perfectly calibrated synthetic predictions is small; of over-confident ones it is not', () => {
  const random = mulberry32(25);
  const calibrated: Prediction[] = Array.from({ length: 20000 }, (_, i) => {
    const p = random();
    return { file: `${i}`, patientId: `${i}`, label: random() < p ? 1 : 0, probs: [1 - p, p] };
  });
  const ece = expectedCalibrationError(calibrated, 15);
  assert.ok(ece < 0.02, `ECE ${ece}`);
  const overconfidentPreds = calibrated.map((c) => {
    const p = c.probs[1] > 0.5 ? 0.999 : 0.001;
    return { ...c, probs: [1 - p, p] };
  });
  assert.ok(expectedCalibrationError(overconfidentPreds, 15) > 0.2);
  const rel = topLabelReliability(calibrated, 10);
  assert.equal(rel.bins.length, 10);
  assert.equal(rel.bins[0].count, 0, 'top-label confidence of 2 classes is never below 0.5');
});

test('reliability rejects confidences outside [0, 1]', () => {
  assert.throws(() => reliability([0.5, 1.5], [true, false]), /confidence\[1\] = 1.5/);
});
