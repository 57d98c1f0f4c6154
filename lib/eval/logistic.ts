/**
 * L2-regularised logistic regression fitted by damped Newton steps: deterministic, and exact enough to match
 * scikit-learn's `LogisticRegression` (same objective) to many digits on small feature sets.
 *
 * Objective: Σ_i −log p(y_i | x_i) + ‖W‖² / (2C), intercepts unpenalised. Two classes use one weight
 * vector (class 0's logit fixed at 0), more classes one per class (multinomial) — sklearn's conventions.
 */

/** A fitted model. */
export interface LogisticModel {
  nClasses: number;
  /** One row per modelled class: the class itself for the multinomial model, class 1 for the binary one. */
  weights: number[][];
  intercepts: number[];
  /** Newton iterations used, and whether the gradient fell below tolerance. */
  iterations: number;
  converged: boolean;
}

/** Options of {@link fitLogistic}. */
export interface LogisticOptions {
  /** Inverse regularisation strength, as sklearn's `C` (default 1). */
  C?: number;
  maxIterations?: number;
  /** Stop when the largest gradient component, per sample, is below this (default 1e-12). */
  tolerance?: number;
}

/** Class logits for one row (length nClasses). */
function logits(model: Pick<LogisticModel, 'nClasses' | 'weights' | 'intercepts'>, x: readonly number[]): number[] {
  const free = model.weights.map((w, k) => {
    let z = model.intercepts[k];
    for (let j = 0; j < x.length; j++) z += w[j] * x[j];
    return z;
  });
  return model.nClasses === 2 ? [0, free[0]] : free;
}

function softmaxInPlace(z: number[]): number[] {
  const max = Math.max(...z);
  let s = 0;
  for (let k = 0; k < z.length; k++) s += z[k] = Math.exp(z[k] - max);
  for (let k = 0; k < z.length; k++) z[k] /= s;
  return z;
}

/** Class probabilities for each row of `X`. */
export function predictLogistic(model: LogisticModel, X: readonly (readonly number[])[]): number[][] {
  return X.map((x) => softmaxInPlace(logits(model, x)));
}

/** Solves `A x = b` for symmetric positive definite `A` by Cholesky; null when `A` is not positive definite. */
function solveSpd(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const L = A.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i][i] = Math.sqrt(s);
      } else L[i][j] = s / L[j][j];
    }
  }
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i][k] * y[k];
    y[i] = s / L[i][i];
  }
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k][i] * x[k];
    x[i] = s / L[i][i];
  }
  return x;
}

/**
 * Gradient and Hessian of the objective at `theta` (rows of `stride` = d + 1 values per modelled class).
 * A separate function, so V8 optimises its hot loops independently of the optimiser around it.
 */
function derivatives(
  X: readonly (readonly number[])[],
  y: readonly number[],
  model: Pick<LogisticModel, 'nClasses' | 'weights' | 'intercepts'>,
  theta: readonly number[],
  offset: number,
  C: number,
): { grad: Float64Array; H: Float64Array[] } {
  const F = model.weights.length;
  const d = X[0].length;
  const stride = d + 1;
  const P = F * stride;
  const grad = new Float64Array(P);
  const H = Array.from({ length: P }, () => new Float64Array(P));
  const xt = new Float64Array(stride);
  for (let i = 0; i < X.length; i++) {
    const p = softmaxInPlace(logits(model, X[i]));
    for (let u = 0; u < d; u++) xt[u] = X[i][u];
    xt[d] = 1;
    for (let k = 0; k < F; k++) {
      const pk = p[k + offset];
      const r = pk - (y[i] === k + offset ? 1 : 0);
      for (let u = 0; u < stride; u++) grad[k * stride + u] += r * xt[u];
      for (let l = 0; l < F; l++) {
        const a = pk * ((k === l ? 1 : 0) - p[l + offset]);
        for (let u = 0; u < stride; u++) {
          const au = a * xt[u];
          const row = H[k * stride + u];
          const base = l * stride;
          for (let v = 0; v < stride; v++) row[base + v] += au * xt[v];
        }
      }
    }
  }
  for (let k = 0; k < F; k++) {
    for (let j = 0; j < d; j++) {
      grad[k * stride + j] += theta[k * stride + j] / C;
      H[k * stride + j][k * stride + j] += 1 / C;
    }
  }
  return { grad, H };
}

