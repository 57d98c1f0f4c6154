import { UsageError } from '../errors';
import { checkInputSize } from '../models/input-size';
import { DEFAULT_ENHANCE, type EnhanceOptions } from '../enhance/pipeline';
import type { ClassMap, Task } from '../data/labels';
import { NO_PREP, type InputPrep } from '../data/input/images';
import { DEFAULT_LUNG_MARGIN } from '../data/input/lungs';
import type { JitterConfig } from '../data/input/jitter';
import type { SplitFractions } from '../data/types';
import type { PreprocessMode } from '../models/types';
import { STUDY_AUGMENT, type AugmentConfig } from '../data/input/augment';
import { HEAD_POOL_LAYER, STUDY_HEAD, type HeadConfig } from './head';

export type ProfileName = 'paper' | 'quick' | 'tiny';

/**
 * - `study`: the published study's recipe as it was (one folder, its flip and ±36° rotation, no balancing)
 *   — to reproduce its numbers;
 * - `deconfounded` (the default): every image cropped to its lungs (segmented once per image), no mirror or
 *   large rotation; the other switches (source balancing, format normalisation, X-ray jitter, border crop) are
 *   available but off, because on the held-out-source proxy none of them helped (README, ablation).
 */
export type RecipeName = 'study' | 'deconfounded';
export const RECIPE_NAMES: readonly RecipeName[] = ['study', 'deconfounded'];

/** How training examples are drawn each epoch: as they come, or with every class × source cell weighted equally. */
export type BalanceMode = 'none' | 'source' | 'class';
/** Every balance mode, for options and checks. */
export const BALANCE_MODES: readonly BalanceMode[] = ['none', 'source', 'class'];

/** The switches a recipe sets; each can be overridden on its own (and the ablation does). */
export interface RecipeSettings {
  balance: BalanceMode;
  prep: InputPrep;
  /** X-ray jitter for augmented phases; null: the study's flip/rotation only. */
  jitter: JitterConfig | null;
  augment: AugmentConfig;
}

/** Each recipe's settings. */
export function recipeSettings(recipe: RecipeName): RecipeSettings {
  if (recipe === 'study') return { balance: 'none', prep: { ...NO_PREP }, jitter: null, augment: { ...STUDY_AUGMENT } };
  if (recipe === 'deconfounded') {
    return {
      balance: 'none',
      // The input restricted to the lungs' box (+5 %): what lies outside — shoulders, neck, text, markers, the
      // frame of a figure, a collection's framing — cannot carry the class. Measured on a held-out normal-only
      // collection: 68.6 % right without it, 89.8 % with it (README, ablation).
      prep: { border: 0, normalise: false, lungs: { mode: 'crop', margin: DEFAULT_LUNG_MARGIN } },
      jitter: null,
      // No mirror image (the heart is on the left in every real film), no ±36° turn.
      augment: { flip: false, rotation: 0 },
    };
  }
  throw new UsageError(`unknown recipe '${String(recipe)}' (choose one of: ${RECIPE_NAMES.join(', ')})`);
}
export const PROFILE_NAMES: readonly ProfileName[] = ['paper', 'quick', 'tiny'];

/**
 * How the frozen part of the network is run in a phase:
 * - `stream`: on every batch, from decoded images (what the study's Keras code does; needed for fresh augmentation);
 * - `cache`: once per image, outputs stored on disk and reused every epoch (exact when nothing is augmented);
 * - `views`: once per image and augmented view (K views drawn once), an epoch using one view per image.
 */
export type FrozenMode = 'stream' | 'cache' | 'views';

/** Keras EarlyStopping: stop after `patience` epochs without improvement of the monitor. */
export interface EarlyStoppingConfig {
  monitor: 'val_accuracy' | 'val_loss';
  patience: number;
  /** Put back the weights of the best epoch when the phase ends. */
  restoreBest: boolean;
}

/** Keras ReduceLROnPlateau: lr ← max(lr·factor, minLr) after `patience` epochs without improvement beyond `minDelta`. */
export interface ReduceLrConfig {
  monitor: 'val_accuracy' | 'val_loss';
  factor: number;
  patience: number;
  minLr: number;
  minDelta: number;
}

export interface PhaseConfig {
  epochs: number;
  /** Adam learning rate at the start of the phase (a fresh optimizer each phase, as a new Keras compile). */
  learningRate: number;
  batchSize: number;
  /**
   * Layers after this one train, the ones before are frozen. `head_pool` trains the head only (frozen
   * backbone); a backbone layer name (e.g. `conv4_block6_out`) also trains the blocks after it; `null`
   * trains everything. BatchNorm stays in inference mode throughout.
   */
  trainAfter: string | null;
  frozen: FrozenMode;
  /** Augmented views per training image for `frozen: 'views'`. */
  views: number;
  /** Augment training images (flip + rotation); never the validation or test images. */
  augment: boolean;
  earlyStopping: EarlyStoppingConfig | null;
  reduceLr: ReduceLrConfig | null;
}

