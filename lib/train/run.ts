/**
 * A training run from start to finish: scan and split the data, write the run folder, then train each phase,
 * save the final model and predict the validation and test images. `resumeRun` continues a killed run from
 * its latest checkpoint with the same data, split and settings. What is stored where is lib/train/run-folder's
 * business; how phases map onto the model is run-plan's; checkpointing is run-progress's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { ImagePool } from '../data/input/image-pool';
import { LABELS } from '../data/labels';
import { foldSplit, kFolds } from '../data/folds';
import { loadData } from '../data/merge';
import { splitDataset } from '../data/split';
import type { Dataset, Sample, Split } from '../data/types';
import { CxrError, InputFileError, UsageError } from '../errors';
import { compileInference } from '../graph/inference';
import { setTrainableLayers, trainableVariables, type ModelCut } from '../models/cut';
import { saveModel } from '../models/io';
import { PROJECT_ROOT } from '../paths';
import { Rng } from '../random';
import { registryBackbone, type BackboneSource } from './backbone-source';
import { validateRunConfig, type PhaseConfig, type RunConfig } from './config';
import type { FeatureStore } from './feature-cache';
import { attachHead } from './head';
import { balanceWeights, weightedOrder } from './balance';
import { cachedBatches, drawViewAugment, ensureFeatures, streamBatches, type Batch, type Example, type FeatureRequest } from './phase-data';
import * as folder from './run-folder';
import { runLungMasks } from './lung-masks';
import { examplesOf, RunPlan, type PlannedPhase } from './run-plan';
import { RunProgress } from './run-progress';
import { predictedClass, taskLabel, taskSpec } from './tasks';
import { trainPhase, type HistoryRow } from './trainer';

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
  /** Lung segmenter folder for a new run with `prep.lungs` (default: the cached default segmenter). */
  segmenterDir?: string;
}

export interface RunResult {
  dir: string;
  id: string;
  history: HistoryRow[];
  /** Validation accuracy of the final model. */
  valAccuracy: number;
}

/**
 * At most `limit` samples, the same share of each class, chosen with the seed.
 * @example limitSamples(dataset.samples, 20, 42) // about 20 images, every class kept
 */
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

async function scan(config: RunConfig, quiet?: boolean): Promise<Dataset> {
  for (const dir of config.data) if (!fs.existsSync(dir)) throw new InputFileError(dir, 'data folder not found');
  const dataset = await loadData(config.data, { classMap: config.classMap });
  if (dataset.samples.length === 0) throw new InputFileError(config.data.join(', '), 'no usable images found (expected class folders covid/, viral/, normal/)');
  if (!quiet && dataset.problems.length > 0) console.error(`data: skipped ${dataset.problems.length} unusable file(s), listed in the run's problems.csv`);
  return dataset;
}

/**
 * Splits off the held-out sources: their images are in no split (never trained on, tuned on or tested
 * internally) and are scored after training. A name matches a source equal to it or containing it
 * (case-insensitive), so `--holdout-source ieee8023` names `ieee8023/covid-chestxray-dataset`.
 * @throws UsageError when a name matches no source, naming the sources there are
 */
export function partitionHoldout(samples: readonly Sample[], holdout: readonly string[]): { kept: Sample[]; heldOut: Sample[] } {
  if (holdout.length === 0) return { kept: [...samples], heldOut: [] };
  const sources = [...new Set(samples.map((s) => s.source))].sort();
  const matches = (source: string, name: string) => source.toLowerCase().includes(name.toLowerCase());
  for (const name of holdout) {
    if (!sources.some((s) => matches(s, name))) throw new UsageError(`held-out source '${name}' matches no source (sources: ${sources.join('; ')})`);
  }
  const out = (s: Sample) => holdout.some((name) => matches(s.source, name));
  return { kept: samples.filter((s) => !out(s)), heldOut: samples.filter(out) };
}

/**
 * Starts a new run: scans the data, splits it by patient, writes the run folder and trains.
 * @returns the run folder, its history and the final model's validation accuracy
 * @throws UsageError for a bad configuration, too few images or an existing run folder; InputFileError for a
 *   missing or empty data folder; NonFiniteLossError when training diverges (the last checkpoint is kept).
 */
