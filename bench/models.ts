/**
 * Inference speed of each backbone at its default input size, batch 8, on the active TF.js backend,
 * against Keras on TensorFlow CPU in the same run. Last line: `ratio <worst ours/Keras img/s>`.
 * Usage: node --import tsx bench/models.ts [--models a,b] [--runs N]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { compileInference, type InferenceEngine } from '../lib/graph/inference';
import { BACKBONE_NAMES, getBackbone } from '../lib/models/registry';
import { PROJECT_ROOT, projectPython } from '../lib/paths';

const BATCH = 8;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** Our inference path (compileInference, as feature extraction, evaluation and `cxr predict` use it). */
async function oursImgPerSec(name: string, runs: number): Promise<{ rate: number; engine: InferenceEngine }> {
  const spec = getBackbone(name);
  const size = spec.defaultInputSize;
  const model = spec.build();
  const inference = compileInference(model);
  const x = tf.randomUniform([BATCH, size, size, 3], -1, 1, 'float32', 0);
  const once = async () => {
    const y = inference.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  };
  await once(); // warm-up: kernels, weight upload
  const t = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const rate = (BATCH * runs) / ((performance.now() - t) / 1000);
  x.dispose();
  inference.dispose();
  model.dispose();
  return { rate, engine: inference.engine };
}

async function main(): Promise<void> {
  const names = arg('models', BACKBONE_NAMES.join(',')).split(',');
  const runs = Number(arg('runs', '3'));
  const info = await initBackend({ quiet: true });
  console.log(`backend ${info.name}, batch ${BATCH}, ${runs} timed runs after a warm-up`);
  const python = projectPython();
  if (!fs.existsSync(python)) throw new Error(`Keras reference needs ${python}: run \`npm run setup\``);
  // Ours and Keras alternate per backbone, so a change in machine load hits both sides alike.
  const ours: Record<string, number> = {};
  const engines: Record<string, InferenceEngine> = {};
  const keras: Record<string, number> = {};
  for (const name of names) {
    ({ rate: ours[name], engine: engines[name] } = await oursImgPerSec(name, runs));
    const r = spawnSync(python, [path.join(PROJECT_ROOT, 'bench', 'keras_models.py'), name, String(BATCH), String(runs)], {
      encoding: 'utf8',
      env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: info.oneDnn?.enabled ? '1' : '0', TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    if (r.status !== 0) throw new Error(`keras_models.py ${name} failed:\n${r.stderr.slice(-2000)}`);
    keras[name] = (JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>)[name];
  }

  let worst = Infinity;
  for (const name of names) {
    const ratio = ours[name] / keras[name];
    worst = Math.min(worst, ratio);
    console.log(`${name.padEnd(18)} ours ${ours[name].toFixed(2)} img/s (${engines[name]})  keras ${keras[name].toFixed(2)} img/s  ratio ${ratio.toFixed(3)}`);
  }
  console.log(`ratio ${worst.toFixed(3)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
