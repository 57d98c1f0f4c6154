/**
 * The training-recipe options `cxr train` and `cxr study` share: the recipe, its single switches (so a
 * user can turn one off, as the ablation does), and held-out sources.
 */
import type { Command } from 'commander';
import { DEFAULT_LUNG_MARGIN } from '../data/input/lungs';
import { UsageError } from '../errors';
import { xrayJitter } from '../data/input/jitter';
import { BALANCE_MODES, RECIPE_NAMES, recipeSettings, type BalanceMode, type RecipeName, type RecipeSettings } from '../train/config';

export interface RecipeFlags {
  recipe: string;
  balance?: string;
  border?: string;
  normalise?: boolean;
  jitter?: boolean;
  holdoutSource?: string[];
  lungs?: string;
}

/** What the flags choose: the recipe, the switches that differ from it, the held-out sources. */
export interface RecipeChoice {
  recipe: RecipeName;
  overrides: Partial<RecipeSettings>;
  holdout: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `--recipe`, `--lungs`, `--balance`, `--border`, `--[no-]normalise`, `--[no-]jitter` and `--holdout-source` to a command. */
export function addRecipeOptions(cmd: Command): Command {
  return cmd
    .option('--recipe <name>', 'training recipe: deconfounded (inputs cropped to the lungs, no mirror or large rotation) or study (the published recipe)', 'deconfounded')
    .option('--lungs <mode>', "restrict inputs to the lungs (segmented once per image): crop (lung box + 5 % margin; the de-confounded recipe's default), mask (zero outside the lungs) or none")
    .option('--balance <mode>', "sampling: none (default), source (class × source cells weighted equally) or class (classes weighted equally)")
    .option('--border <fraction>', 'crop a border off each side (fraction, e.g. 0.08; default 0)')
    .option('--normalise', 'normalise format: grey, canonical resolution, one JPEG round trip (default off)')
    .option('--no-normalise', 'do not normalise format')
    .option('--jitter', 'X-ray jitter (resized crop, ±10°, exposure) on 2 cached views per image (default off)')
    .option('--no-jitter', 'no X-ray jitter')
    .option('--holdout-source <name>', 'hold a source out of training, validation and test, and score it after training (repeatable; matches part of the source name)', collect);
}

/**
 * Reads the recipe flags.
 * @throws UsageError for an unknown recipe, balance or lungs mode, or a border outside [0, 0.5)
 */
export function recipeChoice(flags: RecipeFlags): RecipeChoice {
  if (!(RECIPE_NAMES as readonly string[]).includes(flags.recipe)) {
    throw new UsageError(`unknown recipe '${flags.recipe}' (choose one of: ${RECIPE_NAMES.join(', ')})`);
  }
  const recipe = flags.recipe as RecipeName;
  const base = recipeSettings(recipe);
  const overrides: Partial<RecipeSettings> = {};
  if (flags.balance !== undefined) {
    if (!(BALANCE_MODES as readonly string[]).includes(flags.balance)) throw new UsageError(`--balance must be ${BALANCE_MODES.join(', ')}; got '${flags.balance}'`);
    overrides.balance = flags.balance as BalanceMode;
  }
  let prep = base.prep;
  if (flags.border !== undefined) {
    const border = Number(flags.border);
    if (!(border >= 0 && border < 0.5)) throw new UsageError(`--border must be a fraction in [0, 0.5), got '${flags.border}'`);
    prep = { ...prep, border };
  }
  if (flags.normalise !== undefined && flags.normalise !== prep.normalise) prep = { ...prep, normalise: flags.normalise };
  if (flags.lungs !== undefined) {
    if (flags.lungs === 'none') prep = { ...prep, lungs: null };
    else if (flags.lungs === 'crop' || flags.lungs === 'mask') {
      // The lung step already removes what the border crop is for.
      prep = { ...prep, ...(flags.border === undefined ? { border: 0 } : {}), lungs: { mode: flags.lungs, margin: DEFAULT_LUNG_MARGIN } };
    } else throw new UsageError(`--lungs must be crop, mask or none, got '${flags.lungs}'`);
  }
  if (prep !== base.prep) overrides.prep = prep;
  if (flags.jitter === false && base.jitter) overrides.jitter = null;
  if (flags.jitter === true && !base.jitter) overrides.jitter = xrayJitter();
  return { recipe, overrides, holdout: flags.holdoutSource ?? [] };
}
