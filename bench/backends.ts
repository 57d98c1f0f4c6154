// ResNet-50 (224x224, batch 8): inference and one Adam training step on each available TensorFlow.js backend, and
// the references in the same run: Keras on TensorFlow CPU with oneDNN off and on (each in its own process: oneDNN
// may crash on this CPU, and then the row says so), and PyTorch CPU (train mode, and with batch norm frozen as ours
// runs; OpenMP threads spinning and waiting passively). Ours is what `cxr predict` and `cxr train` run on the native backend: the graph session
// (lib/graph/inference.ts) and the training step as one TensorFlow graph (lib/graph/train-step.ts), with oneDNN as
// the per-machine decision says (lib/backend/onednn.ts). TF.js's eager predict and trainOnBatch are printed too.
// Keras also runs with TensorFlow's BFC allocator, as ours does by default (lib/backend.ts), so that neither side
// wins by its allocator alone. The last two lines: `inference ratio <ours / best reference>` and `ratio <ours training / best reference training>`.
//   npm run bench:backends [-- --iters N] [--backends tensorflow,wasm,cpu]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyOneDnnDecision } from '../lib/backend/onednn';
import { PROJECT_ROOT, projectPython } from '../lib/paths';
import type * as TF from '@tensorflow/tfjs';
import type { BackendChoice } from '../lib/backend';

const BATCH = 8;
const args = process.argv.slice(2);
const iters = Number(args[args.indexOf('--iters') + 1]) || 5;
const backends = (args.includes('--backends') ? args[args.indexOf('--backends') + 1] : 'tensorflow,wasm,cpu').split(',') as BackendChoice[];

interface Rates {
  backend: string;
  inference?: number;
  /** Inference as a TensorFlow graph session (compileInference; the tensorflow backend only). */
  graphInference?: number;
  training?: number;
  /** A training step as one TensorFlow graph (compileTrainingStep; the tensorflow backend only). */
  graphTraining?: number;
  note?: string;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One backend, in this process (started as a worker so each backend gets a fresh process and memory). */
async function worker(name: BackendChoice): Promise<Rates> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../lib/backend');
  const { resnet50 } = await import('../lib/models/resnet');
  const { compileInference } = await import('../lib/graph/inference');
  const { compileTrainingStep } = await import('../lib/train/step');
  await initBackend({ backend: name, quiet: true });
  // Pure JS needs ~10 s per image: one small batch of inference is all it can give in a benchmark.
  const batch = name === 'cpu' ? 1 : BATCH;
  const base = resnet50.build({ inputSize: 224, pooling: 'avg' });
  const out = tf.layers.dense({ units: 1000, activation: 'softmax' }).apply(base.outputs[0]) as TF.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 1000, 'int32', 2) as TF.Tensor1D, 1000);
  // The median step, as the Python references measure theirs: this VM's neighbours slow single steps by 30 % and more.
  const rate = async (step: () => Promise<void>, n: number, imgs = batch) => {
    await step(); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await step();
      ms.push(performance.now() - t0);
    }
    return imgs / (median(ms) / 1000);
  };
  const inference = await rate(async () => {
    const p = model.predict(x) as TF.Tensor;
    await p.data();
    p.dispose();
  }, name === 'cpu' ? 1 : iters);
  if (name === 'cpu') return { backend: name, inference, note: 'batch 1; training skipped (too slow)' };
  let graphInference: number | undefined;
  if (name === 'tensorflow') {
    const compiled = compileInference(model);
    graphInference = await rate(async () => {
      const p = compiled.predict(x) as TF.Tensor;
      await p.data();
      p.dispose();
    }, iters);
    compiled.dispose();
  }
  // Training ResNet-50 at batch 8 needs more than wasm's 4 GiB heap (batch 4 peaks at ~2.6 GiB).
  const trainBatch = name === 'wasm' ? 2 : batch;
  const tx = x.slice(0, trainBatch);
  const ty = y.slice(0, trainBatch);
  const training = await rate(async () => {
    await model.trainOnBatch(tx, ty);
  }, name === 'wasm' ? 1 : iters, trainBatch);
  let graphTraining: number | undefined;
  if (name === 'tensorflow') {
    const steps = compileTrainingStep(model, {
      vars: model.trainableWeights.map((w) => w.read() as TF.Variable),
      optimizer: tf.train.adam(1e-3),
      loss: 'categoricalCrossentropy',
      lossFn: (t, p) => tf.mean(tf.metrics.categoricalCrossentropy(t, p)) as TF.Scalar,
    });
    if (steps.engine !== 'tensorflow-graph') throw new Error(`graph training unavailable: ${steps.reason}`);
    graphTraining = await rate(async () => {
      const r = await steps.step([tx], ty, 0);
      r.output.dispose();
    }, iters, trainBatch);
    steps.dispose();
  }
  return { backend: name, inference, graphInference, training, graphTraining, note: trainBatch !== batch ? `training at batch ${trainBatch}: batch ${batch} exceeds the wasm 4 GiB heap` : undefined };
}

