// ResNet-50 (224x224, batch 8): inference and one Adam training step on each available TensorFlow.js backend,
// and Keras ResNet50(weights=None) on TensorFlow CPU in the same run. Prints img/s for each; the last line is
// `ratio <tfjs-node training img/s / Keras training img/s>`, where tfjs-node training is what `cxr train` runs on
// that backend: the training step as one TensorFlow graph (lib/graph/train-step.ts). TF.js's eager
// trainOnBatch is printed too.
//   npm run bench:backends [-- --iters N] [--backends tensorflow,wasm,cpu]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT, projectPython } from '../lib/paths';
import type * as TF from '@tensorflow/tfjs';
import type { BackendChoice } from '../lib/backend';

const BATCH = 8;
const args = process.argv.slice(2);
const iters = Number(args[args.indexOf('--iters') + 1]) || 3;
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
  const rate = async (step: () => Promise<void>, n: number, imgs = batch) => {
    await step(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await step();
    return (imgs * n) / ((performance.now() - t0) / 1000);
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
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { backend: name, note: `failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  return JSON.parse(line) as Rates;
}

function keras(): Rates & { threads?: string } {
  const py = projectPython();
  if (!fs.existsSync(py)) return { backend: 'keras', note: `no ${py} (npm run setup)` };
  const r = spawnSync(py, [path.join(PROJECT_ROOT, 'bench', 'backends_keras.py'), String(BATCH), String(iters), String(iters)], {
    encoding: 'utf8', env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '0', TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { backend: 'keras', note: `failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  const k = JSON.parse(line);
  return { backend: `keras (TensorFlow ${k.tensorflow})`, inference: k.inference, training: k.training, threads: `intra ${k.intra_op_threads}, inter ${k.inter_op_threads} (0 = all cores)` };
}

async function main(): Promise<void> {
  const w = args.indexOf('--worker');
  if (w >= 0) {
    console.log(JSON.stringify(await worker(args[w + 1] as BackendChoice)));
    return;
  }
  const fmt = (v?: number) => (v === undefined ? '-' : v.toFixed(2));
  console.log(`ResNet-50 224x224, batch ${BATCH}, ${iters} timed iterations after one warm-up (img/s)`);
  console.log(`TF_ENABLE_ONEDNN_OPTS=${process.env.TF_ENABLE_ONEDNN_OPTS ?? '0'} TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? '(default)'} TF_NUM_INTEROP_THREADS=${process.env.TF_NUM_INTEROP_THREADS ?? '(default)'}`);
  const rows: Rates[] = [];
  for (const name of backends) {
    const r = runWorker(name);
    rows.push(r);
    console.log(`${r.backend.padEnd(28)} inference ${fmt(r.inference).padStart(7)}  training ${fmt(r.training).padStart(7)}${r.note ? `  (${r.note})` : ''}`);
  }
  const k = keras();
  console.log(`${k.backend.padEnd(28)} inference ${fmt(k.inference).padStart(7)}  training ${fmt(k.training).padStart(7)}${k.note ? `  (${k.note})` : ''}${k.threads ? `  threads ${k.threads}` : ''}`);
  const native = rows.find((r) => r.backend === 'tensorflow');
  if (native?.inference && k.inference) console.log(`inference ratio tfjs-node/keras ${(native.inference / k.inference).toFixed(3)} (eager predict)`);
  if (native?.graphInference && k.inference) {
    console.log(`inference ratio tfjs-node/keras ${(native.graphInference / k.inference).toFixed(3)} (graph session, ${native.graphInference.toFixed(2)} img/s: what cxr uses for inference)`);
  }
  if (native?.training && k.training) console.log(`training ratio tfjs-node/keras ${(native.training / k.training).toFixed(3)} (TF.js eager trainOnBatch)`);
  if (native?.graphTraining) console.log(`tensorflow graph training step     ${fmt(native.graphTraining).padStart(7)} img/s (what cxr train runs on this backend)`);
  const ratio = native?.graphTraining && k.training ? native.graphTraining / k.training : NaN;
  console.log(`ratio ${ratio.toFixed(3)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
