import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend, type BackendInfo } from '../backend';
import { LABELS } from '../data/labels';
import { scanDataset } from '../data/scan';
import { readSplitCsv, splitDataset, splitToCsvRows, SPLIT_CSV_COLUMNS } from '../data/split';
import type { Dataset, Sample, Split } from '../data/types';
import { enhanceKey } from '../enhance/pipeline';
import { CxrError, InputFileError, UsageError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { readCsv, writeCsvAtomic } from '../io/csv';
import { compileInference } from '../graph/inference';
import { saveModel } from '../models/io';
import { PROJECT_ROOT } from '../paths';
import { adamInternals } from '../graph/adam-state';
import { registryBackbone, type BackboneSource } from './backbone-source';
import { loadLatestCheckpoint, saveCheckpoint, type TensorGroup } from './checkpoint';
import { validateRunConfig, type PhaseConfig, type RunConfig } from './config';
import { FeatureStore, type FeatureKey } from './feature-cache';
import { cutModel, keyedWeights, setTrainableLayers, trainableVariables, type ModelCut } from '../models/cut';
import { attachHead } from './head';
import { ImagePool } from '../data/input/image-pool';
import { cachedBatches, ensureFeatures, streamBatches, type Batch, type Example, type FeatureRequest, type ImageSettings } from './phase-data';
import { drawAugment } from '../data/input/augment';
import { Rng } from '../random';
import { predictedClass, taskLabel, taskSpec, type TaskSpec } from './tasks';
import { initialPhaseState, trainPhase, type HistoryRow, type PhaseState } from './trainer';

/** What `config.json` holds: the configuration and what actually ran. */
export interface RunRecord {
  format: 'cxr-run/1';
  id: string;
  config: RunConfig;
  runtime: {
    createdAt: string;
    versions: Record<string, string>;
    backend: Pick<BackendInfo, 'name' | 'tfBackend' | 'tfjsVersion' | 'runtimeVersion' | 'threads' | 'gpu'>;
    weightsId: string;
    /** Per phase: how the frozen part ran and where its features are cached. */
    phases: { trainAfter: string | null; frozen: string; views: number; augment: boolean; featureCache: string | null; trainableParams: number }[];
    /** Each resume, with the backend it ran on. */
    resumes: { at: string; backend: string; fromCheckpoint: string | null }[];
  };
}

/** Checkpointed state of a run. */
interface RunState {
  format: 1;
  /** Phase in progress; `phases.length` once training is over. */
  phase: number;
  phaseState: PhaseState;
  history: HistoryRow[];
  /** Checkpoint serial (grows with each save). */
  serial: number;
  /** Training, predictions and model are all written. */
  complete: boolean;
}

export const HISTORY_COLUMNS = ['epoch', 'phase', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'seconds'] as const;

export interface TrainRunOptions {
  /** Parent folder of run folders (default `runs/` in the project). */
  out?: string;
  /** Backbone to use instead of lib/models's (tests use small ones). */
  backbone?: BackboneSource;
  quiet?: boolean;
  /** Run id instead of the generated one. */
  id?: string;
  /** Told the run folder as soon as it exists (e.g. to print how to resume after Ctrl-C). */
  onRunDir?: (dir: string) => void;
}

export interface RunResult {
  dir: string;
  id: string;
  history: HistoryRow[];
  /** Validation accuracy of the final model. */
  valAccuracy: number;
}

function versions(): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  return { cxr: pkg.version, node: process.version, tfjs: tf.version.tfjs, sharp: sharp.versions.sharp ?? '', vips: sharp.versions.vips };
}

function runId(config: RunConfig, out: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = `${t}-${config.model}-${config.task}`;
  let id = base;
  for (let i = 2; fs.existsSync(path.join(out, id)); i++) id = `${base}-${i}`;
  return id;
}

