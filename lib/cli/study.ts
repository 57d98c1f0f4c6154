import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend';
import type { Task } from '../data/labels';
import { LABELS } from '../data/labels';
import { splitDataset } from '../data/split';
import { formatSummary, summarize } from '../data/summary';
import { SPLIT_NAMES, type Dataset } from '../data/types';
import { enhanceFolder } from '../enhance/folder';
import { DEFAULT_ENHANCE, enhanceKey } from '../enhance/pipeline';
import { readRunRecord, runComplete } from '../train/run-folder';
import { CxrError, UsageError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { formatDuration, progress } from '../io/progress';
import { BACKBONE_NAMES, getBackbone, weightsAvailable } from '../models/registry';
import { PROJECT_ROOT } from '../paths';
import { collectStudy } from '../report/collect';
import { writeReportFiles } from '../report/write';
import { registryBackbone } from '../train/backbone-source';
import { makeRunConfig, PROFILE_NAMES, recipeSettings, type ProfileName, type RecipeName, type RecipeSettings, type RunConfig } from '../train/config';
import { resumeRun, startRun } from '../train/run';
import { xrayJitter } from '../data/input/jitter';
import { FOLD_CSV_COLUMNS, foldsToCsvRows, kFolds } from '../data/folds';
import { writeCsvAtomic } from '../io/csv';
import { addDataOptions, dataChoice, scanForCli, type DataChoice, type DataFlags } from './data-options';
import { addRecipeOptions, recipeChoice, type RecipeChoice, type RecipeFlags } from './recipe-options';

interface StudyFlags extends DataFlags, RecipeFlags {
  profile: string;
  models?: string;
  out: string;
  seed: string;
  enhancedCopy: boolean;
  validate: string;
  ablation?: boolean;
  cv?: string;
}

/**
 * Sources the default study holds out (one run each, 3-class): the teaching collection's normals (a source
 * no other class shares) and the largest COVID collection. Used only with the default data folders; other
 * data sets name theirs with --holdout-source or use --validate leave-one-source-out.
 */
const DEFAULT_HOLDOUT = ['chestx-ray.com', 'ieee8023'];
/** Leave-one-source-out skips sources smaller than this (too few images to score). */
const MIN_HOLDOUT_IMAGES = 20;

const TASKS: readonly Task[] = ['binary', 'multiclass'];
const log = (msg: string) => console.error(msg);

function stage(n: number, title: string): void {
  log(`\n== ${n}. ${title}`);
}

function printSplit(dataset: Dataset, seed: number): void {
  const split = splitDataset(dataset.samples, { seed });
  log(`${'split'.padEnd(6)}${LABELS.map((l) => l.padStart(8)).join('')}${'total'.padStart(8)}${'patients'.padStart(10)}`);
  for (const name of SPLIT_NAMES) {
    const s = split[name];
    log(`${name.padEnd(6)}${LABELS.map((l) => String(s.filter((x) => x.label === l).length).padStart(8)).join('')}${String(s.length).padStart(8)}${String(new Set(s.map((x) => x.patientId)).size).padStart(10)}`);
  }
  log('(every run makes this same patient-grouped split from its seed and stores it as split.csv)');
}

/** Enhanced copies of the data folders (white balance + CLAHE, original size), skipped when already complete. */
async function enhancedCopy(dataset: Dataset, outDir: string): Promise<void> {
  const marker = path.join(outDir, 'enhance.json');
  const key = enhanceKey(DEFAULT_ENHANCE);
  const source = dataset.folders.map((f) => f.dir).join(path.delimiter);
  if (fs.existsSync(marker)) {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8')) as { source?: string; key?: string; written?: number; images?: number };
    if (m.source === source && m.key === key && m.images === dataset.samples.length) {
      log(`${outDir}: already enhanced (${m.written} images, ${key}); kept`);
      return;
    }
  }
  const bar = progress({ label: 'enhance', total: dataset.samples.length, unit: 'img' });
  const r = await enhanceFolder(dataset.samples, outDir, { size: null, enhance: DEFAULT_ENHANCE, onProgress: () => bar.tick() });
  bar.done();
  for (const f of r.failed) log(`skipped ${f.file}: ${f.reason}`);
  writeJsonAtomic(marker, { source, key, settings: DEFAULT_ENHANCE, size: null, images: dataset.samples.length, written: r.written.length, skipped: r.failed });
  log(`${r.written.length} enhanced images in ${outDir} (for inspection; training enhances the same way on the fly from the original files, keeping their manifest and patient ids)`);
}

/** The backbones to train: the named ones, else every backbone whose ImageNet weights are in the cache. */
function chooseModels(names: string | undefined): string[] {
  if (names) {
    const list = names.split(',').map((n) => getBackbone(n.trim()).name);
    const missing = list.filter((n) => !weightsAvailable(n));
    if (missing.length) throw new CxrError(`ImageNet weights not in the cache for ${missing.join(', ')}: fetch them with \`npx cxr weights fetch <model>\` (or leave --models out to use the cached ones)`);
    return list;
  }
  const available = BACKBONE_NAMES.filter((n) => weightsAvailable(n));
  for (const n of BACKBONE_NAMES.filter((x) => !available.includes(x))) log(`${n}: ImageNet weights not cached; skipped (\`npx cxr weights fetch ${n}\` to include it)`);
  if (available.length === 0) throw new CxrError('no backbone has its ImageNet weights in the cache: run `npm run setup` (ResNet-50 installs offline) or `npx cxr weights fetch <model>`');
  return available;
}

/** What every run of the study shares. */
interface StudyPlan {
  profile: ProfileName;
  data: DataChoice;
  recipe: RecipeChoice;
  seed: number;
  runsDir: string;
}

/** A run id's tail for a held-out source: `holdout-chestx-ray-com`. */
function holdoutSlug(source: string): string {
  return `holdout-${source.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}`;
}

/**
 * Trains one model on one task (holding `holdout` out) into a fixed run folder: skipped when finished, resumed
 * when interrupted, refused when the folder holds a run with other settings.
 */
async function trainOne(model: string, task: Task, plan: StudyPlan, holdout: string[], variant?: AblationVariant, fold?: RunConfig['fold']): Promise<string> {
  const id = [
    `study-${plan.profile}-${model}-${task}`, ...holdout.map(holdoutSlug), ...(variant ? [variant.name] : []), ...(fold ? [`cv${fold.k}-fold${fold.index + 1}`] : []),
  ].join('-');
  const dir = path.join(plan.runsDir, id);
  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, 'config.json'))) {
    // Interrupted before its record was written: nothing to resume.
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const source = registryBackbone(model);
  const config = makeRunConfig({
    model: source.name, task, profile: plan.profile, data: plan.data.dirs, classMap: plan.data.classMap, weights: 'imagenet', seed: plan.seed,
    recipe: variant?.recipe ?? plan.recipe.recipe, overrides: variant ? variant.overrides : plan.recipe.overrides, holdout, fold,
    preprocess: source.preprocess, defaultInputSize: source.defaultInputSize, minInputSize: source.minInputSize,
  });
  if (fs.existsSync(dir)) {
    const old = readRunRecord(dir).config;
    const same = (c: RunConfig) => JSON.stringify([c.data, c.classMap, c.seed, c.recipe, c.balance, c.prep, c.jitter, c.holdout, c.fold ?? null]);
    if (same(old) !== same(config)) {
      throw new UsageError(`${dir} was trained with other data or settings (${old.recipe} recipe on ${old.data.join(' + ')}, seed ${old.seed}); use another --out`);
    }
    if (runComplete(dir)) {
      log(`${id}: finished earlier; kept`);
      return dir;
    }
    log(`${id}: resuming`);
    return (await resumeRun(dir, {})).dir;
  }
  log(`${id}: training (${plan.profile} profile, ${plan.recipe.recipe} recipe${holdout.length ? `, holding out ${holdout.join(', ')}` : ''})`);
  return (await startRun(config, { out: plan.runsDir, id, backbone: source })).dir;
}