/** Everything a run needs to be reproduced; saved as `config.json` in the run folder. */
export interface RunConfig {
  model: string;
  task: Task;
  profile: ProfileName;
  seed: number;
  /** Data folders (read only; several are merged, see lib/data/merge.ts). */
  data: string[];
  /** Extra class folders read as a class (e.g. `{ pneumonia: 'viral' }`). */
  classMap: ClassMap;
  /** Sources held out entirely (never in train, val or test); their images are scored after training. */
  holdout: string[];
  /**
   * Cross-validation: this run's test set is fold `index` of `k` patient-grouped, stratified folds (seed
   * `seed`); train and val come from the other folds. Absent: the usual 70/15/15 split.
   */
  fold?: { k: number; index: number; seed: number };
  recipe: RecipeName;
  balance: BalanceMode;
  /** Lung restriction (`prep.lungs`, null: none), border crop and format normalisation before enhancement. */
  prep: InputPrep;
  /** X-ray jitter in augmented phases (with `augment`); null: none. */
  jitter: JitterConfig | null;
  /** `imagenet`, `none` (random initialisation from the seed) or a weights file. */
  weights: string;
  inputSize: number;
  /** How images are brought to `inputSize`: `stretch` (the study) or `pad` (keep aspect, black borders). */
  fit: 'stretch' | 'pad';
  /** Enhancement applied at the original resolution before resizing; null feeds the original images. */
  enhance: EnhanceOptions | null;
  /** The backbone's own Keras preprocessing (the study fed 0–255 values; we do not). */
  preprocess: PreprocessMode;
  augment: AugmentConfig;
  head: HeadConfig;
  /** Patient-grouped split: seed and fractions (see `cxr data split`). */
  split: { seed: number; fractions?: SplitFractions };
  /** Use at most this many images (stratified by class), for trials; null: all. */
  limit: number | null;
  phases: PhaseConfig[];
  /** Image decoding/enhancement worker threads. */
  workers: number;
}

/**
 * Layer after which the quick and tiny profiles fine-tune: the last block of each backbone (ResNet's
 * conv5_block3, InceptionResNetV2's block8_10 + conv_7b, NASNetMobile's last normal cell). A whole last
 * stage (ResNet conv5: ~0.8 GFLOP per 160 px image) is too slow to train on two cores within the budget.
 */
export const LAST_BLOCK_CUT: Record<string, string> = {
  resnet50: 'conv5_block2_out',
  resnet101: 'conv5_block2_out',
  inceptionresnetv2: 'block8_9_ac',
  nasnetmobile: 'normal_concat_11',
};

const studyCallbacks = (): Pick<PhaseConfig, 'earlyStopping' | 'reduceLr'> => ({
  earlyStopping: { monitor: 'val_accuracy', patience: 20, restoreBest: true },
  reduceLr: { monitor: 'val_loss', factor: 0.1, patience: 8, minLr: 2e-6, minDelta: 1e-4 },
});

/** Inputs that choose a profile's defaults. */
export interface ProfileContext {
  model: string;
  defaultInputSize: number;
  /** Smallest input the backbone accepts (InceptionResNetV2: 75). */
  minInputSize?: number;
}

/**
 * The schedules:
 * - `paper`: the study's — phase 1 frozen backbone, Adam 1e-3, 50 epochs; phase 2 all layers, Adam 1e-4,
 *   30 epochs; batch 64; augmentation in both; streamed (the frozen backbone recomputed every batch, since
 *   fresh augmentation cannot be cached); the backbone's default input size.
 * - `quick`: CPU-friendly — input 160, no augmentation, phase 1 head on cached pooled features (40 epochs),
 *   phase 2 fine-tunes only the last block on cached features from the block before it (8 epochs), with
 *   shorter patiences.
 * - `tiny`: for tests and notebook checks — input 64, one epoch per phase, cached like `quick`.
 */
