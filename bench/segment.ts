/**
 * Lung segmentation speed: the default U-Net (lib/segment/unet.ts) forward pass, batch 16, as `cxr segment`
 * runs it (compileInference: a TensorFlow graph session on the native backend, TF.js predict elsewhere) against
 * the same network in Keras on TensorFlow CPU. Keras runs in a child process kept open; the two take turns in
 * short slices (a few batches each, ours first in odd slices and Keras first in even ones), so a machine whose
 * speed drifts, as shared cloud cores do by ±20 % from one second to the next, slows both alike. Then our whole
 * per-image path (resize, standardise, predict, resize back, components, holes) at 512×512 for scale.
 * Keras inherits this process's environment, so both run with the same oneDNN decision and CPU allocator.
 * Last line: `ratio <ours/Keras img/s>`, the median of the per-slice ratios; the mean rates and each side's
 * fastest slice (what the code does undisturbed: noise only ever adds time) are printed above it.
 * Usage: node --import tsx bench/segment.ts [--slices N] [--batches N]
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { compileInference } from '../lib/graph/inference';
import { PROJECT_ROOT, projectPython } from '../lib/paths';
import { segmentImages } from '../lib/segment/infer';
import { buildUnet, DEFAULT_UNET } from '../lib/segment/unet';

const BATCH = 16;
/** Batches each side runs before timing: a fresh TensorFlow session takes about 5 to reach its steady speed. */
const WARMUP = 10;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

/** A pause before each timed slice, so the other side's worker threads, which spin a while after their work, sleep again. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

/** The Keras U-Net in a child process: `run(n)` times n batches there. */
async function kerasReference(oneDnn: boolean): Promise<{ parameters: number; run(n: number): Promise<number>; close(): void }> {
  const python = projectPython();
  if (!fs.existsSync(python)) throw new Error(`Keras reference needs ${python}: run \`npm run setup\``);
  const { size, channels } = DEFAULT_UNET;
  const child = spawn(python, [path.join(PROJECT_ROOT, 'bench', 'segment_keras.py'), String(size), channels.join(','), String(BATCH), String(WARMUP)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: oneDnn ? '1' : '0', TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number>> => {
    const line = await lines.next();
    if (line.done) throw new Error(`segment_keras.py stopped (exit ${child.exitCode}):\n${stderr}`);
    return JSON.parse(line.value) as Record<string, number>;
  };
  const { ready } = await next();
  return {
    parameters: ready,
    run: async (n) => {
      await settle();
      child.stdin.write(`${n}\n`);
      return (await next()).seconds;
    },
    close: () => child.stdin.end('\n'),
  };
}

async function main(): Promise<void> {
  const slices = Number(arg('slices', '30'));
  const batches = Number(arg('batches', '2'));
  const info = await initBackend({ quiet: true });
  const { size, channels } = DEFAULT_UNET;
  const model = buildUnet(DEFAULT_UNET);
  const inference = compileInference(model);
  console.log(`backend ${info.name}, engine ${inference.engine}${inference.reason ? ` (${inference.reason})` : ''}`);
  console.log(`U-Net ${size}² ${channels.join('-')} (${model.countParams()} parameters), batch ${BATCH}, ${slices} slices of ${batches} batches each side`);
  const keras = await kerasReference(info.oneDnn?.enabled ?? false);
  if (keras.parameters !== model.countParams()) throw new Error(`Keras U-Net has ${keras.parameters} parameters, ours ${model.countParams()}`);
  const x = tf.randomNormal([BATCH, size, size, 1], 0, 1, 'float32', 0);
  const ours = async (n: number) => {
    await settle();
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      const y = inference.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    }
    return (performance.now() - t) / 1000;
  };
  await ours(WARMUP);
  const ratios: number[] = [];
  const total = { ours: 0, keras: 0 };
  const best = { ours: Infinity, keras: Infinity };
  try {
    for (let s = 0; s < slices; s++) {
      let o: number, k: number;
      if (s % 2 === 0) {
        o = await ours(batches);
        k = await keras.run(batches);
      } else {
        k = await keras.run(batches);
        o = await ours(batches);
      }
      total.ours += o;
      total.keras += k;
      best.ours = Math.min(best.ours, o);
      best.keras = Math.min(best.keras, k);
      ratios.push(k / o);
      process.stdout.write(`\rslice ${s + 1}/${slices}: ours ${((BATCH * batches) / o).toFixed(1)} img/s, keras ${((BATCH * batches) / k).toFixed(1)} img/s   `);
    }
  } finally {
    keras.close();
  }
  const n = BATCH * batches * slices;
  const rate = (seconds: number) => ((BATCH * batches) / seconds).toFixed(1);
  console.log(`\nmean: ours ${(n / total.ours).toFixed(1)} img/s (${inference.engine}), keras ${(n / total.keras).toFixed(1)} img/s`);
  console.log(`per-slice ratio: median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`);
  console.log(`fastest slice: ours ${rate(best.ours)} img/s, keras ${rate(best.keras)} img/s`);
  const image = { data: new Uint8Array(512 * 512).map((_, i) => (i * 7) % 251), width: 512, height: 512 };
  const images = Array.from({ length: BATCH }, () => image);
  await segmentImages(inference, size, images);
  const t = performance.now();
  await segmentImages(inference, size, images);
  console.log(`whole path at 512×512 (resize, predict, post-process): ${(BATCH / ((performance.now() - t) / 1000)).toFixed(1)} img/s`);
  x.dispose();
  inference.dispose();
  model.dispose();
  console.log(`ratio ${median(ratios).toFixed(3)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
