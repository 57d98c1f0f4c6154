/**
 * A trained run's model with the exact input pipeline it was trained with (lib/train's decode → enhance →
 * resize, then the backbone's preprocessing), for scoring folders, occlusion tests and Grad-CAM.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { InputFileError } from '../errors';
import { compileInference, type InferenceModel } from '../graph/inference';
import { loadModel } from '../models/io';
import { preprocessInput } from '../models/preprocess';
import type { RunConfig } from '../train/config';
import '../train/head'; // registers SeededDropout for loading
import { ImagePool } from '../data/input/image-pool';
import { imageBatches, type ImageBatch } from '../data/input/pipeline';
import { readRunRecord } from '../train/run';
import { taskSpec, type TaskSpec } from '../train/tasks';

/** A run's best model, ready to score images. */
export interface RunModel {
  dir: string;
  config: RunConfig;
  task: TaskSpec;
  /** Class names in output order. */
  classes: string[];
  model: tf.LayersModel;
  /** `model` compiled for inference (a TensorFlow graph session on the native backend). */
  inference: InferenceModel;
  dispose(): void;
}

/** Loads `runs/<id>/model` with the run's configuration (selects the TF.js backend if none is yet). */
export async function loadRunModel(dir: string): Promise<RunModel> {
  const { config } = readRunRecord(dir);
  const modelDir = path.join(dir, 'model');
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    throw new InputFileError(dir, 'the run has no model yet (training not finished; see cxr train --resume)');
  }
  await initBackend({ quiet: true });
  const model = await loadModel(modelDir);
  const task = taskSpec(config.task);
  const inference = compileInference(model);
  return {
    dir, config, task, classes: [...task.classes], model, inference,
    dispose: () => {
      inference.dispose();
      model.dispose();
    },
  };
}

/** Options of {@link runImageBatches}. */
export interface BatchOptions {
  batchSize?: number;
  /** Image decoding threads (0: inline); default the run's `workers`. */
  workers?: number;
}

/**
 * The images at `paths` as the run's network saw them before preprocessing: batches of NHWC float32 RGB
 * 0–255 at the run's input size, in order.
 */
export async function* runImageBatches(rm: RunModel, paths: readonly string[], opts: BatchOptions = {}): AsyncGenerator<ImageBatch> {
  const pool = new ImagePool(opts.workers ?? rm.config.workers);
  try {
    const items = paths.map((p) => ({ path: p, augment: null }));
    const { inputSize, fit, enhance } = rm.config;
    yield* imageBatches(items, pool, { batchSize: opts.batchSize ?? 16, inputSize, fit, enhance });
  } finally {
    await pool.close();
  }
}

/** The network input for `n` images of RGB 0–255 values (the run's preprocessing applied). */
export function modelInput(rm: RunModel, x: Float32Array, n: number): tf.Tensor4D {
  const s = rm.config.inputSize;
  return tf.tidy(() => preprocessInput(tf.tensor4d(x, [n, s, s, 3]), rm.config.preprocess));
}

/** Class probabilities (task order) of `n` images of RGB 0–255 values. */
export async function predictImages(rm: RunModel, x: Float32Array, n: number): Promise<number[][]> {
  const out = tf.tidy(() => rm.inference.predict(modelInput(rm, x, n)) as tf.Tensor2D);
  const rows = (await out.array()) as number[][];
  out.dispose();
  return rows.map((r) => rm.task.probabilities(r));
}
