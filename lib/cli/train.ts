/**
 * `cxr train`: two-phase transfer learning of one backbone on one task into a new run folder, or `--resume`
 * of an interrupted one. Only argument checks here; the run itself is lib/train/run.ts.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { registryBackbone } from '../train/backbone-source';
import { makeRunConfig, PROFILE_NAMES, type ProfileName } from '../train/config';
import { resumeRun, startRun } from '../train/run';
import type { Task } from '../data/labels';
import { addDataOptions, dataChoice, type DataFlags } from './data-options';
import { addRecipeOptions, recipeChoice, type RecipeFlags } from './recipe-options';

interface TrainCliOptions extends DataFlags, RecipeFlags {
  model?: string;
  task?: string;
  profile: string;
  weights: string;
  seed: string;
  out: string;
  enhance: boolean;
  limit?: string;
  inputSize?: string;
  workers?: string;
  resume?: string;
  quiet?: boolean;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be an integer, got '${value}'`);
  return n;
}

/** Registers `cxr train` (the global `--backend` applies: lib/cli/main.ts). */
export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('Train a backbone on a task (two phases: frozen backbone, then fine-tuning) into runs/<id>/')
    .option('--model <name>', 'backbone: nasnetmobile, resnet101, inceptionresnetv2, resnet50')
    .option('--task <task>', 'binary (covid vs not) or multiclass (covid/viral/normal)')
    .option('--profile <name>', `schedule: ${PROFILE_NAMES.join(', ')}`, 'quick')
    .option('--weights <w>', "initial backbone weights: imagenet, none, or a .h5 / model.json path", 'imagenet')
    .option('--seed <n>', 'seed for the split, initialisation, shuffling, augmentation and dropout', '42')
    .option('--out <dir>', 'parent folder of run folders', 'runs')
    .option('--no-enhance', 'feed the original images instead of the enhanced ones (white balance + CLAHE)')
    .option('--limit <n>', 'use at most n images (same share of each class), for trials')
    .option('--input-size <px>', "override the profile's input size")
    .option('--workers <n>', 'image decoding threads', '2')
    .option('--resume <runDir>', 'continue an interrupted run from its latest checkpoint')
    .option('--quiet', 'no progress output');
  addRecipeOptions(addDataOptions(cmd, false)).action(async (opts: TrainCliOptions) => {
    // Ctrl-C loses at most the epoch in progress; say how to continue.
    const onRunDir = (dir: string) =>
      process.once('SIGINT', () => {
        console.error(`\ninterrupted; continue with: npx cxr train --resume ${path.relative(process.cwd(), dir) || dir}`);
        process.exit(130);
      });
    if (opts.resume) {
      const r = await resumeRun(path.resolve(opts.resume), { quiet: opts.quiet, onRunDir });
      console.log(r.dir);
      return;
    }
    if (!opts.model) throw new UsageError('--model is required (or --resume runs/<id>)');
    if (!opts.task) throw new UsageError('--task is required: binary or multiclass');
    if (!(PROFILE_NAMES as readonly string[]).includes(opts.profile)) {
      throw new UsageError(`unknown profile '${opts.profile}' (choose one of: ${PROFILE_NAMES.join(', ')})`);
    }
    const source = registryBackbone(opts.model);
    const { dirs, classMap } = dataChoice(opts);
    const config = makeRunConfig({
      model: source.name,
      task: opts.task as Task,
      profile: opts.profile as ProfileName,
      data: dirs,
      classMap,
      ...recipeChoice(opts),
      weights: opts.weights === 'imagenet' || opts.weights === 'none' ? opts.weights : path.resolve(opts.weights),
      seed: integer(opts.seed, '--seed'),
      inputSize: integer(opts.inputSize, '--input-size'),
      enhance: opts.enhance,
      limit: integer(opts.limit, '--limit'),
      workers: integer(opts.workers, '--workers'),
      preprocess: source.preprocess,
      defaultInputSize: source.defaultInputSize,
      minInputSize: source.minInputSize,
    });
    const r = await startRun(config, { out: path.resolve(opts.out), backbone: source, quiet: opts.quiet, onRunDir });
    console.log(r.dir);
  });
}