/** At most `limit` samples, the same share of each class, chosen with the seed. */
export function limitSamples(samples: readonly Sample[], limit: number | null, seed: number): Sample[] {
  if (limit === null || limit >= samples.length) return [...samples];
  const out: Sample[] = [];
  for (const label of LABELS) {
    const ofClass = samples.filter((s) => s.label === label);
    const take = Math.max(1, Math.round((limit * ofClass.length) / samples.length));
    out.push(...new Rng(seed, 'limit', label).shuffle([...ofClass]).slice(0, Math.min(take, ofClass.length)));
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

async function scan(dataDir: string, quiet?: boolean): Promise<Dataset> {
  if (!fs.existsSync(dataDir)) throw new InputFileError(dataDir, 'data folder not found');
  const dataset = await scanDataset(dataDir);
  if (dataset.samples.length === 0) throw new InputFileError(dataDir, 'no usable images found (expected class folders covid/, viral/, normal/)');
  if (!quiet && dataset.problems.length > 0) console.error(`data: skipped ${dataset.problems.length} unusable file(s), listed in the run's problems.csv`);
  return dataset;
}

/** Starts a new run: scans the data, splits it by patient, writes the run folder and trains. */
export async function startRun(config: RunConfig, opts: TrainRunOptions = {}): Promise<RunResult> {
  validateRunConfig(config);
  const out = path.resolve(opts.out ?? path.join(PROJECT_ROOT, 'runs'));
  const source = opts.backbone ?? registryBackbone(config.model);
  const backend = await initBackend({ quiet: opts.quiet });
  const dataset = await scan(config.dataDir, opts.quiet);
  const samples = limitSamples(dataset.samples, config.limit, config.seed);
  const split = splitDataset(samples, { seed: config.split.seed, fractions: config.split.fractions });
  if (split.train.length === 0 || split.val.length === 0) throw new UsageError(`too few images to split (${samples.length}): training and validation each need at least one`);
  const id = opts.id ?? runId(config, out);
  const dir = path.join(out, id);
  if (fs.existsSync(dir)) throw new UsageError(`${dir} already exists`);
  const record: RunRecord = {
    format: 'cxr-run/1',
    id,
    config,
    runtime: {
      createdAt: new Date().toISOString(),
      versions: versions(),
      backend: pick(backend),
      weightsId: await source.weightsId(config.weights, config.seed),
      phases: [],
      resumes: [],
    },
  };
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new CxrError(`${dir}: cannot create the run folder (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
  }
  opts.onRunDir?.(dir);
  writeCsvAtomic(path.join(dir, 'split.csv'), splitToCsvRows(split), SPLIT_CSV_COLUMNS);
  if (dataset.problems.length > 0) writeCsvAtomic(path.join(dir, 'problems.csv'), dataset.problems.map((p) => ({ ...p })), ['file', 'reason']);
  writeJsonAtomic(path.join(dir, 'config.json'), record);
  if (!opts.quiet) console.error(`run: ${dir} (train ${split.train.length}, val ${split.val.length}, test ${split.test.length} images)`);
  return execute(dir, record, split, source, opts);
}

function pick(b: BackendInfo): RunRecord['runtime']['backend'] {
  return { name: b.name, tfBackend: b.tfBackend, tfjsVersion: b.tfjsVersion, runtimeVersion: b.runtimeVersion, threads: b.threads, gpu: b.gpu };
}

/** Reads a run folder's record. */
export function readRunRecord(dir: string): RunRecord {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new InputFileError(dir, 'not a run folder (no config.json)');
  let record: RunRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  } catch (err) {
    throw new InputFileError(file, `unreadable (${(err as Error).message})`);
  }
  if (record.format !== 'cxr-run/1') throw new InputFileError(file, `unknown run format '${String(record.format)}'`);
  return record;
}

/** Continues an interrupted run from its latest checkpoint (same data, split and settings). */
export async function resumeRun(dir: string, opts: TrainRunOptions = {}): Promise<RunResult> {
  const record = readRunRecord(dir);
  const source = opts.backbone ?? registryBackbone(record.config.model);
  const ckpt = loadLatestCheckpoint<RunState>(path.join(dir, 'checkpoints'));
  if (ckpt?.data.state.complete) throw new UsageError(`${dir} is complete; nothing to resume`);
  const backend = await initBackend({ quiet: opts.quiet });
  const weightsId = await source.weightsId(record.config.weights, record.config.seed);
  if (weightsId !== record.runtime.weightsId) {
    throw new CxrError(`${dir}: the backbone weights changed since the run started (${record.runtime.weightsId} then, ${weightsId} now)`);
  }
  const dataset = await scan(record.config.dataDir, opts.quiet);
  const split = readSplitCsv(path.join(dir, 'split.csv'), dataset);
  record.runtime.resumes.push({ at: new Date().toISOString(), backend: backend.name, fromCheckpoint: ckpt ? path.basename(ckpt.folder) : null });
  writeJsonAtomic(path.join(dir, 'config.json'), record);
  opts.onRunDir?.(dir);
  if (!opts.quiet) console.error(`resume: ${dir} from ${ckpt ? path.basename(ckpt.folder) : 'the start'}`);
  return execute(dir, record, split, source, opts);
}

/** The classifier for a run: backbone with its weights, then the head. */
export async function buildRunModel(config: RunConfig, source: BackboneSource): Promise<tf.LayersModel> {
  const backbone = await source.load(config.inputSize, config.weights, config.seed);
  return attachHead(backbone, taskSpec(config.task), config.head, config.seed);
}

function examplesOf(samples: readonly Sample[], task: TaskSpec): Example[] {
  return samples.map((sample) => ({ sample, target: task.target(sample.label) }));
}

async function execute(dir: string, record: RunRecord, split: Split, source: BackboneSource, opts: TrainRunOptions): Promise<RunResult> {
  const config = record.config;
  const task = taskSpec(config.task);
  const model = await buildRunModel(config, source);
  const images: ImageSettings = { inputSize: config.inputSize, fit: config.fit, enhance: config.enhance, preprocess: config.preprocess };
  const train = examplesOf(split.train, task);
  const val = examplesOf(split.val, task);
  const ckptDir = path.join(dir, 'checkpoints');
  const cuts = new Map<string | null, ModelCut>();
  const cutAt = (after: string | null) => {
    if (!cuts.has(after)) cuts.set(after, cutModel(model, after));
    return cuts.get(after)!;
  };
  const phases = config.phases.map((p) => ({ cfg: p, cut: cutAt(p.trainAfter) }));

  // Weights that can differ from the freshly built model: every layer trained in a phase up to `phase`.
  const tracked = (phase: number) => {
    const layers = new Set(phases.slice(0, Math.min(phase + 1, phases.length)).flatMap((p) => p.cut.suffixLayers));
    return keyedWeights(model, [...layers]);
  };

  let state: RunState = { format: 1, phase: 0, phaseState: initialPhaseState(config.phases[0]), history: [], serial: 0, complete: false };
  const best: { values: tf.Tensor[] | null } = { values: null };
  let optimizerWeights: TensorGroup | null = null;
  let lastCheckpoint: string | null = null;
  const found = loadLatestCheckpoint<RunState>(ckptDir);
  if (found) {
    state = found.data.state;
    lastCheckpoint = found.folder;
    const byKey = new Map(keyedWeights(model, model.layers).map((w) => [w.key, w]));
    for (const { name, tensor } of found.data.groups.weights ?? []) {
      const w = byKey.get(name);
      if (!w || w.variable.shape.join() !== tensor.shape.join()) throw new CxrError(`${found.folder}: checkpoint weight ${name} does not fit the model`);
      w.variable.assign(tensor);
    }
    optimizerWeights = found.data.groups.optimizer ?? null;
    best.values = found.data.groups.best ? found.data.groups.best.map((t) => t.tensor) : null;
    tf.dispose((found.data.groups.weights ?? []).map((t) => t.tensor));
  }
  // Rewritten from the checkpoint, so epochs after it (lost by a kill) do not linger.
  writeCsvAtomic(path.join(dir, 'history.csv'), state.history.map((r) => ({ ...r })), HISTORY_COLUMNS);

  const save = async (s: RunState, optimizer: tf.AdamOptimizer | null) => {
    s.serial += 1;
    const groups: Record<string, TensorGroup> = {
      weights: tracked(s.phase).map((w) => ({ name: w.key, tensor: w.variable })),
    };
    if (optimizer) {
      const slots = (await optimizer.getWeights()).map((w, i) => ({ name: i === 0 ? 'iter' : `slot_${i}`, tensor: w.tensor }));
      const acc = adamInternals(optimizer);
      groups.optimizer = [...slots, { name: 'acc_beta1', tensor: acc.accBeta1 }, { name: 'acc_beta2', tensor: acc.accBeta2 }];
    }
    if (best.values) groups.best = best.values.map((t, i) => ({ name: `best_${i}`, tensor: t }));
    lastCheckpoint = await saveCheckpoint(ckptDir, s.serial, { state: s, groups });
    writeCsvAtomic(path.join(dir, 'history.csv'), s.history.map((r) => ({ ...r })), HISTORY_COLUMNS);
  };

  const weightsId = record.runtime.weightsId;
  const enhanceText = config.enhance ? enhanceKey(config.enhance) : 'none';
  const keyFor = (cut: string, views?: FeatureKey['views']): FeatureKey => ({
    model: config.model, weightsId, inputSize: config.inputSize, fit: config.fit, preprocess: config.preprocess, enhance: enhanceText, cut, ...(views ? { views } : {}),
  });
  const plainStore = (p: (typeof phases)[number]) => new FeatureStore(keyFor(p.cfg.trainAfter!), p.cut.boundary);
  const viewStore = (p: (typeof phases)[number]) =>
    new FeatureStore(keyFor(p.cfg.trainAfter!, { seed: config.seed, flip: config.augment.flip, rotation: config.augment.rotation }), p.cut.boundary);

  record.runtime.phases = phases.map((p) => ({
    trainAfter: p.cfg.trainAfter,
    frozen: p.cfg.frozen,
    views: p.cfg.views,
    augment: p.cfg.augment,
    featureCache: p.cfg.frozen === 'stream' ? null : path.relative(PROJECT_ROOT, (p.cfg.frozen === 'views' ? viewStore(p) : plainStore(p)).dir),
    trainableParams: p.cut.suffixLayers.reduce((n, l) => n + l.trainableWeights.reduce((m, w) => m + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0), 0),
  }));
  writeJsonAtomic(path.join(dir, 'config.json'), record);

  const pool = new ImagePool(config.workers);
  try {
    // Features of every cached phase still to run, in one pass over the images.
    const requests: FeatureRequest[] = [];
    phases.forEach((p, i) => {
      if (i < state.phase || p.cfg.frozen === 'stream') return;
      const prefix = p.cut.prefix!;
      if (p.cfg.frozen === 'cache') requests.push({ store: plainStore(p), prefix, examples: [...train, ...val], views: null, augment: config.augment, viewSeed: config.seed });
      else {
        requests.push({ store: plainStore(p), prefix, examples: val, views: null, augment: config.augment, viewSeed: config.seed });
        requests.push({ store: viewStore(p), prefix, examples: train, views: p.cfg.views, augment: config.augment, viewSeed: config.seed });
      }
    });
    if (requests.length > 0) await ensureFeatures(requests, model.inputs, pool, images, { batchSize: 32, quiet: opts.quiet });

    while (state.phase < phases.length) {
      const index = state.phase;
      const { cfg, cut } = phases[index];
      setTrainableLayers(model, cut.suffixLayers);
      const vars = trainableVariables(cut.suffixLayers);
      const optimizer = tf.train.adam(state.phaseState.lr);
      if (optimizerWeights) {
        const acc = optimizerWeights.filter((w) => w.name.startsWith('acc_beta'));
        await optimizer.setWeights(optimizerWeights.filter((w) => !w.name.startsWith('acc_beta')));
        // setWeights recomputes beta^t with pow(); the running products differ in the last bit, so put
        // back the exact values: a resumed run then matches an uninterrupted one bit for bit.
        const powers = adamInternals(optimizer);
        for (const w of acc) (w.name === 'acc_beta1' ? powers.accBeta1 : powers.accBeta2).assign(w.tensor);
        optimizerWeights = null;
      }
      const batchesFor = (examples: Example[], epoch: number | null): AsyncIterable<Batch> | Iterable<Batch> => {
        const order = epoch === null ? examples : new Rng(config.seed, 'shuffle', index, epoch).shuffle([...examples]);
        if (cfg.frozen === 'stream') {
          const rng = new Rng(config.seed, 'augment', index, epoch ?? -1);
          const aug = order.map(() => (epoch !== null && cfg.augment ? drawAugment(rng, config.augment) : null));
          return streamBatches(order, aug, streamPrefix, pool, images, cfg.batchSize);
        }
        if (cfg.frozen === 'views' && epoch !== null) {
          const rng = new Rng(config.seed, 'view', index, epoch);
          return cachedBatches(order, order.map(() => rng.int(cfg.views)), viewStore(phases[index]), cfg.batchSize);
        }
        return cachedBatches(order, order.map(() => null), plainStore(phases[index]), cfg.batchSize);
      };
      const firstEpoch = config.phases.slice(0, index).reduce((n, p) => n + p.epochs, 0) + 1;
      // The prefix stays frozen for the whole phase, so one compiled snapshot of it serves every epoch.
      const streamPrefix = cfg.frozen === 'stream' && cut.prefix ? compileInference(cut.prefix) : null;
      await trainPhase(
        {
          index, config: cfg, cut, task, seed: config.seed, optimizer, vars, best, firstEpoch,
          trainBatchCount: Math.ceil(train.length / cfg.batchSize),
          trainBatches: (epoch) => toAsync(batchesFor(train, epoch)),
          valBatches: () => toAsync(batchesFor(val, null)),
          epochEnd: async (ps, row) => {
            state.phaseState = ps;
            state.history.push(row);
            await save(state, optimizer);
          },
          lastCheckpoint: () => lastCheckpoint,
          quiet: opts.quiet,
        },
        state.phaseState,
      ).finally(() => streamPrefix?.dispose());
      optimizer.dispose();
      tf.dispose(best.values ?? []);
      best.values = null;
      state.phase = index + 1;
      state.phaseState = initialPhaseState(config.phases[Math.min(index + 1, phases.length - 1)]);
      await save(state, null);
    }

    setTrainableLayers(model, []);
    await saveModel(model, path.join(dir, 'model'));
    // The last phase's cut serves the predictions when its features are cached (test images are added
    // to the cache now, their first use); the suffix then gives the full model's outputs.
    const last = phases[phases.length - 1];
    const via = last.cfg.frozen === 'stream' ? null : { store: plainStore(last), cut: last.cut };
    if (via) {
      await ensureFeatures(
        [{ store: via.store, prefix: via.cut.prefix!, examples: examplesOf([...split.val, ...split.test], task), views: null, augment: config.augment, viewSeed: config.seed }],
        model.inputs, pool, images, { batchSize: 32, quiet: opts.quiet },
      );
    }
    const valAccuracy = await writePredictions(dir, model, task, split, pool, images, via, opts.quiet);
    state.complete = true;
    await save(state, null);
    if (!opts.quiet) console.error(`done: ${dir} (val accuracy ${valAccuracy.toFixed(4)}; predictions.csv has val and test)`);
    return { dir, id: record.id, history: state.history, valAccuracy };
  } finally {
    await pool.close();
  }
}

async function* toAsync<T>(it: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  for await (const x of it) yield x;
}

/** Class probabilities of the final model for the validation and test images (the test split's only use). */
async function writePredictions(
  dir: string, model: tf.LayersModel, task: TaskSpec, split: Split, pool: ImagePool, images: ImageSettings,
  via: { store: FeatureStore; cut: ModelCut } | null, quiet?: boolean,
): Promise<number> {
  const rows: Record<string, string | number>[] = [];
  let valCorrect = 0;
  const predictor = compileInference(via ? via.cut.suffix : model);
  try {
    for (const name of ['val', 'test'] as const) {
      const examples = examplesOf(split[name], task);
      let i = 0;
      const batches = via
        ? cachedBatches(examples, examples.map(() => null), via.store, 32)
        : streamBatches(examples, examples.map(() => null), null, pool, images, 32);
      for await (const batch of batches) {
        const inputs = batch.inputs.length === 1 ? batch.inputs[0] : batch.inputs;
        const out = predictor.predict(inputs) as tf.Tensor2D;
        const probs = (await out.array()) as number[][];
        tf.dispose([out, ...batch.inputs, batch.y]);
        for (const row of probs) {
          const s = examples[i++].sample;
          const p = task.probabilities(row);
          const predicted = predictedClass(task, p);
          const label = taskLabel(task.name, s.label);
          if (name === 'val' && predicted === label) valCorrect++;
          const r: Record<string, string | number> = { file: s.file, label, split: name, predicted };
          task.classes.forEach((c, k) => (r[`prob_${c}`] = p[k]));
          r.original_label = s.label;
          rows.push(r);
        }
      }
    }
  } finally {
    predictor.dispose();
  }
  const columns = ['file', 'label', 'split', 'predicted', ...task.classes.map((c) => `prob_${c}`), 'original_label'];
  writeCsvAtomic(path.join(dir, 'predictions.csv'), rows, columns);
  if (!quiet) console.error(`predictions: ${rows.length} images (val ${split.val.length}, test ${split.test.length})`);
  return split.val.length ? valCorrect / split.val.length : NaN;
}

/** history.csv of a run as numbers. */
export function readHistory(dir: string): HistoryRow[] {
  return readCsv(path.join(dir, 'history.csv'), HISTORY_COLUMNS).map((r) => ({
    epoch: Number(r.epoch), phase: Number(r.phase), loss: Number(r.loss), accuracy: Number(r.accuracy),
    val_loss: Number(r.val_loss), val_accuracy: Number(r.val_accuracy), lr: Number(r.lr), seconds: Number(r.seconds),
  }));
}

export type { PhaseConfig };
