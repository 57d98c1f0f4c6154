/**
 * The run folder, `runs/<id>/`: the one module that knows its file names and formats. `cxr train` writes it
 * (config.json: the configuration and what actually ran; split.csv, problems.csv, history.csv, checkpoints/,
 * model/, predictions.csv); evaluation, the report, `cxr predict` and the study read it through here. Every
 * file is written atomically, so a run killed at any moment leaves each file either old or new, never cut.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { BackendInfo } from '../backend';
import { readSplitCsv, SPLIT_CSV_COLUMNS, splitToCsvRows } from '../data/split';
import type { Dataset, ScanProblem, Split } from '../data/types';
import { CxrError, InputFileError, UsageError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { readCsv, writeCsvAtomic } from '../io/csv';
import { PROJECT_ROOT } from '../paths';
import { loadLatestCheckpoint, saveCheckpoint, type CheckpointData } from './checkpoint';
import { upgradeRunConfig, type RunConfig } from './config';
import { taskSpec } from './tasks';
import type { HistoryRow, PhaseState } from './trainer';

const RUN_FORMAT = 'cxr-run/1';

/** What `config.json` holds: the configuration and what actually ran. */
export interface RunRecord {
  format: typeof RUN_FORMAT;
  id: string;
  config: RunConfig;
  runtime: {
    createdAt: string;
    versions: Record<string, string>;
    backend: Pick<BackendInfo, 'name' | 'tfBackend' | 'tfjsVersion' | 'runtimeVersion' | 'threads' | 'gpu'>;
    weightsId: string;
    /** The lung segmenter whose cached masks the run's inputs used (runs with `prep.lungs` only). */
    segmenter?: { id: string; dir: string };
    /** Per phase: how the frozen part ran and where its features are cached. */
    phases: { trainAfter: string | null; frozen: string; views: number; augment: boolean; featureCache: string | null; trainableParams: number }[];
    /** Each resume, with the backend it ran on. */
    resumes: { at: string; backend: string; fromCheckpoint: string | null }[];
  };
}

/** The `state.json` of each checkpoint: where training stands. */
export interface RunState {
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

/** Where each part of a run folder lives. */
export interface RunPaths {
  dir: string;
  config: string;
  split: string;
  problems: string;
  history: string;
  predictions: string;
  /** Predictions for the images of held-out sources (present only when the run held sources out). */
  holdout: string;
  checkpoints: string;
  /** TF.js layers model folder (model.json + weights). */
  model: string;
}

/**
 * The paths of the run folder `dir`.
 * @example runPaths('runs/r1').history // 'runs/r1/history.csv'
 */
export function runPaths(dir: string): RunPaths {
  const at = (name: string) => path.join(dir, name);
  return {
    dir, config: at('config.json'), split: at('split.csv'), problems: at('problems.csv'), history: at('history.csv'),
    predictions: at('predictions.csv'), holdout: at('holdout.csv'), checkpoints: at('checkpoints'), model: at('model'),
  };
}

function versions(): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  return { cxr: pkg.version, node: process.version, tfjs: tf.version.tfjs, sharp: sharp.versions.sharp ?? '', vips: sharp.versions.vips };
}

/** A fresh id under `out`: UTC time, model and task, with a counter when that folder exists. */
export function newRunId(config: RunConfig, out: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = `${t}-${config.model}-${config.task}`;
  let id = base;
  for (let i = 2; fs.existsSync(path.join(out, id)); i++) id = `${base}-${i}`;
  return id;
}

/** The record of a run about to start: its configuration and the software and backend it runs on. */
export function newRunRecord(id: string, config: RunConfig, backend: BackendInfo, weightsId: string): RunRecord {
  const { name, tfBackend, tfjsVersion, runtimeVersion, threads, gpu } = backend;
  return {
    format: RUN_FORMAT,
    id,
    config,
    runtime: {
      createdAt: new Date().toISOString(),
      versions: versions(),
      backend: { name, tfBackend, tfjsVersion, runtimeVersion, threads, gpu },
      weightsId,
      phases: [],
      resumes: [],
    },
  };
}

/**
 * Creates an empty run folder.
 * @throws UsageError when `dir` exists; CxrError when it cannot be created.
 */
