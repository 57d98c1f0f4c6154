/**
 * Several trained runs scored on the same data folder and compared pair by pair (`cxr compare`): DeLong,
 * McNemar and the accuracy difference per pair; per run, the operating point whose threshold comes from the
 * run's own validation predictions, and its decision curve.
 */
import * as path from 'node:path';
import { scanDataset } from '../data/scan';
import type { ScanProblem } from '../data/types';
import { CxrError, describeError, InputFileError, UsageError } from '../errors';
import { readRunFiles } from '../train/run-folder';
import { loadRunModel } from '../train/run-model';
import type { BootstrapOptions } from './bootstrap';
import { comparisonJson, pairwiseComparisons, type PairwiseComparison } from './compare';
import { decisionCurve, type DecisionCurve } from './decision-curve';
import { predictSamples, type PredictOptions } from './evaluate';
import { operatingPoint, type OperatingPoint, type OperatingPointOptions } from './operating-point';
import type { Estimate, Prediction } from './types';

/** One run's predictions of the folder and what follows from them alone. */
export interface ComparedRun {
  name: string;
  dir: string;
  model: string;
  task: string;
  predictions: Prediction[];
  /** Threshold from the run's validation split, measured on the folder; or why there is none. */
  operatingPoint: OperatingPoint | { error: string };
  /** Net benefit of the positive class (COVID) on the folder. */
  decisionCurve: DecisionCurve;
}

/** The result of {@link compareRunsOnFolder}. */
export interface FolderComparison {
  dataDir: string;
  classes: string[];
  runs: ComparedRun[];
  pairs: PairwiseComparison[];
  problems: ScanProblem[];
}

/** Options of {@link compareRunsOnFolder}. */
export interface CompareRunsOptions extends Omit<PredictOptions, 'onProgress'>, Pick<OperatingPointOptions, 'targetSensitivity' | 'prevalences'> {
  /** Patient-bootstrap settings for every CI (default 2,000 resamples, seed 0), or false. */
  bootstrap?: BootstrapOptions | false;
  /** Progress of scoring run `name`. */
  onProgress?: (name: string, done: number, total: number) => void;
}

/** Short unique names for runs: folder names, or the paths as given where two folders share a name. */
export function runNames(dirs: readonly string[]): string[] {
  const base = dirs.map((d) => path.basename(path.resolve(d)));
  return base.map((b, i) => (base.indexOf(b) !== base.lastIndexOf(b) ? dirs[i] : b));
}

/**
 * Scores every run on every usable image of `dataDir` and compares them pairwise.
 * @param runDirs two or more finished run folders of the same task
 * @param dataDir a data folder in the usual layout (class folders, optional manifest.csv)
 * @throws UsageError with fewer than two runs; CxrError when the runs' tasks differ or the folder has no images
 * @example const r = await compareRunsOnFolder(['runs/a', 'runs/b'], 'data/external'); r.pairs[0].delong.p
 */
export async function compareRunsOnFolder(runDirs: readonly string[], dataDir: string, opts: CompareRunsOptions = {}): Promise<FolderComparison> {
  if (runDirs.length < 2) throw new UsageError(`compare needs at least two runs, got ${runDirs.length}`);
  const names = runNames(runDirs);
  const files = runDirs.map((d) => readRunFiles(path.resolve(d)));
  const tasks = new Set(files.map((f) => f.record.config.task));
  if (tasks.size > 1) {
    throw new CxrError(`the runs solve different tasks (${files.map((f, i) => `${names[i]}: ${f.record.config.task}`).join(', ')}); compare runs of one task`);
  }
  const root = path.resolve(dataDir);
  const dataset = await scanDataset(root);
  if (dataset.samples.length === 0) throw new InputFileError(root, 'no usable images found (expected class folders covid/, viral/, normal/)');
  const classes = files[0].classes;
  const bootstrap = opts.bootstrap;
  const runs: ComparedRun[] = [];
  for (const [i, run] of files.entries()) {
    const rm = await loadRunModel(run.dir);
    let predictions: Prediction[];
    try {
      predictions = await predictSamples(rm, dataset.samples, { ...opts, onProgress: (done, total) => opts.onProgress?.(names[i], done, total) });
    } finally {
      rm.dispose();
    }
    let point: ComparedRun['operatingPoint'];
    try {
      point = operatingPoint(run.val, predictions, { targetSensitivity: opts.targetSensitivity, prevalences: opts.prevalences, bootstrap });
    } catch (err) {
      if (!(err instanceof CxrError)) throw err;
      point = { error: describeError(err) };
    }
    runs.push({
      name: names[i],
      dir: run.dir,
      model: run.record.config.model,
      task: run.record.config.task,
      predictions,
      operatingPoint: point,
      decisionCurve: decisionCurve(predictions.map((p) => p.label === 0), predictions.map((p) => p.probs[0])),
    });
  }
  return {
    dataDir: root,
    classes,
    runs,
    pairs: pairwiseComparisons(runs, classes, { bootstrap }),
    problems: dataset.problems,
  };
}

const num = (x: number) => (Number.isFinite(x) ? x : null);
const withCi = (key: string, e: Estimate) => ({ [key]: num(e.point), [`${key}_ci`]: e.ci?.map(num) ?? null });

function operatingPointJson(run: ComparedRun, classes: readonly string[]): Record<string, unknown> {
  const o = run.operatingPoint;
  if ('error' in o) return { run: run.name, error: o.error };
  return {
    run: run.name,
    class: classes[o.positiveClass],
    target_sensitivity: o.targetSensitivity,
    threshold: o.threshold,
    val_sensitivity: num(o.val.sensitivity),
    val_specificity: num(o.val.specificity),
    ...withCi('sensitivity', o.test.sensitivity),
    ...withCi('specificity', o.test.specificity),
    counts: { tp: o.test.tp, fn: o.test.fn, tn: o.test.tn, fp: o.test.fp },
    predictive_values: o.predictiveValues.map((v) => ({ prevalence: v.prevalence, ...withCi('ppv', v.ppv), ...withCi('npv', v.npv) })),
  };
}

/**
 * The comparison as one JSON object. With two runs it is that pair's {@link comparisonJson} (`delong`,
 * `mcnemar`, `accuracy_diff`, …) plus `operating_points`; with more, `{ pairs: [...], operating_points }`.
 */
export function folderComparisonJson(r: FolderComparison): Record<string, unknown> {
  const operating_points = r.runs.map((run) => operatingPointJson(run, r.classes));
  const head = { data: r.dataDir, classes: r.classes };
  if (r.pairs.length === 1) return { ...head, ...comparisonJson(r.pairs[0]), operating_points };
  return { ...head, pairs: r.pairs.map(comparisonJson), operating_points };
}