/** Fits the model to rows `X` (ideally standardised) with labels in `0..nClasses-1`. */
export function fitLogistic(
  X: readonly (readonly number[])[],
  y: readonly number[],
  nClasses: number,
  options: LogisticOptions = {},
): LogisticModel {
  const C = options.C ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-12;
  if (X.length === 0) throw new RangeError('logistic regression needs at least one row');
  if (X.length !== y.length) throw new RangeError(`${X.length} rows but ${y.length} labels`);
  if (!(nClasses >= 2)) throw new RangeError(`need at least 2 classes, got ${nClasses}`);
  if (!(C > 0)) throw new RangeError(`C must be > 0, got ${C}`);
  const d = X[0].length;
  for (let i = 0; i < X.length; i++) {
    if (X[i].length !== d) throw new RangeError(`row ${i} has ${X[i].length} features, expected ${d}`);
    if (!X[i].every(Number.isFinite)) throw new RangeError(`row ${i} has a non-finite feature`);
    if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= nClasses) throw new RangeError(`label ${i} = ${y[i]} out of range`);
  }
  const F = nClasses === 2 ? 1 : nClasses; // modelled classes
  const offset = nClasses === 2 ? 1 : 0; // class of modelled row k is k + offset
  const stride = d + 1; // weights then intercept
  const P = F * stride;

  const unpack = (theta: readonly number[]) => ({
    nClasses,
    weights: Array.from({ length: F }, (_, k) => theta.slice(k * stride, k * stride + d)),
    intercepts: Array.from({ length: F }, (_, k) => theta[k * stride + d]),
  });
  const objective = (theta: readonly number[]): number => {
    const m = unpack(theta);
    let f = 0;
    for (let i = 0; i < X.length; i++) {
      const z = logits(m, X[i]);
      const max = Math.max(...z);
      let s = 0;
      for (const v of z) s += Math.exp(v - max);
      f += max + Math.log(s) - z[y[i]];
    }
    for (const w of m.weights) for (const v of w) f += (v * v) / (2 * C);
    return f;
  };

  let theta = new Array<number>(P).fill(0);
  let f = objective(theta);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    const { grad, H } = derivatives(X, y, unpack(theta), theta, offset, C);
    const gradNorm = grad.reduce((a, g) => Math.max(a, Math.abs(g)), 0) / X.length;
    if (gradNorm < tolerance) {
      converged = true;
      break;
    }
    // Multinomial intercepts are only defined up to a common shift (a flat direction of the Hessian);
    // a small damping there, grown if needed, keeps the system positive definite.
    let step: number[] | null = null;
    for (let damping = 1e-10 * X.length; step === null; damping *= 100) {
      const Hd = H.map((row, a) => Array.from(row, (v, b) => (a === b ? v + damping : v)));
      step = solveSpd(Hd, Array.from(grad, (g) => -g));
    }
    const slope = step.reduce((s, v, a) => s + v * grad[a], 0);
    let t = 1;
    let next = theta;
    let fNext = f;
    for (let halvings = 0; halvings < 60; halvings++, t /= 2) {
      next = theta.map((v, a) => v + t * step![a]);
      fNext = objective(next);
      if (fNext <= f + 1e-4 * t * slope) break;
    }
    if (!(fNext < f)) {
      // No decrease left at machine precision: converged unless the gradient is still far from 0.
      converged = gradNorm < Math.sqrt(tolerance);
      break;
    }
    theta = next;
    f = fNext;
  }
  const model = unpack(theta);
  if (F > 1) {
    // Canonical form: intercepts summing to 0 (probabilities are unchanged by a common shift).
    const mean = model.intercepts.reduce((a, b) => a + b, 0) / F;
    model.intercepts = model.intercepts.map((b) => b - mean);
  }
  return { ...model, iterations, converged };
}
