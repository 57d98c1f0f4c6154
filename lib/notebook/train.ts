/**
 * What the training notebooks (03–05) call: one backbone trained on both tasks with the same settings as
 * `npx cxr train`.
 */
import type { ClassMap, Task } from '../data/labels';
import { weightsAvailable } from '../models/registry';
import { registryBackbone } from '../train/backbone-source';
import { makeRunConfig, type ProfileName, type RecipeName } from '../train/config';
import { startRun, type RunResult } from '../train/run';

export interface TrainBothOptions {
  profile: ProfileName;
  /** Data folders (merged when several). */
  data: string[];
  /** Extra class folders read as a class, e.g. `{ pneumonia: 'viral' }`. */
  classMap?: ClassMap;
  /** `study` reproduces the published recipe; default `deconfounded`. */
  recipe?: RecipeName;
  /** Parent folder of the run folders. */
  out: string;
  seed?: number;
  quiet?: boolean;
}

export interface TrainedBackbone {
  model: string;
  /** ImageNet when its weights are cached, else random initialisation. */
  weights: 'imagenet' | 'none';
  /** One sentence saying which weights were used and why. */
  weightsNote: string;
  runs: { task: Task; run: RunResult }[];
}

/** Trains `model` on the binary and the 3-class task, each into a new run folder under `opts.out`; says first which weights it uses. */
export async function trainBothTasks(model: string, opts: TrainBothOptions): Promise<TrainedBackbone> {
  const source = registryBackbone(model);
  const weights = weightsAvailable(source.name) ? 'imagenet' : 'none';
  const weightsNote =
    weights === 'imagenet'
      ? `${source.name}: ImageNet weights from the cache.`
      : `${source.name}: ImageNet weights are not cached, so the backbone starts from random weights (weights 'none'); its results say nothing about the study's transfer learning. Fetch them with \`npx cxr weights fetch ${source.name}\` and rerun.`;
  if (!opts.quiet) console.log(weightsNote);
  const runs: TrainedBackbone['runs'] = [];
  for (const task of ['binary', 'multiclass'] as const) {
    const config = makeRunConfig({
      model: source.name, task, profile: opts.profile, data: opts.data, classMap: opts.classMap, recipe: opts.recipe, weights, seed: opts.seed,
      preprocess: source.preprocess, defaultInputSize: source.defaultInputSize, minInputSize: source.minInputSize,
    });
    runs.push({ task, run: await startRun(config, { out: opts.out, backbone: source, quiet: opts.quiet }) });
  }
  return { model: source.name, weights, weightsNote, runs };
}
