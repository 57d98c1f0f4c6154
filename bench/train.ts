// Phase 1 (frozen backbone, head only, no augmentation) for 50 epochs on the same images, two ways in the
// same run: with the feature cache (backbone run once per image, the head trained on stored features) and
// recomputing the frozen backbone every epoch from the image files, as the study's Keras code does
// (images read, decoded and enhanced each epoch, then the whole network run). Prints both wall times;
// the last line is `ratio <recompute seconds / cache seconds>`.
//   npm run bench:train [-- --images 48 --size 128 --epochs 50 --model resnet50]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { scanDataset } from '../lib/data/scan';
import { splitDataset } from '../lib/data/split';
import { defaultDataDir } from '../lib/paths';
import { compileInference, type InferenceModel } from '../lib/graph/inference';
import { weightsAvailable } from '../lib/models/registry';
import { registryBackbone } from '../lib/train/backbone-source';
import { makeRunConfig, type PhaseConfig } from '../lib/train/config';
import { FeatureStore } from '../lib/train/feature-cache';
import { cutModel, setTrainableLayers, trainableVariables } from '../lib/models/cut';
import { HEAD_POOL_LAYER } from '../lib/train/head';
import { ImagePool } from '../lib/data/input/image-pool';
import { cachedBatches, ensureFeatures, streamBatches, type Example, type ImageSettings } from '../lib/train/phase-data';
import { Rng } from '../lib/random';
import { buildRunModel, limitSamples } from '../lib/train/run';
import { taskSpec } from '../lib/train/tasks';
import { initialPhaseState, trainPhase } from '../lib/train/trainer';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : def);
const IMAGES = Number(arg('images', '48'));
const SIZE = Number(arg('size', '128'));
const EPOCHS = Number(arg('epochs', '50'));
const MODEL = arg('model', 'resnet50');

async function main() {
  const backend = await initBackend({ quiet: true });
  const source = registryBackbone(MODEL);
  const weights = weightsAvailable(MODEL) ? 'imagenet' : 'none';
  const phase: PhaseConfig = {
    epochs: EPOCHS, learningRate: 1e-3, batchSize: 16, trainAfter: HEAD_POOL_LAYER, frozen: 'cache', views: 0, augment: false,
    earlyStopping: null, reduceLr: null,
  };
  const config = makeRunConfig({
    model: MODEL, task: 'multiclass', profile: 'quick', data: [defaultDataDir()], recipe: 'study', weights, inputSize: SIZE, seed: 42,
    preprocess: source.preprocess, defaultInputSize: source.defaultInputSize, phases: [phase], limit: IMAGES,
  });
  const dataset = await scanDataset(config.data[0]);
  const split = splitDataset(limitSamples(dataset.samples, IMAGES, 42), { seed: 42, fractions: { train: 0.8, val: 0.2, test: 0 } });
  const task = taskSpec('multiclass');
  const toExamples = (s: typeof split.train): Example[] => s.map((sample) => ({ sample, target: task.target(sample.label) }));
  const train = toExamples(split.train);
  const val = toExamples(split.val);
  const images: ImageSettings = { inputSize: SIZE, fit: 'stretch', enhance: config.enhance, preprocess: source.preprocess };
  const model = await buildRunModel(config, source);
  const cut = cutModel(model, HEAD_POOL_LAYER);
  setTrainableLayers(model, cut.suffixLayers);
  const initial = model.getWeights().map((w) => w.clone());
  const pool = new ImagePool(config.workers);
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-bench-features-'));
  console.log(`bench:train — ${MODEL} (${weights} weights) at ${SIZE}px, ${train.length} train + ${val.length} val images, ${EPOCHS} epochs of phase 1, backend ${backend.name}, ${os.cpus().length} CPUs`);

  let prefix: InferenceModel | undefined;
  const run = async (mode: 'cache' | 'recompute'): Promise<number> => {
    model.setWeights(initial);
    const optimizer = tf.train.adam(phase.learningRate);
    const vars = trainableVariables(cut.suffixLayers);
    const started = Date.now();
    let batches: (examples: Example[], epoch: number | null) => AsyncIterable<unknown> | Iterable<unknown>;
    if (mode === 'cache') {
      const store = new FeatureStore({ model: MODEL, weightsId: weights, inputSize: SIZE, fit: 'stretch', preprocess: source.preprocess, enhance: 'bench', cut: HEAD_POOL_LAYER }, cut.boundary, cacheRoot);
      await ensureFeatures([{ store, prefix: cut.prefix!, examples: [...train, ...val], views: null, augment: config.augment, jitter: null, viewSeed: 42 }], model.inputs, pool, images, { batchSize: 16, quiet: true });
      batches = (ex, epoch) => { const o = epoch === null ? ex : new Rng(42, 'shuffle', 0, epoch).shuffle([...ex]); return cachedBatches(o, o.map(() => null), store, phase.batchSize); };
    } else {
      // The frozen backbone as the trainer streams it: compiled once (a TensorFlow graph on the native backend).
      prefix ??= compileInference(cut.prefix!);
      const frozen = prefix;
      batches = (ex, epoch) => { const o = epoch === null ? ex : new Rng(42, 'shuffle', 0, epoch).shuffle([...ex]); return streamBatches(o, o.map(() => null), frozen, pool, images, phase.batchSize); };
    }
    const toAsync = async function* <T>(it: AsyncIterable<T> | Iterable<T>) { for await (const x of it) yield x; };
    await trainPhase(
      {
        index: 0, config: phase, cut, task, seed: 42, optimizer, vars, best: { values: null }, firstEpoch: 1,
        trainBatchCount: Math.ceil(train.length / phase.batchSize),
        trainBatches: (e) => toAsync(batches(train, e)) as never,
        valBatches: () => toAsync(batches(val, null)) as never,
        epochEnd: async (_s, row) => { if (row.epoch % 10 === 0) process.stderr.write(`  ${mode}: epoch ${row.epoch} val_acc ${row.val_accuracy.toFixed(3)} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`); },
        lastCheckpoint: () => null,
        quiet: true,
      },
      initialPhaseState(phase),
    );
    optimizer.dispose();
    return (Date.now() - started) / 1000;
  };
  try {
    // One-time costs (worker threads compiling TypeScript, TensorFlow's first kernels) are paid here, not
    // by whichever mode runs first.
    for await (const b of streamBatches(train.slice(0, 16), train.slice(0, 16).map(() => null), cut.prefix, pool, images, 16)) {
      tf.dispose([...b.inputs, b.y]);
    }
    const cache = await run('cache');
    console.log(`cache:     ${cache.toFixed(1)} s (features once, then ${EPOCHS} epochs on stored features)`);
    const recompute = await run('recompute');
    console.log(`recompute: ${recompute.toFixed(1)} s (decode, enhance and run the frozen backbone every epoch)`);
    console.log(`ratio ${(recompute / cache).toFixed(2)}`);
  } finally {
    prefix?.dispose();
    await pool.close();
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