export async function startRun(config: RunConfig, opts: TrainRunOptions = {}): Promise<RunResult> {
  validateRunConfig(config);
  const out = path.resolve(opts.out ?? path.join(PROJECT_ROOT, 'runs'));
  const source = opts.backbone ?? registryBackbone(config.model);
  const backend = await initBackend({ quiet: opts.quiet });
  const dataset = await scan(config, opts.quiet);
  const { kept, heldOut } = partitionHoldout(dataset.samples, config.holdout);
  const samples = limitSamples(kept, config.limit, config.seed);
  const split = config.fold
    ? foldSplit(kFolds(samples, { k: config.fold.k, seed: config.fold.seed }), config.fold.index)
    : splitDataset(samples, { seed: config.split.seed, fractions: config.split.fractions });
  if (split.train.length === 0 || split.val.length === 0) throw new UsageError(`too few images to split (${samples.length}): training and validation each need at least one`);
  const id = opts.id ?? folder.newRunId(config, out);
  const dir = path.join(out, id);
  const record = folder.newRunRecord(id, config, backend, await source.weightsId(config.weights, config.seed));
  folder.createRunFolder(dir);
  opts.onRunDir?.(dir);
  folder.writeRunSplit(dir, split, dataset.problems);
  folder.writeRunRecord(dir, record);
  if (!opts.quiet) {
    const held = heldOut.length ? `; held out: ${heldOut.length} images of ${config.holdout.join(', ')}` : '';
    console.error(`run: ${dir} (train ${split.train.length}, val ${split.val.length}, test ${split.test.length} images${held})`);
  }
  return execute(dir, record, split, limitSamples(heldOut, config.limit, config.seed), source, opts);
}

/**
 * Continues an interrupted run from its latest checkpoint (same data, split and settings).
 * @throws InputFileError when `dir` is not a run folder; UsageError when the run is complete; CxrError when
 *   the backbone's initial weights changed since the run started.
 */
export async function resumeRun(dir: string, opts: TrainRunOptions = {}): Promise<RunResult> {
  const record = folder.readRunRecord(dir);
  const source = opts.backbone ?? registryBackbone(record.config.model);
  const ckpt = folder.readRunCheckpoint(dir);
  if (ckpt?.data.state.complete) throw new UsageError(`${dir} is complete; nothing to resume`);
  const backend = await initBackend({ quiet: opts.quiet });
  const weightsId = await source.weightsId(record.config.weights, record.config.seed);
  if (weightsId !== record.runtime.weightsId) {
    throw new CxrError(`${dir}: the backbone weights changed since the run started (${record.runtime.weightsId} then, ${weightsId} now)`);
  }
  const dataset = await scan(record.config, opts.quiet);
  const split = folder.readRunSplitSamples(dir, dataset);
  const { heldOut } = partitionHoldout(dataset.samples, record.config.holdout);
  record.runtime.resumes.push({ at: new Date().toISOString(), backend: backend.name, fromCheckpoint: ckpt ? path.basename(ckpt.folder) : null });
  folder.writeRunRecord(dir, record);
  opts.onRunDir?.(dir);
  if (!opts.quiet) console.error(`resume: ${dir} from ${ckpt ? path.basename(ckpt.folder) : 'the start'}`);
  return execute(dir, record, split, limitSamples(heldOut, record.config.limit, record.config.seed), source, opts);
}

/** The classifier for a run: backbone with its weights, then the head. */
export async function buildRunModel(config: RunConfig, source: BackboneSource): Promise<tf.LayersModel> {
  const backbone = await source.load(config.inputSize, config.weights, config.seed);
  return attachHead(backbone, taskSpec(config.task), config.head, config.seed);
}

