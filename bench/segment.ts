/**
 * Lung segmentation speed: the default U-Net (lib/segment/unet.ts) forward pass, batch 16, on the active TF.js
 * backend against the same network in Keras on TensorFlow CPU, in the same run, alternating rounds so a
 * change in machine load hits both alike; then our whole per-image path (resize, standardise, predict,
 * resize back, components, holes) at 512×512 for scale. Last line: `ratio <ours/Keras img/s>` (median round).
 * Usage: node --import tsx bench/segment.ts [--runs N] [--rounds N]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { PROJECT_ROOT, projectPython } from '../lib/paths';
import { segmentImages } from '../lib/segment/infer';
import { buildUnet, DEFAULT_UNET } from '../lib/segment/unet';

const BATCH = 16;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = Number(arg('runs', '5'));
  const rounds = Number(arg('rounds', '3'));
  const info = await initBackend({ quiet: true });
  const { size, channels } = DEFAULT_UNET;
  const model = buildUnet(DEFAULT_UNET);
  console.log(`backend ${info.name}, U-Net ${size}² ${channels.join('-')} (${model.countParams()} parameters), batch ${BATCH}, ${runs} timed runs per round`);
  const python = projectPython();
  if (!fs.existsSync(python)) throw new Error(`Keras reference needs ${python}: run \`npm run setup\``);
  const x = tf.randomNormal([BATCH, size, size, 1], 0, 1, 'float32', 0);
  const once = async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  };
  await once();
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (let i = 0; i < runs; i++) await once();
    const ours = (BATCH * runs) / ((performance.now() - t) / 1000);
    const k = spawnSync(python, [path.join(PROJECT_ROOT, 'bench', 'segment_keras.py'), String(size), channels.join(','), String(BATCH), String(runs)], {
      encoding: 'utf8',
      env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: info.oneDnn?.enabled ? '1' : '0', TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    if (k.status !== 0) throw new Error(`segment_keras.py failed:\n${k.stderr.slice(-2000)}`);
    const keras = (JSON.parse(k.stdout.trim().split('\n').pop()!) as { keras: number }).keras;
    ratios.push(ours / keras);
    console.log(`round ${r + 1}: ours ${ours.toFixed(1)} img/s (TF.js predict)  keras ${keras.toFixed(1)} img/s  ratio ${(ours / keras).toFixed(3)}`);
  }
  const image = { data: new Uint8Array(512 * 512).map((_, i) => (i * 7) % 251), width: 512, height: 512 };
  const images = Array.from({ length: BATCH }, () => image);
  await segmentImages(model, size, images);
  const t = performance.now();
  await segmentImages(model, size, images);
  console.log(`whole path at 512×512 (resize, predict, post-process): ${(BATCH / ((performance.now() - t) / 1000)).toFixed(1)} img/s`);
  x.dispose();
  model.dispose();
  console.log(`ratio ${median(ratios).toFixed(3)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