/** One run of the ablation: the de-confounded recipe with one switch off, or the study's recipe. */
export interface AblationVariant {
  name: string;
  recipe: RecipeName;
  overrides: Partial<RecipeSettings>;
}

/**
 * The ablation: the de-confounded recipe with its lung crop off, with each of the switches it leaves off turned
 * on (source balance, format normalisation, X-ray jitter), and the study's recipe (same data and class map).
 */
export const ABLATION: readonly AblationVariant[] = [
  { name: 'no-lungs', recipe: 'deconfounded', overrides: { prep: { ...recipeSettings('deconfounded').prep, lungs: null } } },
  { name: 'study-recipe', recipe: 'study', overrides: {} },
  { name: 'with-balance', recipe: 'deconfounded', overrides: { balance: 'source' } },
  { name: 'with-normalise', recipe: 'deconfounded', overrides: { prep: { ...recipeSettings('deconfounded').prep, normalise: true } } },
  { name: 'with-jitter', recipe: 'deconfounded', overrides: { jitter: xrayJitter() } },
];

/**
 * The held-out-source runs to train: per task, the sources to hold out one at a time.
 * - `none`: none;
 * - `holdout`: the --holdout-source names (else, with the default data folders, DEFAULT_HOLDOUT), 3-class only;
 * - `leave-one-source-out`: every source with at least MIN_HOLDOUT_IMAGES images whose classes other sources also
 *   have, both tasks.
 */
