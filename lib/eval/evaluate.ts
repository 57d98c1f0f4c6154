/**
 * A trained run scored on data: external evaluation on any data folders in the usual layout (class folders,
 * optional manifest.csv; several are merged), where every image is a test image, or the run's own test split;
 * overall and per source, age group or dataset.
 */
import * as path from 'node:path';
import { taskLabelIndex } from '../data/labels';
import type { Dataset, Sample, ScanProblem } from '../data/types';
import { CxrError, InputFileError } from '../errors';
import { readRunFiles } from '../train/run-folder';
import { loadRunModel, predictImages, runImageBatches, type BatchOptions, type RunModel } from '../train/run-model';
import { summarise, type EvaluationSummary } from './summary';
import type { BootstrapOptions } from './bootstrap';
import { groupMetrics, groupValue, type GroupKey, type GroupMetrics } from './groups';
import type { Prediction } from './types';

/** What scoring needs of a dataset sample. */
export type ImageSample = Pick<Sample, 'file' | 'path' | 'label' | 'patientId'>;

/** Options of {@link predictSamples}. */
export interface PredictOptions extends BatchOptions {
  /** Called after each batch with the number of images done. */
  onProgress?: (done: number, total: number) => void;
}

/** The model's predictions for dataset samples (labels mapped to the run's task). */
export async function predictSamples(rm: RunModel, samples: readonly ImageSample[], opts: PredictOptions = {}): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for await (const batch of runImageBatches(rm, samples.map((s) => s.path), opts)) {
    const probs = await predictImages(rm, batch.x, batch.n);
    probs.forEach((p, i) => {
      const s = samples[batch.offset + i];
      out.push({ file: s.file, patientId: s.patientId, label: taskLabelIndex(s.label, rm.config.task), probs: p });
    });
    opts.onProgress?.(out.length, samples.length);
  }
  return out;
}

/** A run scored on data: a folder (or several, merged) or its own test split. */
export interface Evaluation {
  runDir: string;
  /** The data folders the images come from. */
  data: string[];
  /** True when the images are the run's own test split (its stored predictions), not a folder's every image. */
  testSplit: boolean;
  classes: string[];
  predictions: Prediction[];
  summary: EvaluationSummary;
  /** Metrics per group for each requested key (see lib/eval/groups.ts). */
  by: Partial<Record<GroupKey, GroupMetrics[]>>;
  /** Files the scan skipped, and why. */
  problems: ScanProblem[];
}

/** Options of {@link evaluateDataset} and {@link evaluateRunTest}. */
export interface EvaluateOptions extends PredictOptions {
  /** Patient-bootstrap settings (default 2,000 resamples, seed 0), or false for point estimates only. */
  bootstrap?: BootstrapOptions | false;
  /** Also score per source, age group and/or dataset. */
  by?: readonly GroupKey[];
}

/**
 * Scores the run's model on every image of a scanned dataset (one folder, or several merged by `loadData`).
 * @throws InputFileError when the dataset has no usable image or the run is not finished
 * @example const r = await evaluateDataset('runs/r1', await loadData(['data/external']), { by: ['source'] });
 */
export async function evaluateDataset(runDir: string, dataset: Dataset, opts: EvaluateOptions = {}): Promise<Evaluation> {
  if (dataset.samples.length === 0) {
    throw new InputFileError(dataset.root, 'no usable images found (expected class folders covid/, viral/, normal/)');
  }
  const rm = await loadRunModel(path.resolve(runDir));
  try {
    const predictions = await predictSamples(rm, dataset.samples, opts);
    return evaluation(rm.dir, rm.classes, predictions, dataset, false, opts);
  } finally {
    rm.dispose();
  }
}

/**
 * The run's own test split, from the predictions training stored. Grouping needs each image's source and
 * age, so with `by` the run's data folders must be given, scanned (`dataset`).
 * @throws CxrError when `by` is asked without a dataset, or a test image is no longer in it
 */
export function evaluateRunTest(runDir: string, dataset: Dataset | null, opts: Omit<EvaluateOptions, keyof PredictOptions> = {}): Evaluation {
  const run = readRunFiles(path.resolve(runDir));
  if (run.test.length === 0) throw new InputFileError(run.dir, 'the run has no test predictions');
  return evaluation(run.dir, run.classes, run.test, dataset, true, opts, run.record.config.data);
}

function evaluation(
  runDir: string,
  classes: string[],
  predictions: Prediction[],
  dataset: Dataset | null,
  testSplit: boolean,
  opts: Pick<EvaluateOptions, 'bootstrap' | 'by'>,
  data = dataset?.folders.map((f) => f.dir) ?? [],
): Evaluation {
  const by: Evaluation['by'] = {};
  if (opts.by && opts.by.length > 0) {
    if (!dataset) throw new CxrError('grouping by source, age group or dataset needs the data folders the images come from');
    const samples = new Map(dataset.samples.map((s) => [s.file, s]));
    const sampleOf = (p: Prediction) => {
      const s = samples.get(p.file);
      if (!s) throw new CxrError(`${p.file}: not in ${data.join(' + ')} any more (was the data folder changed?)`);
      return s;
    };
    for (const key of opts.by) {
      by[key] = groupMetrics(predictions, (p) => groupValue(sampleOf(p), key), { classes, bootstrap: opts.bootstrap });
    }
  }
  return {
    runDir,
    data,
    testSplit,
    classes,
    predictions,
    summary: summarise(predictions, classes, { bootstrap: opts.bootstrap }),
    by,
    problems: dataset?.problems ?? [],
  };
}
