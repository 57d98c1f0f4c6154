import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { CxrError } from '../errors';
import { compileInference } from '../graph/inference';
import { writeJsonAtomic } from '../io/atomic';
import { progress } from '../io/progress';
import { cacheDir } from '../paths';
import { mulberry32 } from '../random';
import { augmentPair, DEFAULT_SEGMENT_AUGMENT, drawSegmentAugment, type SegmentAugment } from './augment';
import { loadExample, manifestDigest, readMaskManifest, splitByPatient, standardise, type MaskExample } from './data';
import { scoreSegmenter, type SegmentScores } from './evaluate';
import { predictProbabilities } from './infer';
import { dice } from './mask';
import { loadCheckpoint, saveCheckpoint, saveModel } from './store';
import { buildUnet, DEFAULT_UNET, type UnetSpec } from './unet';

/**
 * Trains the lung U-Net: patient-grouped split, augmented batches, Dice + BCE loss, Adam with a cosine
 * learning rate, a checkpoint after every epoch (a rerun resumes from it), and a training record with the
 * validation Dice and IoU at the images' own size.
 */

export interface SegmentSettings {
  unet: UnetSpec;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  valFraction: number;
  augment: SegmentAugment;
}

export const DEFAULT_SEGMENT_SETTINGS: Readonly<SegmentSettings> = Object.freeze({
  unet: DEFAULT_UNET,
  epochs: 30,
  batchSize: 8,
  learningRate: 2e-3,
  seed: 42,
  valFraction: 0.2,
  augment: DEFAULT_SEGMENT_AUGMENT,
});

/** What training leaves beside the model: enough to judge it and to reproduce it. */
export interface SegmentRecord {
  data: { dir: string; manifestSha256: string; images: number; patients: number };
  split: { seed: number; valFraction: number; trainImages: number; trainPatients: number; valImages: number; valPatients: number; valFiles: string[] };
  settings: SegmentSettings;
  parameters: number;
  backend: string;
  seconds: number;
  history: EpochLog[];
  val: Omit<SegmentScores, 'perImage'> & { perImage: SegmentScores['perImage'] };
}

export interface EpochLog {
  epoch: number;
  loss: number;
  /** Mean Dice on val at the network's size, before post-processing (a progress signal only). */
  valDiceSmall: number;
  seconds: number;
}

interface LoopState {
  key: string;
  epoch: number;
  history: EpochLog[];
  seconds: number;
}

/**
 * The cache folder of a segmenter: `<cache>/segment/<key>`, the key a digest of the settings and the mask
 * manifest, so different settings or data never share a model.
 */
export function segmenterKey(settings: SegmentSettings, manifestSha256: string): string {
  return crypto.createHash('sha256').update(JSON.stringify({ settings, manifestSha256 })).digest('hex').slice(0, 16);
}

export function segmenterCacheDir(key: string): string {
  return cacheDir('segment', key);
}

/** Dice + binary cross-entropy, each averaged over the batch (soft Dice with +1 smoothing). */
export function diceBceLoss(truth: tf.Tensor, prob: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const bce = tf.metrics.binaryCrossentropy(truth, prob).mean();
    const inter = truth.mul(prob).sum([1, 2, 3]);
    const total = truth.sum([1, 2, 3]).add(prob.sum([1, 2, 3]));
    const softDice = inter.mul(2).add(1).div(total.add(1));
    return bce.add(tf.scalar(1).sub(softDice).mean()) as tf.Scalar;
  });
}

function makeBatch(examples: readonly MaskExample[], size: number, random: () => number, augment: SegmentAugment): { x: tf.Tensor4D; y: tf.Tensor4D } {
  const pixels = size * size;
  const x = new Float32Array(examples.length * pixels);
  const y = new Float32Array(examples.length * pixels);
  examples.forEach((e, i) => {
    const a = augmentPair(e.small.grey, e.small.mask, size, drawSegmentAugment(random, augment));
    x.set(standardise(a.grey), i * pixels);
    y.set(a.mask, i * pixels);
  });
  return { x: tf.tensor4d(x, [examples.length, size, size, 1]), y: tf.tensor4d(y, [examples.length, size, size, 1]) };
}

async function smallValDice(model: tf.LayersModel, size: number, val: readonly MaskExample[]): Promise<number> {
  const probs = await predictProbabilities(model, val.map((e) => standardise(e.small.grey)), size);
  const scores = probs.map((p, i) => dice(Uint8Array.from(p, (v) => (v >= 0.5 ? 1 : 0)), Uint8Array.from(val[i].small.mask, (v) => (v >= 0.5 ? 1 : 0))));
  return scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
}

export interface TrainSegmenterOptions {
  /** The mask data folder (images/, masks/, manifest.csv). */
  dataDir: string;
  settings?: SegmentSettings;
  /** Where the model, checkpoint and record go; default the cache folder keyed by settings and data. */
  outDir?: string;
  quiet?: boolean;
  /** Stop after this many epochs of this call (tests of resuming); the checkpoint stays. */
  stopAfter?: number;
}

