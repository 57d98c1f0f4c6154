/**
 * Everything the report shows, computed from run folders (and the data folders they name): a plain data
 * object, so notebooks can use the same numbers and figures as the report.
 */
import { createHash } from 'node:crypto';
import type { GeneralisationRun } from './generalisation';
import { describeRecipe, type RunConfig } from '../train/config';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LABELS, type Task } from '../data/labels';
import { loadData } from '../data/merge';
import { readSplitCsv } from '../data/split';
import { summarize, type DataSummary } from '../data/summary';
import type { Dataset, Sample } from '../data/types';
import { applyTemperature, fitTemperatureToPredictions, topLabelReliability, type Reliability, type TemperatureFit } from '../eval/calibration';
import { listRunDirs, readRunFiles, runComplete, type RunFiles, type SplitRow } from '../train/run-folder';
import { shortcutAudit, type ImageMeta, type ShortcutAudit } from '../eval/shortcut';
import { summarise, type EvaluationSummary } from '../eval/summary';
import { describeError } from '../errors';
import { taskLabel } from '../train/tasks';
import { runAnalysis, type RunAnalysis } from './analysis';
import { BACKBONE_DISPLAY } from './study-numbers';

/** One finished run's results. */
export interface RunResult {
  run: RunFiles;
  id: string;
  model: string;
  task: Task;
  /** e.g. "ResNet-50 · 3-class". */
  label: string;
  val: EvaluationSummary;
  test: EvaluationSummary;
  /** Temperature fitted on validation; reliability of the test predictions before and after it. */
  calibration: { fit: TemperatureFit; before: Reliability; after: Reliability };
  /** Occlusion and Grad-CAM (null when not computed or when it failed: see `analysisError`). */
  analysis: RunAnalysis | null;
  analysisError?: string;
}

/** Images and patients per class in each split of one split.csv. */
export interface SplitCounts {
  /** Runs using this split. */
  runs: string[];
  rows: { split: 'train' | 'val' | 'test'; images: Record<string, number>; patients: number; imagesTotal: number }[];
}

/** The metadata-only baseline for one task on one split. */
export interface ShortcutEntry {
  task: Task;
  dataDir: string;
  runs: string[];
  audit: ShortcutAudit;
}

/** A data folder the runs used. */
export interface DataEntry {
  dataDir: string;
  summary: DataSummary | null;
  /** Why the folder could not be summarised (e.g. it is gone). */
  error?: string;
}

export interface StudyData {
  generatedAt: string;
  runsDir: string;
  runs: RunResult[];
  /** Run folders that are not finished (or unreadable), and why. */
  skipped: { dir: string; reason: string }[];
  data: DataEntry[];
  splits: SplitCounts[];
  shortcuts: ShortcutEntry[];
  /** Held-out-source scores and the internal test by source (see generalisation.ts). */
  generalisation: GeneralisationRun[];
}

/** Options of {@link collectStudy}. */
export interface CollectOptions {
  /** Compute (or reuse) the occlusion and Grad-CAM analyses, which need the models (default true). */
  analysis?: boolean;
  /** Bootstrap resamples for every CI (default 2,000). */
  resamples?: number;
  quiet?: boolean;
}

/** Display label of a run. */
export function runLabel(model: string, task: Task): string {
  return `${BACKBONE_DISPLAY[model] ?? model} · ${task === 'binary' ? 'binary' : '3-class'}`;
}

/**
 * What sets a run apart from its backbone's main run, for labels: its held-out sources, its fold, its recipe
 * when not the default. Empty for a main run.
 * @example runVariant(config) // ' (held out ieee8023; deconfounded − jitter)'
 */
