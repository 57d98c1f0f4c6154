/**
 * External evaluation: a trained run's model scored on any data folder in the usual layout (class folders,
 * optional manifest.csv). No training and no split: every image is a test image.
 */
import * as path from 'node:path';
import { taskLabelIndex } from '../data/labels';
import { scanDataset } from '../data/scan';
import type { Sample, ScanProblem } from '../data/types';
import { InputFileError } from '../errors';
import { loadRunModel, predictImages, runImageBatches, type BatchOptions, type RunModel } from '../train/run-model';
import { summarise, type EvaluationSummary } from './summary';
import type { BootstrapOptions } from './bootstrap';
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

/** A run scored on a folder. */
export interface FolderEvaluation {
  runDir: string;
  dataDir: string;
  classes: string[];
  predictions: Prediction[];
  summary: EvaluationSummary;
  /** Files the scan skipped, and why. */
  problems: ScanProblem[];
}

/** Options of {@link evaluateFolder}. */
export interface EvaluateOptions extends PredictOptions {
  /** Patient-bootstrap settings (default 2,000 resamples, seed 0), or false for point estimates only. */
  bootstrap?: BootstrapOptions | false;
}

/** Scores the run's model on every usable image of `dataDir` and summarises the result. */
export async function evaluateFolder(runDir: string, dataDir: string, opts: EvaluateOptions = {}): Promise<FolderEvaluation> {
  const root = path.resolve(dataDir);
  const rm = await loadRunModel(path.resolve(runDir));
  try {
    const dataset = await scanDataset(root);
    if (dataset.samples.length === 0) {
      throw new InputFileError(root, 'no usable images found (expected class folders covid/, viral/, normal/)');
    }
    const predictions = await predictSamples(rm, dataset.samples, opts);
    return {
      runDir: rm.dir,
      dataDir: root,
      classes: rm.classes,
      predictions,
      summary: summarise(predictions, rm.classes, { bootstrap: opts.bootstrap }),
      problems: dataset.problems,
    };
  } finally {
    rm.dispose();
  }
}