function runWorker(name: BackendChoice): Rates {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--worker', name], {
    cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' }, maxBuffer: 1 << 24,
  });
  if (r.signal) return { backend: name, note: `crashed (${r.signal})` };
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { backend: name, note: `failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  return JSON.parse(line) as Rates;
}

/** A reference's rates, or why there are none. */
interface Reference {
  name: string;
  inference?: number;
  training?: number;
  note?: string;
}

/** Runs a Python reference script of bench/ with `env` added; its last stdout line is JSON. */
function python(script: string, env: NodeJS.ProcessEnv): { json?: Record<string, unknown>; note?: string } {
  const py = projectPython();
  if (!fs.existsSync(py)) return { note: `no ${py} (npm run setup)` };
  const r = spawnSync(py, [path.join(PROJECT_ROOT, 'bench', script), String(BATCH), String(iters), String(iters)], {
    encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...env }, maxBuffer: 1 << 24,
  });
  if (r.signal) return { note: `crashed (${r.signal})` };
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { note: `failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  return { json: JSON.parse(line) as Record<string, unknown> };
}

/** Keras with oneDNN on or off; `bfc`: with TensorFlow's pooling CPU allocator, which ours runs with by default. */
function keras(oneDnn: boolean, bfc = false): Reference {
  const name = `keras, oneDNN ${oneDnn ? 'on' : 'off'}${bfc ? ', BFC allocator' : ''}`;
  const { json: k, note } = python('backends_keras.py', { TF_ENABLE_ONEDNN_OPTS: oneDnn ? '1' : '0', TF_CPU_ALLOCATOR_USE_BFC: bfc ? 'true' : 'false' });
  if (!k) return { name, note };
  return { name: `${name} (TF ${k.tensorflow})`, inference: k.inference as number, training: k.training as number, note: `threads intra ${k.intra_op_threads}, inter ${k.inter_op_threads} (0 = all cores)` };
}

/**
 * PyTorch with OpenMP's default (spinning) wait and with passive waiting: on a shared 2-core machine the spinning
 * threads lose several-fold to other load, so both run and the best counts.
 */
function torch(): Reference[] {
  const policies = process.env.OMP_WAIT_POLICY ? [process.env.OMP_WAIT_POLICY] : [undefined, 'passive'];
  return policies.flatMap((policy) => {
    const name = `pytorch${policy ? `, OMP_WAIT_POLICY=${policy}` : ''}`;
    const { json: t, note } = python('backends_torch.py', policy ? { OMP_WAIT_POLICY: policy } : {});
    if (!t) return [{ name, note }];
    return [
      { name: `${name}, train mode`, inference: t.inference as number, training: t.training as number, note: `torch ${t.torch}, ${t.threads} threads, mkldnn ${t.mkldnn ? 'on' : 'off'}` },
      { name: `${name}, frozen BN`, training: t.training_frozen_bn as number, note: 'batch norm on moving statistics, as ours and Keras' },
    ];
  });
}

const fmt = (v?: number) => (v === undefined ? '-' : v.toFixed(2));
const row = (name: string, inference?: number, training?: number, note?: string) =>
  console.log(`${name.padEnd(46)} inference ${fmt(inference).padStart(7)}  training ${fmt(training).padStart(7)}${note ? `  (${note})` : ''}`);

/** The reference with the highest rate of `kind`. */
function best(refs: Reference[], kind: 'inference' | 'training'): Reference | undefined {
  return refs.filter((r) => r[kind] !== undefined).sort((a, b) => b[kind]! - a[kind]!)[0];
}

async function main(): Promise<void> {
  const w = args.indexOf('--worker');
  if (w >= 0) {
    console.log(JSON.stringify(await worker(args[w + 1] as BackendChoice)));
    return;
  }
  // Decided (and probed, once per machine) here, so that every worker loads TensorFlow the same way.
  const oneDnn = applyOneDnnDecision();
  console.log(`ResNet-50 224x224, batch ${BATCH}, img/s of the median of ${iters} timed steps after one warm-up`);
  console.log(`ours: oneDNN ${oneDnn.enabled ? 'on' : 'off'} (${oneDnn.reason}); TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? '(default)'} TF_NUM_INTEROP_THREADS=${process.env.TF_NUM_INTEROP_THREADS ?? '(default)'}`);
  const rows: Rates[] = [];
  for (const name of backends) {
    const r = runWorker(name);
    rows.push(r);
    row(`${r.backend} (TF.js eager)`, r.inference, r.training, r.note);
    if (r.graphInference !== undefined || r.graphTraining !== undefined) row(`${r.backend} graph (what cxr runs)`, r.graphInference, r.graphTraining);
  }
  const refs = [keras(false), keras(false, true), keras(true), ...torch()];
  for (const r of refs) row(r.name, r.inference, r.training, r.note);
  const native = rows.find((r) => r.backend === 'tensorflow');
  const [bi, bt] = [best(refs, 'inference'), best(refs, 'training')];
  console.log(`best reference: inference ${bi ? `${bi.name} ${fmt(bi.inference)}` : '-'}; training ${bt ? `${bt.name} ${fmt(bt.training)}` : '-'}`);
  const ratio = (ours?: number, ref?: number) => (ours && ref ? ours / ref : NaN).toFixed(3);
  console.log(`inference ratio ${ratio(native?.graphInference, bi?.inference)}`);
  console.log(`ratio ${ratio(native?.graphTraining, bt?.training)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