export function profilePhases(profile: ProfileName, ctx: ProfileContext): { inputSize: number; phases: PhaseConfig[] } {
  const lastBlock = LAST_BLOCK_CUT[ctx.model] ?? HEAD_POOL_LAYER;
  switch (profile) {
    case 'paper':
      return {
        inputSize: ctx.defaultInputSize,
        phases: [
          { epochs: 50, learningRate: 1e-3, batchSize: 64, trainAfter: HEAD_POOL_LAYER, frozen: 'stream', views: 0, augment: true, ...studyCallbacks() },
          { epochs: 30, learningRate: 1e-4, batchSize: 64, trainAfter: null, frozen: 'stream', views: 0, augment: true, ...studyCallbacks() },
        ],
      };
    case 'quick':
      return {
        inputSize: Math.max(160, ctx.minInputSize ?? 0),
        phases: [
          {
            epochs: 40, learningRate: 1e-3, batchSize: 64, trainAfter: HEAD_POOL_LAYER, frozen: 'cache', views: 0, augment: false,
            earlyStopping: { monitor: 'val_accuracy', patience: 10, restoreBest: true },
            reduceLr: { monitor: 'val_loss', factor: 0.1, patience: 4, minLr: 2e-6, minDelta: 1e-4 },
          },
          {
            epochs: 8, learningRate: 1e-4, batchSize: 64, trainAfter: lastBlock, frozen: 'cache', views: 0, augment: false,
            earlyStopping: { monitor: 'val_accuracy', patience: 4, restoreBest: true },
            reduceLr: { monitor: 'val_loss', factor: 0.1, patience: 2, minLr: 2e-6, minDelta: 1e-4 },
          },
        ],
      };
    case 'tiny':
      return {
        inputSize: Math.max(64, ctx.minInputSize ?? 0),
        phases: [
          { epochs: 1, learningRate: 1e-3, batchSize: 4, trainAfter: HEAD_POOL_LAYER, frozen: 'cache', views: 0, augment: false, ...studyCallbacks() },
          { epochs: 1, learningRate: 1e-4, batchSize: 4, trainAfter: lastBlock, frozen: 'cache', views: 0, augment: false, ...studyCallbacks() },
        ],
      };
    default:
      throw new UsageError(`unknown profile '${String(profile)}' (choose one of: ${PROFILE_NAMES.join(', ')})`);
  }
}

/** Choices a user makes; everything else comes from the profile. */
export interface RunOptions {
  model: string;
  task: Task;
  profile?: ProfileName;
  /** Data folders, merged when several. */
  data: string[];
  classMap?: ClassMap;
  holdout?: string[];
  fold?: RunConfig['fold'];
  recipe?: RecipeName;
  /** Change single switches of the recipe (the ablation does, one at a time). */
  overrides?: Partial<RecipeSettings>;
  weights?: string;
  seed?: number;
  inputSize?: number;
  enhance?: boolean;
  limit?: number | null;
  workers?: number;
  /** Replace the profile's phases (tests, custom schedules). */
  phases?: PhaseConfig[];
  head?: HeadConfig;
  preprocess: PreprocessMode;
  defaultInputSize: number;
  minInputSize?: number;
}

/** A complete RunConfig from the user's choices and the profile. */
export function makeRunConfig(opts: RunOptions): RunConfig {
  if (opts.task !== 'binary' && opts.task !== 'multiclass') throw new UsageError(`unknown task '${String(opts.task)}' (binary or multiclass)`);
  const profile = opts.profile ?? 'quick';
  const base = profilePhases(profile, { model: opts.model, defaultInputSize: opts.defaultInputSize, minInputSize: opts.minInputSize });
  if (opts.inputSize !== undefined && opts.minInputSize !== undefined) checkInputSize(opts.model, opts.inputSize, opts.minInputSize);
  const seed = opts.seed ?? 42;
  const recipe = opts.recipe ?? 'deconfounded';
  const settings = { ...recipeSettings(recipe), ...(opts.overrides ?? {}) };
  // Jitter needs augmented inputs: cached phases become views phases (a few jittered copies per image).
  const phases = opts.phases ?? (settings.jitter ? withViews(base.phases, profile) : base.phases);
  const config: RunConfig = {
    model: opts.model,
    task: opts.task,
    profile,
    seed,
    data: [...opts.data],
    classMap: { ...(opts.classMap ?? {}) },
    holdout: [...(opts.holdout ?? [])],
    ...(opts.fold ? { fold: { ...opts.fold } } : {}),
    recipe,
    balance: settings.balance,
    prep: settings.prep,
    jitter: settings.jitter,
    weights: opts.weights ?? 'imagenet',
    inputSize: opts.inputSize ?? base.inputSize,
    fit: 'stretch',
    enhance: opts.enhance === false ? null : { ...DEFAULT_ENHANCE, clahe: DEFAULT_ENHANCE.clahe ? { ...DEFAULT_ENHANCE.clahe } : null },
    preprocess: opts.preprocess,
    augment: settings.augment,
    head: structuredClone(opts.head ?? (STUDY_HEAD as HeadConfig)),
    split: { seed },
    limit: opts.limit !== undefined ? opts.limit : profile === 'tiny' ? 20 : null,
    phases,
    workers: opts.workers ?? 2,
  };
  validateRunConfig(config);
  return config;
}

/**
 * The deconfounded recipe's phases: the profile's cached phases become augmented `views` phases (each
 * training image cached as a few jittered views, one drawn per epoch), so augmentation costs a few
 * forward passes per image instead of one per epoch.
 */
