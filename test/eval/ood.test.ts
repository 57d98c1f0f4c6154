import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fitFeatureGaussian, fitOodGate, invertSpd, isOutOfDistribution, ledoitWolf, mahalanobis2, quantile } from '../../lib/eval/ood';
import { projectPython } from '../../lib/paths';
import { mulberry32 } from '../../lib/random';

/** n correlated Gaussian-ish vectors of `dim` values (a shared factor plus noise), seeded. */
function rows(n: number, dim: number, seed: number, shift = 0): Float32Array[] {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, () => {
    const f = normal();
    return Float32Array.from({ length: dim }, (_, j) => shift + f * (j % 3 === 0 ? 1 : 0.2) + normal() * (0.5 + j / dim));
  });
}

test('Ledoit–Wolf shrinkage and covariance equal scikit-learn', () => {
  const python = projectPython();
  assert.ok(fs.existsSync(python), `${python} is missing: run npm run setup (scikit-learn is the reference)`);
  for (const [n, dim] of [[40, 6], [12, 30]]) {
    const x = rows(n, dim, n + dim);
    const script = 'import json,sys,numpy as np\nfrom sklearn.covariance import ledoit_wolf\nX=np.array(json.load(sys.stdin))\nc,s=ledoit_wolf(X)\nprint(json.dumps({"cov":c.ravel().tolist(),"s":float(s)}))';
    const r = spawnSync(python, ['-c', script], { input: JSON.stringify(x.map((v) => Array.from(v))), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as { cov: number[]; s: number };
    const lw = ledoitWolf(x);
    assert.ok(Math.abs(lw.shrinkage - ref.s) < 1e-9, `shrinkage ${lw.shrinkage} vs ${ref.s}`);
    ref.cov.forEach((v, i) => assert.ok(Math.abs(lw.covariance[i] - v) < 1e-9 * (1 + Math.abs(v)), `cov[${i}] ${lw.covariance[i]} vs ${v}`));
  }
});

test('invertSpd gives the inverse; a matrix that is not positive definite is refused', () => {
  const { covariance, dim } = ledoitWolf(rows(50, 8, 3));
  const inv = invertSpd(covariance, dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += covariance[i * dim + k] * inv[k * dim + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9, `(A·A⁻¹)[${i},${j}] = ${s}`);
    }
  }
  assert.throws(() => invertSpd(Float64Array.from([1, 2, 2, 1]), 2), /not positive definite/);
});

test('Mahalanobis distance: identity covariance gives the squared Euclidean distance; wrong length refused', () => {
  const g = { dim: 3, mean: Float64Array.from([1, 2, 3]), precision: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  assert.equal(mahalanobis2(g, [2, 2, 5]), 5);
  assert.throws(() => mahalanobis2(g, [1, 2]), /2 features, the gate has 3/);
});

test('quantile interpolates like numpy', () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([5], 0.99), 5);
  assert.ok(Math.abs(quantile([0, 10, 20, 30, 40], 0.99) - 39.6) < 1e-12);
  assert.throws(() => quantile([], 0.5), /no values/);
});

test('the gate passes held-out in-distribution vectors and refuses shifted ones', () => {
  const dim = 16;
  const gate = fitOodGate(rows(400, dim, 1), rows(200, dim, 2), 0.99);
  assert.ok(gate.shrinkage >= 0 && gate.shrinkage <= 1);
  const test = rows(300, dim, 3);
  const refused = test.filter((v) => isOutOfDistribution(gate, v)).length / test.length;
  assert.ok(refused < 0.05, `false refusals ${refused}`);
  const far = rows(100, dim, 4, 5);
  assert.ok(far.every((v) => isOutOfDistribution(gate, v)), 'every shifted vector refused');
  // The threshold is the margin times the val quantile: with margin 1, exactly the quantile.
  const tight = fitOodGate(rows(400, dim, 1), rows(200, dim, 2), 0.99, 1);
  assert.equal(gate.margin, 2);
  assert.ok(Math.abs(gate.threshold - 2 * tight.threshold) < 1e-9 * gate.threshold);
  assert.ok(Math.abs(tight.threshold - quantile(rows(200, dim, 2).map((v) => mahalanobis2(tight, v)), 0.99)) < 1e-9 * tight.threshold);
  assert.throws(() => fitOodGate(rows(400, dim, 1), rows(200, dim, 2), 0.99, 0.5), /margin must be at least 1/);
  // Fewer vectors than dimensions: shrinkage keeps the covariance invertible.
  const few = fitFeatureGaussian(rows(10, 40, 5));
  assert.ok(few.shrinkage > 0 && Number.isFinite(mahalanobis2(few, rows(1, 40, 6)[0])));
});
