/**
 * Keras parity fixtures for backbone tests (shared by every backbone's test): generated on demand by
 * scripts/keras_parity.py into cacheDir('parity', ...), never committed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PROJECT_ROOT, cacheDir, projectPython } from '../../lib/paths';
import assert from 'node:assert/strict';
import { weightedLayers } from '../../lib/models/assign-weights';
import { compileInference } from '../../lib/graph/inference';
import { loadKerasH5Weights } from '../../lib/models/h5-weights';
import { preprocessInput } from '../../lib/models/preprocess';
import type { BackboneName, Pooling, PreprocessMode } from '../../lib/models/types';

export interface ParityRequest {
  size: number;
  batch?: number;
  pooling?: Pooling;
  /** Intermediate layers whose outputs Keras also records. */
  layers?: string[];
  seed?: number;
}

export interface ParityMeta {
  model: BackboneName;
  size: number;
  batch: number;
  pooling: Pooling;
  seed: number;
  keras: string;
  params: number;
  weights: { layer: string; shapes: number[][] }[];
  outputs: { name: string; file: string; shape: number[] }[];
}

export interface ParityFixture {
  dir: string;
  meta: ParityMeta;
  /** Keras weights, legacy HDF5 layout. */
  weightsFile: string;
  /** Raw RGB 0..255 images, NHWC. */
  input: tf.Tensor4D;
  /** Keras `preprocess_input(input)`. */
  preprocessed: Float32Array;
  /** Pooled model output first, then each requested layer. */
  outputs: { name: string; shape: number[]; values: Float32Array }[];
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * The fixture for `model` and `req`, generated with Keras the first time (about 15 s plus model time).
 * Throws when the project's Python (.venv, `npm run setup`) is missing: parity cannot be claimed without it.
 */
export function ensureParityFixture(model: BackboneName, req: ParityRequest): ParityFixture {
  const batch = req.batch ?? 2;
  const pooling = req.pooling ?? 'avg';
  const seed = req.seed ?? 0;
  const layers = req.layers ?? [];
  const script = path.join(PROJECT_ROOT, 'scripts', 'keras_parity.py');
  const key = createHash('sha1')
    .update(JSON.stringify({ batch, pooling, seed, layers, script: fs.readFileSync(script, 'utf8') }))
    .digest('hex')
    .slice(0, 10);
  const dir = cacheDir('parity', model, `${req.size}px-${key}`);
  if (!fs.existsSync(path.join(dir, 'meta.json'))) {
    const python = projectPython();
    if (!fs.existsSync(python)) {
      throw new Error(`Keras parity needs the project Python (${python}); run \`npm run setup\``);
    }
    const args = [script, '--model', model, '--size', String(req.size), '--out', dir, '--batch', String(batch),
      '--pooling', pooling, '--seed', String(seed), '--layers', layers.join(',')];
    const r = spawnSync(python, args, {
      encoding: 'utf8',
      env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: '0', TF_CPP_MIN_LOG_LEVEL: '2' },
      timeout: 15 * 60_000,
    });
    if (r.status !== 0) throw new Error(`keras_parity.py ${model} failed (exit ${r.status}):\n${r.stderr?.slice(-3000)}`);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as ParityMeta;
  return {
    dir,
    meta,
    weightsFile: path.join(dir, 'weights.h5'),
    input: tf.tensor4d(readF32(path.join(dir, 'input.bin')), [meta.batch, meta.size, meta.size, 3]),
    preprocessed: readF32(path.join(dir, 'preprocessed.bin')),
    outputs: meta.outputs.map((o) => ({ name: o.name, shape: o.shape, values: readF32(path.join(dir, o.file)) })),
  };
}

/** max |ours - ref| / max |ref| — the parity criterion (1e-4). */
export function relativeDiff(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) throw new Error(`length ${ours.length} vs ${ref.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/**
 * Runs `model` once and returns its output and the named layers' outputs (same order as the fixture),
 * with TF.js's predict or (`graph`) as a TensorFlow graph session via compileInference.
 */
export function runWithIntermediates(
  model: tf.LayersModel, layers: string[], x: tf.Tensor, engine: 'tfjs' | 'graph' = 'tfjs',
): { shape: number[]; values: Float32Array }[] {
  const probe = tf.model({
    inputs: model.inputs,
    outputs: [model.outputs[0], ...layers.map((n) => model.getLayer(n).output as tf.SymbolicTensor)],
  });
  const inference = engine === 'graph' ? compileInference(probe) : null;
  try {
    if (inference) assert.equal(inference.engine, 'tensorflow-graph', `graph inference unavailable: ${inference.reason}`);
    const ys = (inference ?? probe).predict(x) as tf.Tensor[];
    const out = ys.map((y) => ({ shape: y.shape, values: y.dataSync() as Float32Array }));
    tf.dispose(ys);
    return out;
  } finally {
    inference?.dispose();
  }
}

/**
 * TF.js backends this machine can run: always 'cpu'; 'wasm' and 'tensorflow' (tfjs-node) when their
 * packages load. Parity is required on each.
 */
export async function availableBackends(): Promise<string[]> {
  const names = ['cpu'];
  try {
    require('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) names.push('wasm');
  } catch {
    // not installed or no WebAssembly: not available
  }
  try {
    require('@tensorflow/tfjs-node');
    if (await tf.setBackend('tensorflow')) names.push('tensorflow');
  } catch {
    // tfjs-node is optional
  }
  await tf.setBackend('cpu');
  return names;
}

/** Switches to the fastest available backend (tfjs-node, then wasm, then cpu) and returns its name. */
export async function useFastestBackend(): Promise<string> {
  const names = await availableBackends();
  const best = ['tensorflow', 'wasm', 'cpu'].find((b) => names.includes(b))!;
  await tf.setBackend(best);
  return best;
}

/**
 * The parity assertions every backbone test makes: Keras's parameter count, the same weighted layers
 * with the same shapes in the same order, then (after loading Keras's .h5) preprocess_input and every
 * requested output within `tolerance` relative on each backend. `extra` adds per-backend checks.
 */
export async function assertKerasParity(
  model: tf.LayersModel,
  fx: ParityFixture,
  opts: {
    layers: string[];
    mode: PreprocessMode;
    backends?: string[];
    tolerance?: number;
    extra?: (backend: string, x: tf.Tensor, got: { shape: number[]; values: Float32Array }[]) => void;
  },
): Promise<void> {
  const tolerance = opts.tolerance ?? 1e-4;
  assert.equal(model.countParams(), fx.meta.params, 'parameter count');
  const ours = weightedLayers(model).map((l) => ({ layer: l.name, shapes: l.weights.map((w) => w.shape) }));
  assert.deepEqual(ours, fx.meta.weights, 'weighted layers: names, order and shapes');
  await loadKerasH5Weights(model, fx.weightsFile);
  for (const backend of opts.backends ?? (await availableBackends())) {
    await tf.setBackend(backend);
    const x = preprocessInput(fx.input, opts.mode);
    try {
      assert.ok(relativeDiff(x.dataSync(), fx.preprocessed) < 1e-6, `${backend}: preprocess_input`);
      const got = runWithIntermediates(model, opts.layers, x);
      opts.extra?.(backend, x, got);
      // On native TensorFlow the inference path (a graph session, BatchNorm folded) must agree with Keras too.
      const runs = backend === 'tensorflow' ? [[backend, got], ['tensorflow graph', runWithIntermediates(model, opts.layers, x, 'graph')]] as const : [[backend, got]] as const;
      for (const [label, outs] of runs) {
        fx.outputs.forEach((ref, i) => {
          assert.deepEqual(outs[i].shape, ref.shape, `${label}: ${ref.name} shape`);
          const d = relativeDiff(outs[i].values, ref.values);
          assert.ok(d < tolerance, `${label}: ${ref.name} relative diff ${d.toExponential(2)} >= ${tolerance}`);
        });
      }
    } finally {
      x.dispose();
    }
  }
}