export const DECONFOUNDED_VIEWS: Record<ProfileName, number> = { paper: 0, quick: 2, tiny: 2 };

function withViews(phases: PhaseConfig[], profile: ProfileName): PhaseConfig[] {
  const views = DECONFOUNDED_VIEWS[profile];
  return phases.map((p) => (p.frozen === 'cache' && views > 0 ? { ...p, frozen: 'views' as const, views, augment: true } : { ...p, augment: p.frozen === 'stream' ? true : p.augment }));
}

/**
 * The recipe a run trained with, in words: `study`, `deconfounded`, or the de-confounded recipe minus the
 * switches that were off (`deconfounded − balance − jitter`).
 */
export function describeRecipe(c: Pick<RunConfig, 'recipe' | 'balance' | 'prep' | 'jitter'>): string {
  if (c.recipe !== 'deconfounded') return c.recipe + (c.prep.lungs ? ` + lungs ${c.prep.lungs.mode}` : '');
  const d = recipeSettings('deconfounded');
  const changes = [
    c.prep.lungs ? (c.prep.lungs.mode !== d.prep.lungs?.mode ? `+ lungs ${c.prep.lungs.mode}` : null) : '− lungs',
    c.balance !== d.balance ? `+ balance ${c.balance}` : null,
    c.prep.normalise !== d.prep.normalise ? (c.prep.normalise ? '+ normalise' : '− normalise') : null,
    (c.jitter === null) !== (d.jitter === null) ? (c.jitter ? '+ jitter' : '− jitter') : null,
    c.prep.border > 0 ? `+ border ${Math.round(100 * c.prep.border)} %` : null,
  ].filter(Boolean);
  return ['deconfounded', ...changes].join(' ');
}

/**
 * A config.json written before several data folders and recipes existed, read as today's RunConfig: one
 * data folder, the study's recipe (what such runs trained with); one written before the lung step has none.
 */
export function upgradeRunConfig(raw: RunConfig & { dataDir?: string }): RunConfig {
  if (raw.data) return raw.prep.lungs === undefined ? { ...raw, prep: { ...raw.prep, lungs: null } } : raw;
  const { dataDir, ...rest } = raw;
  const study = recipeSettings('study');
  return { ...rest, data: dataDir ? [dataDir] : [], classMap: {}, holdout: [], recipe: 'study', balance: study.balance, prep: study.prep, jitter: study.jitter };
}

/** Rejects inconsistent settings with one clear line. */
export function validateRunConfig(c: RunConfig): void {
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${c.seed}`);
  checkInputSize(c.model, c.inputSize, 16);
  if (c.limit !== null && (!Number.isInteger(c.limit) || c.limit < 3)) throw new UsageError(`--limit must be an integer ≥ 3, got ${c.limit}`);
  if (c.phases.length === 0) throw new UsageError('a run needs at least one phase');
  if (c.data.length === 0) throw new UsageError('a run needs at least one data folder');
  if (c.fold && !(Number.isInteger(c.fold.k) && c.fold.k >= 2 && Number.isInteger(c.fold.index) && c.fold.index >= 0 && c.fold.index < c.fold.k)) {
    throw new UsageError(`cross-validation fold ${c.fold.index} of ${c.fold.k} is out of range`);
  }
  if (!(c.prep.border >= 0 && c.prep.border < 0.5)) throw new UsageError(`border crop must be in [0, 0.5), got ${c.prep.border}`);
  const lungs = c.prep.lungs;
  if (lungs && (!['crop', 'mask'].includes(lungs.mode) || !(lungs.margin >= 0 && lungs.margin <= 1))) {
    throw new UsageError(`lungs must be crop or mask with a margin in [0, 1], got ${lungs.mode} ${lungs.margin}`);
  }
  c.phases.forEach((p, i) => {
    const name = `phase ${i + 1}`;
    if (!Number.isInteger(p.epochs) || p.epochs < 0) throw new UsageError(`${name}: epochs must be a non-negative integer`);
    if (!(p.learningRate > 0)) throw new UsageError(`${name}: learning rate must be positive`);
    if (!Number.isInteger(p.batchSize) || p.batchSize < 1) throw new UsageError(`${name}: batch size must be a positive integer`);
    if (p.frozen !== 'stream' && p.trainAfter === null) throw new UsageError(`${name}: frozen mode '${p.frozen}' needs a frozen part (trainAfter)`);
    if (p.frozen === 'cache' && p.augment) throw new UsageError(`${name}: augmented images cannot use the plain feature cache; use 'views' or 'stream'`);
    if (p.frozen === 'views' && (!Number.isInteger(p.views) || p.views < 1)) throw new UsageError(`${name}: 'views' needs views ≥ 1`);
  });
}