/** Trains from wherever the run folder's checkpoint left off to the finished run. */
async function execute(dir: string, record: folder.RunRecord, split: Split, heldOut: Sample[], source: BackboneSource, opts: TrainRunOptions): Promise<RunResult> {
  const plan = new RunPlan(record, split, await buildRunModel(record.config, source));
  if (record.config.prep.lungs) {
    // Before the feature caches are named: their keys hold the segmenter the masks came from.
    plan.images.lungMasks = await runLungMasks(record, [...split.train, ...split.val, ...split.test, ...heldOut], { segmenterDir: opts.segmenterDir, quiet: opts.quiet });
  }
  const progress = RunProgress.restore(dir, plan);
  // Rewritten from the checkpoint, so epochs after it (lost by a kill) do not linger.
  folder.writeHistory(dir, progress.state.history);
  record.runtime.phases = plan.runtimePhases();
  folder.writeRunRecord(dir, record);
  const pool = new ImagePool(record.config.workers);
  try {
    await extractFeatures(plan, plan.featureRequests(progress.state.phase), pool, opts.quiet);
    while (progress.state.phase < plan.phases.length) await runPhase(plan, progress, pool, opts.quiet);
    const valAccuracy = await finishRun(dir, plan, heldOut, pool, opts.quiet);
    progress.state.complete = true;
    await progress.save(null);
    if (!opts.quiet) console.error(`done: ${dir} (val accuracy ${valAccuracy.toFixed(4)}; predictions.csv has val and test)`);
    return { dir, id: record.id, history: progress.state.history, valAccuracy };
  } finally {
    await pool.close();
  }
}

/** Computes the cached features still missing, every requested cut in one pass over the images. */
async function extractFeatures(plan: RunPlan, requests: FeatureRequest[], pool: ImagePool, quiet?: boolean): Promise<void> {
  if (requests.length > 0) await ensureFeatures(requests, plan.model.inputs, pool, plan.images, { batchSize: 32, quiet });
}

/** Trains the phase in progress to its end, checkpointing each epoch, then moves to the next phase. */
async function runPhase(plan: RunPlan, progress: RunProgress, pool: ImagePool, quiet?: boolean): Promise<void> {
  const phase = plan.phases[progress.state.phase];
  const { cfg, cut, index } = phase;
  setTrainableLayers(plan.model, cut.suffixLayers);
  const optimizer = tf.train.adam(progress.state.phaseState.lr);
  await progress.restoreOptimizer(optimizer);
  // The prefix stays frozen for the whole phase, so one compiled snapshot of it serves every epoch.
  const streamPrefix = cfg.frozen === 'stream' && cut.prefix ? compileInference(cut.prefix) : null;
  const batches = (examples: Example[], epoch: number | null) => toAsync(phaseBatches(plan, phase, examples, epoch, { pool, streamPrefix }));
  await trainPhase(
    {
      index, config: cfg, cut, task: plan.task, seed: plan.config.seed, optimizer, vars: trainableVariables(cut.suffixLayers), best: progress.best,
      firstEpoch: plan.config.phases.slice(0, index).reduce((n, p) => n + p.epochs, 0) + 1,
      trainBatchCount: Math.ceil(plan.train.length / cfg.batchSize),
      trainBatches: (epoch) => batches(plan.train, epoch),
      valBatches: () => batches(plan.val, null),
      epochEnd: async (ps, row) => {
        progress.state.phaseState = ps;
        progress.state.history.push(row);
        await progress.save(optimizer);
      },
      lastCheckpoint: () => progress.lastCheckpoint,
      quiet,
    },
    progress.state.phaseState,
  ).finally(() => streamPrefix?.dispose());
  optimizer.dispose();
  progress.nextPhase();
  await progress.save(null);
}

/**
 * A phase's batches of `examples`: shuffled per epoch (`epoch` null: validation, in order), from images
 * streamed through the frozen prefix, from cached augmented views, or from cached plain features.
 */
