/**
 * A run's out-of-distribution gate (lib/eval/ood.ts) on its model's pooled features (`head_pool`): fitted once
 * on the train split, thresholded on the val split, and saved in the run folder as `ood.json` (settings,
 * mean, threshold, test-split false refusals) beside `ood.f32` (the precision matrix, float32 row-major), so
 * `cxr predict` and the page read the same gate. Both files carry a fingerprint of the model's files: a
 * retrained model gets a fresh gate. The feature cache is not reused: it holds the features of the backbone
 * before fine-tuning, and the final model's pooled features differ once a phase trains layers below the pool.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage } from '../data/decode';
import { dataFilePath } from '../data/merge';
import { CxrError, InputFileError, describeError } from '../errors';
import { compileInference, type InferenceModel } from '../graph/inference';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { HEAD_POOL_LAYER } from '../train/head';
import { readRunSplit } from '../train/run-folder';
import { modelInput, runImageBatches, type RunModel } from '../train/run-model';
import { colourShare, refusal } from './colour-gate';
import { fitOodGate, mahalanobis2, OOD_MARGIN, OOD_QUANTILE, type OodGate } from './ood';

/** What `ood.json` holds (the precision matrix is in `ood.f32`). */
export interface OodFile {
  version: 2;
  layer: string;
  dim: number;
  quantile: number;
  margin: number;
  threshold: number;
  shrinkage: number;
  mean: number[];
  /** sha256 of model.json and its weight files, in name order. */
  modelFingerprint: string;
  /** Images the gate was fitted (train) and thresholded (val) on. */
  train: number;
  val: number;
  /** The run's test split under the gate: images and how many it refused (false refusals: all are X-rays). */
  test: { n: number; refused: number };
}

/** A run's gate, ready to score (precision as stored, float32). */
export interface RunOod {
  gate: OodGate;
  file: OodFile;
}

export const OOD_JSON = 'ood.json';
export const OOD_MATRIX = 'ood.f32';

/** sha256 over the model folder's files (model.json and weight shards), so a retrained model is noticed. */
export function modelFingerprint(modelDir: string): string {
  const h = createHash('sha256');
  for (const name of fs.readdirSync(modelDir).sort()) {
    const file = path.join(modelDir, name);
    if (!fs.statSync(file).isFile()) continue;
    h.update(name).update(fs.readFileSync(file));
  }
  return h.digest('hex');
}

/** The output of the run's pooling layer, the gate's input. */
function pooled(rm: RunModel): tf.SymbolicTensor {
  const pool = rm.model.layers.find((l) => l.name === HEAD_POOL_LAYER);
  if (!pool) throw new CxrError(`${rm.dir}: the model has no '${HEAD_POOL_LAYER}' layer to fit an out-of-distribution gate on`);
  // Node 0 is the model's own call: Grad-CAM models built on the same layers add more.
  return pool.getOutputAt(0) as tf.SymbolicTensor;
}

/** The run's model cut after its pooling layer: image → pooled features. */
function featureModel(rm: RunModel): tf.LayersModel {
  return tf.model({ inputs: rm.model.inputs, outputs: pooled(rm) });
}

/**
 * The run's model with its pooled features as a second output, compiled: one pass per image gives both the
 * probabilities and the gate's input (pass it to `predictFile`, which then fills `features`).
 * @throws CxrError when the model has no pooling layer named `head_pool`
 */
export function gatedInference(rm: RunModel): InferenceModel {
  return compileInference(tf.model({ inputs: rm.model.inputs, outputs: [...rm.model.outputs, pooled(rm)] }));
}

/**
 * Pooled features (`head_pool` output) of image files through the run's input steps, one row per file.
 * @throws InputFileError naming the first image that cannot be read
 */