export function createRunFolder(dir: string): void {
  if (fs.existsSync(dir)) throw new UsageError(`${dir} already exists`);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new CxrError(`${dir}: cannot create the run folder (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
  }
}

/**
 * Reads a run folder's config.json.
 * @throws InputFileError when `dir` is not a run folder or its record is unreadable or of another format.
 */
export function readRunRecord(dir: string): RunRecord {
  const file = runPaths(dir).config;
  if (!fs.existsSync(file)) throw new InputFileError(dir, 'not a run folder (no config.json)');
  let record: RunRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  } catch (err) {
    throw new InputFileError(file, `unreadable (${(err as Error).message})`);
  }
  if (record.format !== RUN_FORMAT) throw new InputFileError(file, `unknown run format '${String(record.format)}'`);
  return { ...record, config: upgradeRunConfig(record.config) };
}

/** Replaces a run's config.json. */
export function writeRunRecord(dir: string, record: RunRecord): void {
  writeJsonAtomic(runPaths(dir).config, record);
}

/** Writes the run's patient-grouped split (and, when the scan skipped files, problems.csv). */
export function writeRunSplit(dir: string, split: Split, problems: readonly ScanProblem[]): void {
  const paths = runPaths(dir);
  writeCsvAtomic(paths.split, splitToCsvRows(split), SPLIT_CSV_COLUMNS);
  if (problems.length > 0) writeCsvAtomic(paths.problems, problems.map((p) => ({ ...p })), ['file', 'reason']);
}

/** The run's split as samples of `dataset` (the data folder scanned again, for a resumed run). */
export function readRunSplitSamples(dir: string, dataset: Dataset): Split {
  return readSplitCsv(runPaths(dir).split, dataset);
}

/** One row of a run's split.csv. */
export interface SplitRow {
  file: string;
  label: string;
  patientId: string;
  split: 'train' | 'val' | 'test';
}

/**
 * Reads a run's split.csv without the data folder.
 * @throws InputFileError when the run has no split.csv or a row names an unknown split.
 */
export function readRunSplit(dir: string): SplitRow[] {
  const file = runPaths(dir).split;
  if (!fs.existsSync(file)) throw new InputFileError(dir, 'not a run folder (no split.csv)');
  return readCsv(file, SPLIT_CSV_COLUMNS).map((r, i) => {
    if (r.split !== 'train' && r.split !== 'val' && r.split !== 'test') {
      throw new InputFileError(file, `line ${i + 2}: unknown split '${r.split}'`);
    }
    return { file: r.file, label: r.label, patientId: r.patient_id, split: r.split };
  });
}

export const HISTORY_COLUMNS = ['epoch', 'phase', 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'seconds'] as const;

/** Replaces a run's history.csv (one row per finished epoch). */
export function writeHistory(dir: string, rows: readonly HistoryRow[]): void {
  writeCsvAtomic(runPaths(dir).history, rows.map((r) => ({ ...r })), HISTORY_COLUMNS);
}

/** history.csv of a run as numbers. */
export function readHistory(dir: string): HistoryRow[] {
  return readCsv(runPaths(dir).history, HISTORY_COLUMNS).map((r) => ({
    epoch: Number(r.epoch), phase: Number(r.phase), loss: Number(r.loss), accuracy: Number(r.accuracy),
    val_loss: Number(r.val_loss), val_accuracy: Number(r.val_accuracy), lr: Number(r.lr), seconds: Number(r.seconds),
  }));
}

/** The run's latest checkpoint, or null before its first epoch ended. */
export function readRunCheckpoint(dir: string): { folder: string; data: CheckpointData<RunState> } | null {
  return loadLatestCheckpoint<RunState>(runPaths(dir).checkpoints);
}

/** Saves checkpoint `data.state.serial` of the run; returns its folder. */
export function writeRunCheckpoint(dir: string, data: CheckpointData<RunState>): Promise<string> {
  return saveCheckpoint(runPaths(dir).checkpoints, data.state.serial, data);
}

/** One image's row of predictions.csv, as training writes it. */
export interface PredictionRow {
  file: string;
  /** The true class in the task's names (binary: covid, not-covid). */
  label: string;
  /** `holdout`: an image of a held-out source (written to holdout.csv, not predictions.csv). */
  split: 'val' | 'test' | 'holdout';
  predicted: string;
  /** Probability per class, in the task's class order. */
  probs: readonly number[];
  /** The dataset's class (covid, viral, normal). */
  originalLabel: string;
  /** Recorded in holdout.csv (held-out images are in no split.csv). */
  patientId?: string;
  source?: string;
}

/**
 * Writes predictions.csv (one row per validation and test image, a `prob_<class>` column per class) and,
 * when the run held sources out, holdout.csv (the same columns plus patient_id and source).
 */
export function writePredictions(dir: string, rows: readonly PredictionRow[], classes: readonly string[]): void {
  const probCols = classes.map((c) => `prob_${c}`);
  const csv = (p: PredictionRow) => {
    const r: Record<string, string | number> = { file: p.file, label: p.label, split: p.split, predicted: p.predicted };
    probCols.forEach((c, k) => (r[c] = p.probs[k]));
    r.original_label = p.originalLabel;
    r.patient_id = p.patientId ?? '';
    r.source = p.source ?? '';
    return r;
  };
  const columns = ['file', 'label', 'split', 'predicted', ...probCols, 'original_label'];
  const held = rows.filter((p) => p.split === 'holdout');
  if (held.length > 0) writeCsvAtomic(runPaths(dir).holdout, held.map(csv), [...columns, 'patient_id', 'source']);
  writeCsvAtomic(runPaths(dir).predictions, rows.filter((p) => p.split !== 'holdout').map(csv), columns);
}

/** One model output for one image: what every metric in lib/eval consumes. */
export interface Prediction {
  /** Image file (relative to the data folder), for tracing a prediction back to its image. */
  file: string;
  /** Patient the image belongs to; the bootstrap resamples patients, not images. */
  patientId: string;
  /** True class index, 0-based, into the task's class list. */
  label: number;
  /** Class probabilities in class-index order (sum to 1). */
  probs: number[];
}

/** What evaluation needs from a finished run folder. */
export interface RunFiles {
  dir: string;
  record: RunRecord;
  /** The task's classes in output order (binary: covid, not-covid). */
  classes: string[];
  split: SplitRow[];
  val: Prediction[];
  test: Prediction[];
  /** Images of held-out sources (none when the run held no source out). */
  holdout: (Prediction & { source: string })[];
  history: HistoryRow[];
}

/** True when the run finished: its model and predictions.csv are written. */
export function runComplete(dir: string): boolean {
  const paths = runPaths(dir);
  return fs.existsSync(paths.predictions) && fs.existsSync(path.join(paths.model, 'model.json'));
}

/**
 * The folder of a run's trained model.
 * @throws InputFileError when training has not written it yet.
 */
export function runModelDir(dir: string): string {
  const model = runPaths(dir).model;
  if (!fs.existsSync(path.join(model, 'model.json'))) {
    throw new InputFileError(dir, 'the run has no model yet (training not finished; see cxr train --resume)');
  }
  return model;
}

/** Rows of a predictions file; patient ids from `patients` (split.csv), else from the file's own column. */
function readPredictionRows(file: string, classes: readonly string[], patients: ReadonlyMap<string, string>): (Prediction & { split: string; source: string })[] {
  const probCols = classes.map((c) => `prob_${c}`);
  return readCsv(file, ['file', 'label', 'split', ...probCols]).map((r, i) => {
    const where = `${file}: line ${i + 2}`;
    const label = classes.indexOf(r.label);
    if (label < 0) throw new InputFileError(where, `label '${r.label}' is not one of ${classes.join(', ')}`);
    const patientId = patients.get(r.file) ?? (r.patient_id || undefined);
    if (patientId === undefined) throw new InputFileError(where, `${r.file} is not in the run's split.csv`);
    const probs = probCols.map((c) => Number(r[c]));
    if (probs.some((p) => !(p >= 0 && p <= 1))) throw new InputFileError(where, `probabilities must lie in [0, 1]`);
    return { file: r.file, patientId, label, probs, split: r.split, source: r.source ?? '' };
  });
}