export function holdoutRuns(dataset: Dataset, mode: string, named: string[], defaultData: boolean): { task: Task; source: string }[] {
  const sources = [...new Set(dataset.samples.map((s) => s.source))].sort();
  if (mode === 'none') return [];
  if (mode === 'holdout') {
    const names = named.length > 0 ? named : defaultData ? DEFAULT_HOLDOUT.filter((n) => sources.some((s) => s.toLowerCase().includes(n))) : [];
    return names.map((source) => ({ task: 'multiclass' as Task, source }));
  }
  if (mode === 'leave-one-source-out') {
    const eligible = sources.filter((src) => {
      const own = dataset.samples.filter((s) => s.source === src);
      const labels = new Set(own.map((s) => s.label));
      const elsewhere = new Set(dataset.samples.filter((s) => s.source !== src).map((s) => s.label));
      return own.length >= MIN_HOLDOUT_IMAGES && [...labels].every((l) => elsewhere.has(l));
    });
    return TASKS.flatMap((task) => eligible.map((source) => ({ task, source })));
  }
  throw new UsageError(`--validate must be none, holdout or leave-one-source-out, got '${mode}'`);
}

/** `cxr study` (`npm start`): the whole study end to end, resumable. */
export function register(program: Command): void {
  const cmd = program
    .command('study')
    .description('The whole study: data summary and confound audit, split, enhancement, training of every available backbone on both tasks, held-out-source runs, evaluation and the report (rerun to resume)')
    .option('--profile <name>', `training schedule: ${PROFILE_NAMES.join(', ')}`, 'quick')
    .option('--models <list>', 'comma-separated backbones (default: those whose ImageNet weights are cached)')
    .option('--out <dir>', 'where runs/, report/ and data/enhanced/ go', PROJECT_ROOT)
    .option('--seed <n>', 'seed of the split and the training', '42')
    .option('--validate <mode>', 'held-out-source runs: holdout (the --holdout-source names; with the default data, the teaching collection and ieee8023), leave-one-source-out, or none', 'holdout')
    .option('--cv <k>', 'also K-fold cross-validation: per backbone and task, K runs each testing one patient-grouped, stratified fold (folds written to runs/cv<K>-folds.csv)')
    .option('--ablation', 'also train the first 3-class held-out run with each de-confounding switch off in turn, and with the study recipe')
    .option('--no-enhanced-copy', 'skip writing the enhanced copy of the data folder');
  addRecipeOptions(addDataOptions(cmd, false)).action(async (flags: StudyFlags) => {
    const started = Date.now();
    if (!(PROFILE_NAMES as readonly string[]).includes(flags.profile)) throw new UsageError(`unknown profile '${flags.profile}' (choose one of: ${PROFILE_NAMES.join(', ')})`);
    const profile = flags.profile as ProfileName;
    const seed = Number(flags.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
    const out = path.resolve(flags.out);
    const data = dataChoice(flags);
    const recipe = recipeChoice(flags);
    const plan: StudyPlan = { profile, data, recipe: { ...recipe, holdout: [] }, seed, runsDir: path.join(out, 'runs') };
    process.once('SIGINT', () => {
      log('\ninterrupted; run the same command again to resume (finished runs are kept, unfinished ones continue from their last epoch)');
      process.exit(130);
    });
    const models = chooseModels(flags.models);
    await initBackend({});

    stage(1, `data summary and confound audit (${data.dirs.join(' + ')})`);
    const dataset = await scanForCli(flags);
    if (dataset.samples.length === 0) throw new CxrError(`${data.dirs.join(', ')}: no usable images`);
    log(formatSummary(summarize(dataset)));
    const heldOut = holdoutRuns(dataset, flags.validate, recipe.holdout, !flags.data?.length);
    const cv = flags.cv === undefined ? 0 : Number(flags.cv);
    if (flags.cv !== undefined && !(Number.isInteger(cv) && cv >= 2)) throw new UsageError(`--cv must be an integer ≥ 2, got '${flags.cv}'`);
    if (cv) {
      const foldsFile = path.join(plan.runsDir, `cv${cv}-folds.csv`);
      writeCsvAtomic(foldsFile, foldsToCsvRows(kFolds(dataset.samples, { k: cv, seed })), FOLD_CSV_COLUMNS);
      log(`cross-validation folds (${cv}, patient-grouped, stratified): ${foldsFile}`);
    }

    stage(2, `patient-grouped split (seed ${seed})`);
    printSplit(dataset, seed);

    stage(3, 'enhancement (white balance + CLAHE)');
    if (flags.enhancedCopy) await enhancedCopy(dataset, path.join(out, 'data', 'enhanced'));
    else log('enhanced copy skipped (--no-enhanced-copy); training enhances on the fly');

    stage(4, `training: ${models.join(', ')} × ${TASKS.join(', ')} (${profile} profile, ${recipe.recipe} recipe)${heldOut.length ? `, then ${heldOut.length} held-out-source run(s)` : ''}`);
    const trained: string[] = [];
    for (const model of models) {
      for (const task of TASKS) trained.push(await trainOne(model, task, plan, []));
      for (const h of heldOut) trained.push(await trainOne(model, h.task, plan, [h.source]));
      if (flags.ablation) {
        // On the first held-out source of the 3-class task: enough to see what each switch is worth.
        const h = heldOut.find((x) => x.task === 'multiclass');
        if (!h) throw new UsageError('--ablation needs a held-out source for the 3-class task (--validate holdout or leave-one-source-out)');
        for (const v of ABLATION) trained.push(await trainOne(model, 'multiclass', plan, [h.source], v));
      }
      if (cv) {
        for (const task of TASKS) {
          for (let index = 0; index < cv; index++) trained.push(await trainOne(model, task, plan, [], undefined, { k: cv, index, seed }));
        }
      }
    }

    stage(5, 'evaluation (test metrics with patient-bootstrap CIs, held-out sources, calibration, occlusion test, Grad-CAM, metadata baseline)');
    const report = await collectStudy(plan.runsDir, {});
    for (const r of report.runs) log(`${r.label} (${r.id}): test accuracy ${(100 * r.test.accuracy.point).toFixed(1)} % (${r.test.accuracy.ci?.map((v) => (100 * v).toFixed(1)).join('–')})`);
    for (const r of report.runs) if (r.analysisError) log(`${r.id}: analysis failed: ${r.analysisError}`);

    stage(6, 'report');
    const files = await writeReportFiles(report, path.join(out, 'report'));
    log(`study finished in ${formatDuration((Date.now() - started) / 1000)} (${trained.length} run(s))`);
    console.log(`report: ${files.html}`);
    console.log(`markdown: ${files.markdown}`);
  });
}
