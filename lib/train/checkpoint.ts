/**
 * Checkpoints that survive a kill at any moment: `checkpoints/epoch-<n>/` folders, each written under a
 * temporary name and renamed into place, plus a `checkpoints/latest` pointer replaced atomically after the
 * folder exists. The previous checkpoint stays intact and findable; older folders are removed only after the
 * pointer moved on. Tensors are stored in the TensorFlow.js weights format (`<group>.json` manifest +
 * `<group>.bin`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CxrError } from '../errors';
import { writeDirAtomic, writeFileAtomic } from '../io/atomic';

/** Named tensors of one checkpoint group (model weights, optimizer slots, best weights). */
export type TensorGroup = { name: string; tensor: tf.Tensor }[];

export interface CheckpointData<S> {
  state: S;
  groups: Record<string, TensorGroup>;
}

const POINTER = 'latest';

function checkpointName(serial: number): string {
  return `epoch-${String(serial).padStart(5, '0')}`;
}

/** Writes checkpoint `serial` (a number that grows with every save) and makes it the latest. */
export async function saveCheckpoint<S>(dir: string, serial: number, data: CheckpointData<S>): Promise<string> {
  const name = checkpointName(serial);
  const target = path.join(dir, name);
  await writeDirAtomic(target, async (tmp) => {
    for (const [group, tensors] of Object.entries(data.groups)) {
      const { data: bytes, specs } = await tf.io.encodeWeights(tensors);
      fs.writeFileSync(path.join(tmp, `${group}.bin`), new Uint8Array(bytes));
      fs.writeFileSync(path.join(tmp, `${group}.json`), JSON.stringify([{ paths: [`${group}.bin`], weights: specs }]));
    }
    fs.writeFileSync(path.join(tmp, 'state.json'), JSON.stringify(data.state, null, 1));
  });
  writeFileAtomic(path.join(dir, POINTER), name + '\n');
  for (const old of fs.readdirSync(dir)) {
    if (old !== name && old !== POINTER && /^epoch-\d+$/.test(old)) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
  }
  return target;
}

function readCheckpoint<S>(folder: string): CheckpointData<S> {
  const state = JSON.parse(fs.readFileSync(path.join(folder, 'state.json'), 'utf8')) as S;
  const groups: Record<string, TensorGroup> = {};
  for (const f of fs.readdirSync(folder)) {
    if (!f.endsWith('.json') || f === 'state.json') continue;
    const group = f.slice(0, -'.json'.length);
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')) as tf.io.WeightsManifestConfig;
    const buf = fs.readFileSync(path.join(folder, `${group}.bin`));
    const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const map = tf.io.decodeWeights(bytes, manifest[0].weights);
    groups[group] = manifest[0].weights.map((s) => ({ name: s.name, tensor: map[s.name] }));
  }
  return { state, groups };
}

/**
 * The latest complete checkpoint in `dir`, or null when there is none. Falls back to the newest
 * complete folder when the pointer is missing or names a folder that is gone.
 */
export function loadLatestCheckpoint<S>(dir: string): { folder: string; data: CheckpointData<S> } | null {
  if (!fs.existsSync(dir)) return null;
  const candidates: string[] = [];
  try {
    candidates.push(fs.readFileSync(path.join(dir, POINTER), 'utf8').trim());
  } catch {
    // no pointer yet: fall through to the folders
  }
  const folders = fs.readdirSync(dir).filter((f) => /^epoch-\d+$/.test(f)).sort().reverse();
  candidates.push(...folders);
  for (const name of candidates) {
    const folder = path.join(dir, name);
    if (!fs.existsSync(path.join(folder, 'state.json'))) continue;
    try {
      return { folder, data: readCheckpoint<S>(folder) };
    } catch (err) {
      throw new CxrError(`${folder}: unreadable checkpoint (${(err as Error).message.split('\n')[0]})`, { cause: err });
    }
  }
  return null;
}
