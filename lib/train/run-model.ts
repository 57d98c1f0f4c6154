/**
 * A trained run's model with the exact input pipeline it was trained with (lib/data/input's decode → enhance →
 * resize, then the backbone's preprocessing): the one way to load a run for inference, used by `cxr predict`,
 * `cxr evaluate`, the occlusion test, Grad-CAM and the report, so they all see what training saw.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { ImagePool } from '../data/input/image-pool';
import { lungMaskView } from '../data/input/images';
import { imageBatches, type ImageBatch } from '../data/input/pipeline';
import { compileInference, type InferenceModel } from '../graph/inference';
import { loadModel } from '../models/io';
import { preprocessInput } from '../models/preprocess';
import type { MaskSource } from '../segment/mask-cache';
import type { RunConfig } from './config';
import './head'; // registers SeededDropout for loading
import { masksOfFiles, runMaskSource } from './lung-masks';
import { readRunRecord, runModelDir } from './run-folder';
import { predictedClass, taskSpec, type TaskSpec } from './tasks';

/** A run's best model, ready to score images. */
export interface RunModel {
  dir: string;
  config: RunConfig;
  task: TaskSpec;
  /** Class names in output order. */
  classes: string[];
  model: tf.LayersModel;
  /**
   * `model` compiled for inference (a TensorFlow graph session on the native backend). Compiled on first use, so
   * a caller that runs its own compiled form (the OOD gate's two-output graph) does not compile this one too.
   */
  readonly inference: InferenceModel;
  /** The segmenter whose masks restrict the run's inputs to the lungs (null or absent when the run does not). */
  lungs?: MaskSource | null;
  dispose(): void;
}

/**
 * Loads `runs/<id>/model` with the run's configuration (selects the TF.js backend if none is yet).
 * @throws InputFileError when `dir` is not a run folder or its training has not finished.
 * @example
 * const rm = await loadRunModel('runs/r1');
 * try { console.log(await predictFile(rm, 'x.png')); } finally { rm.dispose(); }
 */
export async function loadRunModel(dir: string): Promise<RunModel> {
  const record = readRunRecord(dir);
  const { config } = record;
  const modelDir = runModelDir(dir);
  await initBackend({ quiet: true });
  const model = await loadModel(modelDir);
  const task = taskSpec(config.task);
  let inference: InferenceModel | undefined;
  const lungs = await runMaskSource(record, dir);
  return {
    dir, config, task, classes: [...task.classes], model, lungs,
    get inference() {
      return (inference ??= compileInference(model));
    },
    dispose: () => {
      inference?.dispose();
      model.dispose();
      lungs?.dispose();
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
 * @throws InputFileError naming the first image that cannot be read.
 */
export async function* runImageBatches(rm: RunModel, paths: readonly string[], opts: BatchOptions = {}): AsyncGenerator<ImageBatch> {
  // The run's own lung masks (made now for images it has not seen), before any worker reads an image.
  const lungMasks = rm.lungs ? await masksOfFiles(paths, rm.lungs) : undefined;
  const pool = new ImagePool(opts.workers ?? rm.config.workers);
  try {
    const items = paths.map((p) => ({ path: p, augment: null }));
    // The run's own input steps (lungs, border crop, format normalisation), so every use of its model sees what training saw.
    const { inputSize, fit, enhance, prep } = rm.config;
    yield* imageBatches(items, pool, { batchSize: opts.batchSize ?? 16, inputSize, fit, enhance, prep, lungMasks });
  } finally {
    await pool.close();
  }
}

/**
 * A lung mask (a cached mask file of the image at `file`) on the run's view of that image: `inputSize²`, 0/255,
 * through the same lung crop, border crop and resize as the run's input (see lungMaskView).
 * @throws InputFileError naming the image or the mask file when either cannot be read.
 */
export function runLungMaskView(rm: RunModel, file: string, maskFile: string): Promise<Uint8Array> {
  const { inputSize, fit, enhance, prep } = rm.config;
  return lungMaskView({ path: file, inputSize, fit, enhance, augment: null, prep }, maskFile);
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

/** One image's class probabilities under a trained run's model. */
export interface ImagePrediction {
  file: string;
  predicted: string;
  /** Probability per class, in the task's class order. */
  probabilities: Record<string, number>;
  /** The second output's values, when the inference model has one (the pooled features of eval/ood-run's `gatedInference`). */
  features?: Float32Array;
}

/**
 * Scores one image file (read on this thread, so a bad file fails alone and fast).
 * @param file path as the user gave it (echoed back in the result)
 * @param inference the run's model compiled (default), or a version of it with more outputs after the probabilities
 * @throws InputFileError when the image cannot be decoded.
 */
export async function predictFile(rm: RunModel, file: string, inference: InferenceModel = rm.inference): Promise<ImagePrediction> {
  let outputs: Float32Array[] = [];
  for await (const batch of runImageBatches(rm, [path.resolve(file)], { batchSize: 1, workers: 0 })) {
    const ys = [tf.tidy(() => inference.predict(modelInput(rm, batch.x, batch.n)))].flat();
    outputs = await Promise.all(ys.map(async (y) => (await y.data()) as Float32Array));
    tf.dispose(ys);
  }
  const probs = rm.task.probabilities(Array.from(outputs[0]));
  return {
    file,
    predicted: predictedClass(rm.task, probs),
    probabilities: Object.fromEntries(rm.classes.map((c, i) => [c, probs[i]])),
    ...(outputs.length > 1 ? { features: outputs[1] } : {}),
  };
}
