import * as path from 'node:path';
import { makeRunConfig, type PhaseConfig } from '../../lib/train/config';
import { startRun } from '../../lib/train/run';
import type { Task } from '../../lib/data/labels';
import { makeSyntheticDataset, tinySource } from '../train/helpers';

export { makeSyntheticDataset, tempDir } from '../train/helpers';

/**
 * A real run folder trained by lib/train's engine: the tiny test backbone on the synthetic data set (input 32,
 * a short head phase then fine-tuning from block1). Set CXR_CACHE to a temporary folder first.
 */
export async function trainTinyRun(data: string, runs: string, id: string, task: Task, seed = 3): Promise<string> {
  const phases: PhaseConfig[] = [
    { epochs: 30, learningRate: 3e-2, batchSize: 8, trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, earlyStopping: null, reduceLr: null },
    { epochs: 3, learningRate: 3e-3, batchSize: 8, trainAfter: 'block1_out', frozen: 'cache', views: 0, augment: false, earlyStopping: null, reduceLr: null },
  ];
  const config = makeRunConfig({
    model: 'tiny', task, profile: 'tiny', data: [data], recipe: 'study', weights: 'none', seed, inputSize: 32, preprocess: 'tf',
    defaultInputSize: 32, workers: 0, phases, limit: null,
  });
  const r = await startRun(config, { out: runs, id, backbone: tinySource(), quiet: true });
  return r.dir;
}

/** A synthetic data set of `perClass` images per class under `root/data`. */
export function syntheticData(root: string, perClass: number, seed = 1): Promise<string> {
  return makeSyntheticDataset(path.join(root, 'data'), perClass, seed);
}