function readPredictions(file: string, classes: readonly string[], patients: ReadonlyMap<string, string>): { val: Prediction[]; test: Prediction[] } {
  const out = { val: [] as Prediction[], test: [] as Prediction[] };
  for (const { split, source: _source, ...p } of readPredictionRows(file, classes, patients)) {
    if (split === 'val' || split === 'test') out[split].push(p);
  }
  return out;
}

/**
 * Reads a complete run: record, split, history and the val/test predictions (probabilities per class in
 * the task's order, patient ids from split.csv).
 * @throws InputFileError when the run is unfinished or one of its files is malformed.
 */
export function readRunFiles(dir: string): RunFiles {
  const record = readRunRecord(dir);
  const paths = runPaths(dir);
  const classes = [...taskSpec(record.config.task).classes];
  if (!fs.existsSync(paths.predictions)) throw new InputFileError(dir, 'the run has no predictions.csv yet (training not finished; see cxr train --resume)');
  const split = readRunSplit(dir);
  const { val, test } = readPredictions(paths.predictions, classes, new Map(split.map((r) => [r.file, r.patientId])));
  const history = fs.existsSync(paths.history) ? readHistory(dir) : [];
  const holdout = fs.existsSync(paths.holdout) ? readPredictionRows(paths.holdout, classes, new Map()).map(({ split: _s, ...p }) => p) : [];
  return { dir, record, classes, split, val, test, holdout, history };
}

/** Run folders under `runsDir` (those with a config.json), sorted by name. */
export function listRunDirs(runsDir: string): string[] {
  if (!fs.existsSync(runsDir)) return [];
  return fs
    .readdirSync(runsDir)
    .sort()
    .map((name) => path.join(runsDir, name))
    .filter((d) => fs.existsSync(runPaths(d).config));
}