/**
 * Trains (or resumes) a segmenter and writes `model/`, `checkpoint/` and `record.json` into its folder.
 * @returns the folder and the training record (its `val` scored at the images' own sizes).
 * @throws CxrError when the data folder is missing, or a checkpoint belongs to other settings.
 * @example const { dir, record } = await trainSegmenter({ dataDir: defaultMaskDir() });
 */
export async function trainSegmenter(opts: TrainSegmenterOptions): Promise<{ dir: string; record: SegmentRecord | null }> {
  const backend = await initBackend({ quiet: opts.quiet });
  const settings = opts.settings ?? DEFAULT_SEGMENT_SETTINGS;
  const entries = readMaskManifest(opts.dataDir);
  const digest = manifestDigest(opts.dataDir);
  const key = segmenterKey(settings, digest);
  const dir = opts.outDir ?? segmenterCacheDir(key);
  const split = splitByPatient(entries, settings.valFraction, settings.seed);
  const size = settings.unet.size;
  const load = (list: typeof entries) => Promise.all(list.map((e) => loadExample(opts.dataDir, e, size)));
  const [train, val] = [await load(split.train), await load(split.val)];

  const model = buildUnet(settings.unet, settings.seed);
  const optimizer = tf.train.adam(settings.learningRate);
  let state: LoopState = { key, epoch: 0, history: [], seconds: 0 };
  const saved = loadCheckpoint<LoopState>(dir);
  if (saved) {
    if (saved.state.key !== key) throw new CxrError(`${dir}: its checkpoint was trained with other settings or data; remove the folder to start again`);
    model.setWeights(saved.weights.map((w) => w.tensor));
    await optimizer.setWeights(saved.optimizer);
    state = saved.state;
  }
  const batches = Math.ceil(train.length / settings.batchSize);
  const lastEpoch = Math.min(settings.epochs, state.epoch + (opts.stopAfter ?? Infinity));
  // The bar counts only this call's batches, so its rate and ETA stay right after a resume.
  const label = state.epoch > 0 ? `segment train (resumed after epoch ${state.epoch})` : 'segment train';
  const bar = progress({ label, total: (lastEpoch - state.epoch) * batches, unit: 'batch', silent: opts.quiet });
  while (state.epoch < lastEpoch) {
    const started = Date.now();
    const epoch = state.epoch + 1;
    // TF.js's Adam keeps its rate in a field it reads at every step; a cosine decay to 5 % settles the masks' outlines.
    (optimizer as unknown as { learningRate: number }).learningRate =
      settings.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / settings.epochs)));
    const random = mulberry32(settings.seed * 100_003 + epoch);
    const order = train.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      const { x, y } = makeBatch(order.slice(b * settings.batchSize, (b + 1) * settings.batchSize).map((i) => train[i]), size, random, settings.augment);
      const loss = optimizer.minimize(() => diceBceLoss(y, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar;
      lossSum += (await loss.data())[0];
      tf.dispose([x, y, loss]);
      bar.tick(1, `epoch ${epoch}/${settings.epochs} loss ${(lossSum / (b + 1)).toFixed(3)}`);
    }
    const valDiceSmall = val.length > 0 ? await smallValDice(model, size, val) : NaN;
    const seconds = (Date.now() - started) / 1000;
    state = { key, epoch, history: [...state.history, { epoch, loss: lossSum / batches, valDiceSmall, seconds }], seconds: state.seconds + seconds };
    await saveCheckpoint(dir, model, optimizer, state);
    bar.tick(0, `epoch ${epoch}/${settings.epochs} loss ${(lossSum / batches).toFixed(3)} val Dice ${valDiceSmall.toFixed(3)}`);
  }
  bar.done();
  if (state.epoch < settings.epochs) return { dir, record: null };

  await saveModel(dir, model);
  // Scored as `cxr segment` will run it: through the compiled graph.
  const inference = compileInference(model);
  const scores = await scoreSegmenter(inference, size, val);
  inference.dispose();
  const record: SegmentRecord = {
    data: { dir: opts.dataDir, manifestSha256: digest, images: entries.length, patients: new Set(entries.map((e) => e.patientId)).size },
    split: {
      seed: split.seed,
      valFraction: split.valFraction,
      trainImages: split.train.length,
      trainPatients: new Set(split.train.map((e) => e.patientId)).size,
      valImages: split.val.length,
      valPatients: new Set(split.val.map((e) => e.patientId)).size,
      valFiles: split.val.map((e) => e.image),
    },
    settings,
    parameters: model.countParams(),
    backend: backend.name,
    seconds: Math.round(state.seconds),
    history: state.history,
    val: scores,
  };
  writeJsonAtomic(path.join(dir, 'record.json'), record);
  model.dispose();
  optimizer.dispose();
  return { dir, record };
}