export function runVariant(c: RunConfig): string {
  const recipe = describeRecipe(c);
  const parts = [
    ...(c.holdout.length ? [`held out ${c.holdout.join(', ')}`] : []),
    ...(c.fold ? [`fold ${c.fold.index + 1}/${c.fold.k}`] : []),
    // A plain recipe is the main runs' own; a modified one, or any recipe of a held-out or fold run, is named.
    ...(/ [−+] /.test(recipe) || ((c.holdout.length > 0 || c.fold) && recipe !== 'deconfounded') ? [recipe] : []),
  ];
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function splitCounts(rows: readonly SplitRow[]): SplitCounts['rows'] {
  return (['train', 'val', 'test'] as const).map((split) => {
    const own = rows.filter((r) => r.split === split);
    const images = Object.fromEntries(LABELS.map((l) => [l, own.filter((r) => r.label === l).length]));
    return { split, images, patients: new Set(own.map((r) => r.patientId)).size, imagesTotal: own.length };
  });
}

const TASK_ORDER: Record<string, number> = { binary: 0, multiclass: 1 };
const MODEL_ORDER = ['nasnetmobile', 'inceptionresnetv2', 'resnet101', 'resnet50'];

/** Reads every finished run under `runsDir` and computes the report's numbers. */
export async function collectStudy(runsDir: string, opts: CollectOptions = {}): Promise<StudyData> {
  const resamples = opts.resamples ?? 2000;
  const bootstrap = { resamples, seed: 0 };
  const runs: RunResult[] = [];
  const skipped: StudyData['skipped'] = [];
  for (const dir of listRunDirs(runsDir)) {
    if (!runComplete(dir)) {
      skipped.push({ dir, reason: 'not finished (no model or predictions yet)' });
      continue;
    }
    let run: RunFiles;
    try {
      run = readRunFiles(dir);
    } catch (err) {
      skipped.push({ dir, reason: describeError(err) });
      continue;
    }
    if (run.val.length === 0 || run.test.length === 0) {
      skipped.push({ dir, reason: 'no validation or no test predictions' });
      continue;
    }
    const { model, task } = run.record.config;
    const fit = fitTemperatureToPredictions(run.val);
    const result: RunResult = {
      run,
      id: run.record.id,
      model,
      task,
      label: runLabel(model, task) + runVariant(run.record.config),
      val: summarise(run.val, run.classes, { bootstrap }),
      test: summarise(run.test, run.classes, { bootstrap }),
      calibration: { fit, before: topLabelReliability(run.test), after: topLabelReliability(applyTemperature(run.test, fit.temperature)) },
      analysis: null,
    };
    // Held-out-source and cross-validation runs are scored on their images; their model analyses would repeat the main run's.
    if ((opts.analysis ?? true) && run.record.config.holdout.length === 0 && !run.record.config.fold) {
      try {
        result.analysis = await runAnalysis(dir, { resamples, quiet: opts.quiet });
      } catch (err) {
        result.analysisError = describeError(err);
      }
    }
    runs.push(result);
  }
  runs.sort(
    (a, b) =>
      TASK_ORDER[a.task] - TASK_ORDER[b.task] ||
      (MODEL_ORDER.indexOf(a.model) + 1 || 99) - (MODEL_ORDER.indexOf(b.model) + 1 || 99) ||
      a.id.localeCompare(b.id),
  );

  // Data folders, splits and the metadata baseline (once per data folder, split and task).
  const datasets = new Map<string, Dataset | string>();
  const data: DataEntry[] = [];
  const dataKey = (c: RunConfig) => JSON.stringify([c.data, c.classMap]);
  for (const key of [...new Set(runs.map((r) => dataKey(r.run.record.config)))]) {
    const { data: dirs, classMap } = runs.find((r) => dataKey(r.run.record.config) === key)!.run.record.config;
    const dataDir = dirs.join(' + ');
    try {
      for (const dir of dirs) if (!fs.existsSync(dir)) throw new Error(`${dir}: data folder not found`);
      const ds = await loadData(dirs, { classMap, perceptual: false });
      datasets.set(key, ds);
      data.push({ dataDir, summary: summarize(ds) });
    } catch (err) {
      datasets.set(key, describeError(err));
      data.push({ dataDir, summary: null, error: describeError(err) });
    }
  }
  const splitKey = (r: RunResult) => createHash('sha256').update(fs.readFileSync(path.join(r.run.dir, 'split.csv'))).digest('hex');
  const splits = new Map<string, SplitCounts>();
  const shortcuts = new Map<string, ShortcutEntry>();
  for (const r of runs) {
    const key = splitKey(r);
    const counts = splits.get(key) ?? { runs: [], rows: splitCounts(r.run.split) };
    counts.runs.push(r.id);
    splits.set(key, counts);
    const ds = datasets.get(dataKey(r.run.record.config));
    if (typeof ds !== 'object') continue;
    const skey = `${key}:${r.task}`;
    const existing = shortcuts.get(skey);
    if (existing) {
      existing.runs.push(r.id);
      continue;
    }
    let split;
    try {
      split = readSplitCsv(path.join(r.run.dir, 'split.csv'), ds);
    } catch {
      continue; // the data folder changed since the run: no baseline on a different split
    }
    const meta = (samples: readonly Sample[]): ImageMeta[] => samples.map((s) => ({ ...s, label: taskLabel(r.task, s.label) }));
    const audit = shortcutAudit({ train: meta(split.train), val: meta(split.val), test: meta(split.test) }, r.run.classes);
    shortcuts.set(skey, { task: r.task, dataDir: r.run.record.config.data.join(' + '), runs: [r.id], audit });
  }
  const generalisation: GeneralisationRun[] = runs.map((r) => {
    const ds = datasets.get(dataKey(r.run.record.config));
    const sources = typeof ds === 'object' ? Object.fromEntries(ds.samples.map((s) => [s.file, s.source])) : {};
    const { model, task, holdout } = r.run.record.config;
    return { id: r.id, model, task, classes: r.run.classes, holdout, recipe: describeRecipe(r.run.record.config), test: r.run.test, held: r.run.holdout, sources };
  });
  return {
    generatedAt: new Date().toISOString(),
    runsDir: path.resolve(runsDir),
    runs,
    skipped,
    data,
    splits: [...splits.values()],
    shortcuts: [...shortcuts.values()],
    generalisation,
  };
}
