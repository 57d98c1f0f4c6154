/** Test helpers for lib/eval: seeded synthetic predictions and scikit-learn's answers for them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mulberry32 } from '../../lib/random';
import { PROJECT_ROOT, projectPython } from '../../lib/paths';

/** Runs scripts/sklearn_reference.py on `spec` and returns its output ("inf"/"nan" strings turned into numbers). */
export function sklearnReference(spec: Record<string, unknown[]>): any {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-sklearn-'));
  try {
    const input = path.join(dir, 'in.json');
    const output = path.join(dir, 'out.json');
    fs.writeFileSync(input, JSON.stringify(spec));
    const python = projectPython();
    assert.ok(fs.existsSync(python), `${python} is missing: run npm run setup (scikit-learn is the reference)`);
    const r = spawnSync(python, [path.join(PROJECT_ROOT, 'scripts', 'sklearn_reference.py'), input, output], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `sklearn_reference.py failed: ${r.stderr}`);
    return JSON.parse(fs.readFileSync(output, 'utf8'), (_k, v) =>
      v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts two numbers (or nested arrays of numbers) agree within `tol` (NaN equals NaN). */
export function assertClose(actual: unknown, expected: unknown, tol: number, where = 'value'): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array, got ${String(actual)}`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((e, i) => assertClose(actual[i], e, tol, `${where}[${i}]`));
    return;
  }
  const a = actual as number;
  const e = expected as number;
  if (Number.isNaN(e)) return assert.ok(Number.isNaN(a), `${where}: expected NaN, got ${a}`);
  if (!Number.isFinite(e)) return assert.equal(a, e, where);
  assert.ok(Math.abs(a - e) <= tol, `${where}: ${a} vs ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
}

/** Seeded random integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** A seeded binary problem: scores rounded to 2 decimals (many ties), loosely related to the labels. */
export function binaryCase(seed: number, n: number): { labels: number[]; scores: number[] } {
  const random = mulberry32(seed);
  const labels = Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
  const scores = labels.map((l) => Math.round(Math.min(1, Math.max(0, 0.35 * l + 0.65 * random())) * 100) / 100);
  return { labels, scores };
}

/**
 * A seeded 3-class problem with probabilities k/10 (heavy ties) that sum to 1; class 2 never gets more than 0.2,
 * so it is never predicted, though it occurs in the labels.
 */
export function threeClassCase(seed: number, n: number): { labels: number[]; probs: number[][] } {
  const random = mulberry32(seed);
  const labels = Array.from({ length: n }, () => randomInt(random, 3));
  const probs = labels.map((l) => {
    const c2 = l === 2 ? 1 + randomInt(random, 2) : randomInt(random, 2);
    let c0 = randomInt(random, 11 - c2);
    if (l === 0 && random() < 0.6) c0 = Math.max(c0, Math.ceil((10 - c2) / 2) + 1);
    if (l === 1 && random() < 0.6) c0 = Math.min(c0, Math.floor((10 - c2) / 2) - 1);
    c0 = Math.max(0, Math.min(10 - c2, c0));
    return [c0 / 10, (10 - c2 - c0) / 10, c2 / 10];
  });
  return { labels, probs };
}
