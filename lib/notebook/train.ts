/**
 * What the training notebooks call: one backbone trained on both tasks (03–05), or one recipe on one task,
 * optionally holding sources out (07), with the same settings as `npx cxr train`.
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

/** The weights a notebook run of `model` starts from: ImageNet when cached, else random, with one sentence why. */
function chooseWeights(model: string): Pick<TrainedBackbone, 'model' | 'weights' | 'weightsNote'> & { source: ReturnType<typeof registryBackbone> } {
  const source = registryBackbone(model);
  const weights = weightsAvailable(source.name) ? 'imagenet' : 'none';
  const weightsNote =
    weights === 'imagenet'
      ? `${source.name}: ImageNet weights from the cache.`
      : `${source.name}: ImageNet weights are not cached, so the backbone starts from random weights (weights 'none'); its results say nothing about the study's transfer learning. Fetch them with \`npx cxr weights fetch ${source.name}\` and rerun.`;
  return { source, model: source.name, weights, weightsNote };
}

async function trainTask(chosen: ReturnType<typeof chooseWeights>, task: Task, opts: TrainBothOptions & { holdout?: string[] }): Promise<RunResult> {
  const { source, weights } = chosen;
  const config = makeRunConfig({
    model: source.name, task, profile: opts.profile, data: opts.data, classMap: opts.classMap, recipe: opts.recipe, holdout: opts.holdout, weights, seed: opts.seed,
    preprocess: source.preprocess, defaultInputSize: source.defaultInputSize, minInputSize: source.minInputSize,
  });
  return startRun(config, { out: opts.out, backbone: source, quiet: opts.quiet });
}

/** Trains `model` on the binary and the 3-class task, each into a new run folder under `opts.out`; says first which weights it uses. */
export async function trainBothTasks(model: string, opts: TrainBothOptions): Promise<TrainedBackbone> {
  const chosen = chooseWeights(model);
  if (!opts.quiet) console.log(chosen.weightsNote);
  const runs: TrainedBackbone['runs'] = [];
  for (const task of ['binary', 'multiclass'] as const) runs.push({ task, run: await trainTask(chosen, task, opts) });
  return { model: chosen.model, weights: chosen.weights, weightsNote: chosen.weightsNote, runs };
}

/** Options of {@link trainRecipe}: those of {@link trainBothTasks}, one task, and the sources to hold out. */
export interface TrainRecipeOptions extends TrainBothOptions {
  task: Task;
  /** Sources held out entirely (matched as `cxr train --holdout-source` does) and scored after training. */
  holdout?: string[];
}

/**
 * Trains `model` with one recipe on one task into a new run folder under `opts.out`, holding `opts.holdout`
 * out; says first which weights it uses.
 * @throws UsageError when a held-out name matches no source (see partitionHoldout)
 * @example await trainRecipe('resnet50', { recipe: 'study', task: 'multiclass', holdout: ['chestx-ray.com'], profile: 'quick', data, classMap, out: 'runs' })
 */
export async function trainRecipe(model: string, opts: TrainRecipeOptions): Promise<{ weights: 'imagenet' | 'none'; weightsNote: string; run: RunResult }> {
  const chosen = chooseWeights(model);
  if (!opts.quiet) console.log(chosen.weightsNote);
  return { weights: chosen.weights, weightsNote: chosen.weightsNote, run: await trainTask(chosen, opts.task, opts) };
}
