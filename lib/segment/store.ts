import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CxrError } from '../errors';
import { writeDirAtomic } from '../io/atomic';

/** A tensor with its name, as encodeWeights and the optimizers' getWeights use. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Where a segmenter lives on disk: `model/` (TF.js layers format: model.json + weights.bin, readable on any
 * backend) and `checkpoint/` (weights, Adam's moments and the loop's state after the last finished epoch).
 * Both folders are written under a temporary name and renamed into place, so a kill never leaves half of one.
 */

const MODEL = 'model';
const CHECKPOINT = 'checkpoint';

async function writeTensors(dir: string, group: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  fs.writeFileSync(path.join(dir, `${group}.bin`), new Uint8Array(data));
  fs.writeFileSync(path.join(dir, `${group}.json`), JSON.stringify(specs));
}

function readTensors(dir: string, group: string): NamedTensor[] {
  const specs = JSON.parse(fs.readFileSync(path.join(dir, `${group}.json`), 'utf8')) as tf.io.WeightsManifestEntry[];
  const buf = fs.readFileSync(path.join(dir, `${group}.bin`));
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}

/** Saves a model as `<dir>/model/{model.json,weights.bin}`. */
export async function saveModel(dir: string, model: tf.LayersModel): Promise<void> {
  await writeDirAtomic(path.join(dir, MODEL), async (tmp) => {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        fs.writeFileSync(path.join(tmp, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
        const json = { modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
        fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  });
}

/** True when `dir` holds a saved model. */
export function hasModel(dir: string): boolean {
  return fs.existsSync(path.join(dir, MODEL, 'model.json'));
}

/**
 * The identity of the model saved in `dir`: a hash of its topology and weights, so masks cached under it are
 * reused exactly while the same model made them, wherever its folder lives.
 * @throws CxrError when `dir` holds no saved model.
 * @example modelId('.cache/segment/8c8e0185f559fc97') // 'unet-3f9a…' (16 hex digits)
 */
export function modelId(dir: string): string {
  const folder = path.join(dir, MODEL);
  try {
    const h = crypto.createHash('sha256');
    for (const f of ['model.json', 'weights.bin']) h.update(fs.readFileSync(path.join(folder, f)));
    return `unet-${h.digest('hex').slice(0, 16)}`;
  } catch (err) {
    throw new CxrError(`${folder}: no readable segmentation model (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/**
 * Loads `<dir>/model/`.
 * @throws CxrError naming the folder when it holds no readable model.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const folder = path.join(dir, MODEL);
  try {
    const json = JSON.parse(fs.readFileSync(path.join(folder, 'model.json'), 'utf8'));
    const buf = fs.readFileSync(path.join(folder, 'weights.bin'));
    const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
    );
  } catch (err) {
    throw new CxrError(`${folder}: no readable segmentation model (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
}

/** What a checkpoint restores. */
export interface Checkpoint<S> {
  state: S;
  weights: NamedTensor[];
  optimizer: NamedTensor[];
}

/** Replaces `<dir>/checkpoint/` with the model's weights, the optimizer's state and `state`. */
export async function saveCheckpoint<S>(dir: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: S): Promise<void> {
  const weights = model.weights.map((w) => ({ name: w.name, tensor: w.read() }));
  const slots = await optimizer.getWeights();
  await writeDirAtomic(path.join(dir, CHECKPOINT), async (tmp) => {
    await writeTensors(tmp, 'weights', weights);
    await writeTensors(tmp, 'optimizer', slots);
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(state, null, 1));
  });
}

/**
 * The checkpoint in `dir`, or null when there is none.
 * @throws CxrError when a checkpoint exists but cannot be read.
 */
export function loadCheckpoint<S>(dir: string): Checkpoint<S> | null {
  const folder = path.join(dir, CHECKPOINT);
  if (!fs.existsSync(path.join(folder, 'state.json'))) return null;
  try {
    return {
      state: JSON.parse(fs.readFileSync(path.join(folder, 'state.json'), 'utf8')) as S,
      weights: readTensors(folder, 'weights'),
      optimizer: readTensors(folder, 'optimizer'),
    };
  } catch (err) {
    throw new CxrError(`${folder}: unreadable checkpoint (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
}