export async function runPooledFeatures(rm: RunModel, files: readonly string[]): Promise<Float32Array[]> {
  const inference = compileInference(featureModel(rm));
  const rows: Float32Array[] = [];
  try {
    for await (const batch of runImageBatches(rm, files)) {
      const x = modelInput(rm, batch.x, batch.n);
      const out = inference.predict(x) as tf.Tensor2D;
      const flat = (await out.data()) as Float32Array;
      const dim = out.shape[1];
      tf.dispose([x, out]);
      for (let i = 0; i < batch.n; i++) rows.push(flat.slice(i * dim, (i + 1) * dim));
    }
  } finally {
    inference.dispose();
  }
  return rows;
}

function readOod(dir: string, fingerprint: string): RunOod | null {
  const json = path.join(dir, OOD_JSON);
  const matrix = path.join(dir, OOD_MATRIX);
  if (!fs.existsSync(json) || !fs.existsSync(matrix)) return null;
  let file: OodFile;
  try {
    file = JSON.parse(fs.readFileSync(json, 'utf8')) as OodFile;
  } catch (err) {
    throw new InputFileError(json, `unreadable (${describeError(err)}); delete it to refit the gate`, { cause: err });
  }
  // Version 1 gates were thresholded at the quantile itself: refitted.
  if (file.version !== 2 || file.modelFingerprint !== fingerprint) return null;
  const buf = fs.readFileSync(matrix);
  if (buf.length !== file.dim * file.dim * 4) return null;
  const precision = new Float32Array(file.dim * file.dim);
  new Uint8Array(precision.buffer).set(buf);
  const gate: OodGate = { dim: file.dim, mean: Float64Array.from(file.mean), precision, shrinkage: file.shrinkage, threshold: file.threshold, quantile: file.quantile, margin: file.margin };
  return { gate, file };
}

/**
 * The colour test's share of an image file, decoded at full size as the page decodes it (colour-gate.ts).
 * @throws InputFileError when the file cannot be decoded
 */
export async function fileColourShare(file: string): Promise<number> {
  const img = await decodeImage(file, { warn: false });
  return colourShare(img.data, img.width * img.height);
}

/**
 * The run's gate: read from the run folder, or fitted (train features → Gaussian, val → threshold, test →
 * false refusals) and saved there when missing or made for another model. Fitting reads the run's data folders.
 * @param log progress lines (fitting runs the model over every split image once)
 * @throws InputFileError when a split image cannot be read
 */
export async function loadRunOod(rm: RunModel, log: (line: string) => void = () => undefined): Promise<RunOod> {
  const fingerprint = modelFingerprint(path.join(rm.dir, 'model'));
  const saved = readOod(rm.dir, fingerprint);
  if (saved) return saved;
  const rows = readRunSplit(rm.dir);
  const files = (split: string) => rows.filter((r) => r.split === split).map((r) => dataFilePath(rm.config.data, r.file));
  log(`fitting the out-of-distribution gate on ${rows.length} split images (once per run)`);
  const [train, val, test] = [await runPooledFeatures(rm, files('train')), await runPooledFeatures(rm, files('val')), await runPooledFeatures(rm, files('test'))];
  const testColours: number[] = [];
  for (const f of files('test')) testColours.push(await fileColourShare(f));
  const fitted = fitOodGate(train, val, OOD_QUANTILE, OOD_MARGIN);
  // Stored as float32 (what the page reads), and the distances below use the stored matrix, as every reader does.
  const precision = Float32Array.from(fitted.precision);
  const gate: OodGate = { ...fitted, precision };
  const file: OodFile = {
    version: 2, layer: HEAD_POOL_LAYER, dim: gate.dim, quantile: gate.quantile, margin: gate.margin, threshold: gate.threshold, shrinkage: gate.shrinkage,
    mean: Array.from(gate.mean), modelFingerprint: fingerprint, train: train.length, val: val.length,
    // Refused by either test, as cxr predict and the page refuse.
    test: { n: test.length, refused: test.filter((f, i) => refusal(testColours[i], mahalanobis2(gate, f), gate.threshold) !== null).length },
  };
  writeFileAtomic(path.join(rm.dir, OOD_MATRIX), new Uint8Array(precision.buffer));
  writeJsonAtomic(path.join(rm.dir, OOD_JSON), file);
  return { gate, file };
}