function phaseBatches(
  plan: RunPlan, phase: PlannedPhase, examples: Example[], epoch: number | null,
  via: { pool: ImagePool; streamPrefix: ReturnType<typeof compileInference> | null },
): AsyncIterable<Batch> | Iterable<Batch> {
  const { cfg, index } = phase;
  const { seed, augment, jitter, balance } = plan.config;
  const order = epoch === null ? examples : epochOrder(examples, balance, new Rng(seed, 'shuffle', index, epoch));
  if (cfg.frozen === 'stream') {
    const rng = new Rng(seed, 'augment', index, epoch ?? -1);
    const aug = order.map(() => (epoch !== null && cfg.augment ? drawViewAugment(rng, augment, jitter) : null));
    return streamBatches(order, aug, via.streamPrefix, via.pool, plan.images, cfg.batchSize);
  }
  if (cfg.frozen === 'views' && epoch !== null) {
    const rng = new Rng(seed, 'view', index, epoch);
    return cachedBatches(order, order.map(() => rng.int(cfg.views)), plan.store(phase, true), cfg.batchSize);
  }
  return cachedBatches(order, order.map(() => null), plan.store(phase, false), cfg.batchSize);
}

/** An epoch's training order: a shuffle, or with balance a class × source or class weighted draw. */
function epochOrder(examples: readonly Example[], balance: RunConfig['balance'], rng: Rng): Example[] {
  if (balance === 'none') return rng.shuffle([...examples]);
  return weightedOrder(examples, balanceWeights(examples.map((e) => e.sample), balance), rng);
}

async function* toAsync<T>(it: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  for await (const x of it) yield x;
}

/** Saves the final model and writes predictions.csv (and holdout.csv); returns the validation accuracy. */
async function finishRun(dir: string, plan: RunPlan, heldOut: Sample[], pool: ImagePool, quiet?: boolean): Promise<number> {
  const { model, split, task } = plan;
  setTrainableLayers(model, []);
  await saveModel(model, folder.runPaths(dir).model);
  // The last phase's cut serves the predictions when its features are cached (test images are added
  // to the cache now, their first use); the suffix then gives the full model's outputs.
  const last = plan.phases[plan.phases.length - 1];
  const via = last.cfg.frozen === 'stream' ? null : { store: plan.store(last, false), cut: last.cut };
  if (via) {
    const examples = examplesOf([...split.val, ...split.test, ...heldOut], task);
    const { augment, jitter, seed } = plan.config;
    await extractFeatures(plan, [{ store: via.store, prefix: via.cut.prefix!, examples, views: null, augment, jitter, viewSeed: seed }], pool, quiet);
  }
  const rows = await predictSplits(plan, heldOut, pool, via);
  folder.writePredictions(dir, rows, task.classes);
  if (!quiet) console.error(`predictions: ${rows.length} images (val ${split.val.length}, test ${split.test.length}${heldOut.length ? `, held out ${heldOut.length}` : ''})`);
  const val = rows.filter((r) => r.split === 'val');
  return val.length ? val.filter((r) => r.predicted === r.label).length / val.length : NaN;
}

/** Class probabilities of the final model for the validation and test images (the test split's only use). */
async function predictSplits(plan: RunPlan, heldOut: Sample[], pool: ImagePool, via: { store: FeatureStore; cut: ModelCut } | null): Promise<folder.PredictionRow[]> {
  const { model, task, split } = plan;
  const rows: folder.PredictionRow[] = [];
  const predictor = compileInference(via ? via.cut.suffix : model);
  const sets = { val: split.val, test: split.test, holdout: heldOut };
  try {
    for (const name of ['val', 'test', 'holdout'] as const) {
      const examples = examplesOf(sets[name], task);
      let i = 0;
      const batches = via
        ? cachedBatches(examples, examples.map(() => null), via.store, 32)
        : streamBatches(examples, examples.map(() => null), null, pool, plan.images, 32);
      for await (const batch of batches) {
        const inputs = batch.inputs.length === 1 ? batch.inputs[0] : batch.inputs;
        const out = predictor.predict(inputs) as tf.Tensor2D;
        const probs = (await out.array()) as number[][];
        tf.dispose([out, ...batch.inputs, batch.y]);
        for (const row of probs) {
          const s = examples[i++].sample;
          const p = task.probabilities(row);
          rows.push({
            file: s.file, label: taskLabel(task.name, s.label), split: name, predicted: predictedClass(task, p), probs: p, originalLabel: s.label,
            patientId: s.patientId, source: s.source,
          });
        }
      }
    }
  } finally {
    predictor.dispose();
  }
  return rows;
}

export type { PhaseConfig };
