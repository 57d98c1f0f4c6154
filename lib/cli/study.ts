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
import { defaultDataDir, PROJECT_ROOT } from '../paths';
import { collectStudy } from '../report/collect';
import { writeReportFiles } from '../report/write';
import { registryBackbone } from '../train/backbone-source';
import { makeRunConfig, PROFILE_NAMES, type ProfileName } from '../train/config';
import { resumeRun, startRun } from '../train/run';
import { scanForCli } from './data-options';

interface StudyFlags {
  profile: string;
  models?: string;
  data?: string;
  out: string;
  seed: string;
  enhancedCopy: boolean;
}

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

/** Enhanced copies of the data folder (white balance + CLAHE, original size), skipped when already complete. */
async function enhancedCopy(dataset: Dataset, outDir: string): Promise<void> {
  const marker = path.join(outDir, 'enhance.json');
  const key = enhanceKey(DEFAULT_ENHANCE);
  if (fs.existsSync(marker)) {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8')) as { source?: string; key?: string; written?: number; images?: number };
    if (m.source === dataset.root && m.key === key && m.images === dataset.samples.length) {
      log(`${outDir}: already enhanced (${m.written} images, ${key}); kept`);
      return;
    }
  }
  const bar = progress({ label: 'enhance', total: dataset.samples.length, unit: 'img' });
  const r = await enhanceFolder(dataset.samples, outDir, { size: null, enhance: DEFAULT_ENHANCE, onProgress: () => bar.tick() });
  bar.done();
  for (const f of r.failed) log(`skipped ${f.file}: ${f.reason}`);
  writeJsonAtomic(marker, { source: dataset.root, key, settings: DEFAULT_ENHANCE, size: null, images: dataset.samples.length, written: r.written.length, skipped: r.failed });
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

/** Trains one model on one task into a fixed run folder: skipped when finished, resumed when interrupted. */
async function trainOne(model: string, task: Task, profile: ProfileName, dataDir: string, seed: number, runsDir: string): Promise<string> {
  const id = `study-${profile}-${model}-${task}`;
  const dir = path.join(runsDir, id);
  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, 'config.json'))) {
    // Interrupted before its record was written: nothing to resume.
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (fs.existsSync(dir)) {
    const { config } = readRunRecord(dir);
    if (config.dataDir !== dataDir || config.seed !== seed) {
      throw new UsageError(`${dir} was trained on ${config.dataDir} with seed ${config.seed}; use another --out for ${dataDir} with seed ${seed}`);
    }
    if (runComplete(dir)) {
      log(`${id}: finished earlier; kept`);
      return dir;
    }
    log(`${id}: resuming`);
    return (await resumeRun(dir, {})).dir;
  }
  const source = registryBackbone(model);
  const config = makeRunConfig({
    model: source.name, task, profile, dataDir, weights: 'imagenet', seed,
    preprocess: source.preprocess, defaultInputSize: source.defaultInputSize, minInputSize: source.minInputSize,
  });
  log(`${id}: training (${profile} profile)`);
  return (await startRun(config, { out: runsDir, id, backbone: source })).dir;
}

/** `cxr study` (`npm start`): the whole study end to end, resumable. */
export function register(program: Command): void {
  program
    .command('study')
    .description('The whole study: data summary, split, enhancement, training of every available backbone on both tasks, evaluation and the report (rerun to resume)')
    .option('--profile <name>', `training schedule: ${PROFILE_NAMES.join(', ')}`, 'quick')
    .option('--models <list>', 'comma-separated backbones (default: those whose ImageNet weights are cached)')
    .option('--data <dir>', 'data folder (default: the shared data set)')
    .option('--out <dir>', 'where runs/, report/ and data/enhanced/ go', PROJECT_ROOT)
    .option('--seed <n>', 'seed of the split and the training', '42')
    .option('--no-enhanced-copy', 'skip writing the enhanced copy of the data folder')
    .action(async (flags: StudyFlags) => {
      const started = Date.now();
      if (!(PROFILE_NAMES as readonly string[]).includes(flags.profile)) throw new UsageError(`unknown profile '${flags.profile}' (choose one of: ${PROFILE_NAMES.join(', ')})`);
      const profile = flags.profile as ProfileName;
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
      const out = path.resolve(flags.out);
      const dataDir = path.resolve(flags.data ?? defaultDataDir());
      const runsDir = path.join(out, 'runs');
      process.once('SIGINT', () => {
        log('\ninterrupted; run the same command again to resume (finished runs are kept, unfinished ones continue from their last epoch)');
        process.exit(130);
      });
      const models = chooseModels(flags.models);
      await initBackend({});

      stage(1, `data summary (${dataDir})`);
      const dataset = await scanForCli({ data: [dataDir] });
      if (dataset.samples.length === 0) throw new CxrError(`${dataDir}: no usable images`);
      log(formatSummary(summarize(dataset)));

      stage(2, `patient-grouped split (seed ${seed})`);
      printSplit(dataset, seed);

      stage(3, 'enhancement (white balance + CLAHE)');
      if (flags.enhancedCopy) await enhancedCopy(dataset, path.join(out, 'data', 'enhanced'));
      else log('enhanced copy skipped (--no-enhanced-copy); training enhances on the fly');

      stage(4, `training: ${models.join(', ')} × ${TASKS.join(', ')} (${profile} profile)`);
      const trained: string[] = [];
      for (const model of models) {
        for (const task of TASKS) trained.push(await trainOne(model, task, profile, dataDir, seed, runsDir));
      }

      stage(5, 'evaluation (test metrics with patient-bootstrap CIs, calibration, occlusion test, Grad-CAM, metadata baseline)');
      const data = await collectStudy(runsDir, {});
      for (const r of data.runs) log(`${r.label} (${r.id}): test accuracy ${(100 * r.test.accuracy.point).toFixed(1)} % (${r.test.accuracy.ci?.map((v) => (100 * v).toFixed(1)).join('–')})`);
      for (const r of data.runs) if (r.analysisError) log(`${r.id}: analysis failed: ${r.analysisError}`);

      stage(6, 'report');
      const report = await writeReportFiles(data, path.join(out, 'report'));
      log(`study finished in ${formatDuration((Date.now() - started) / 1000)} (${trained.length} run(s))`);
      console.log(`report: ${report.html}`);
      console.log(`markdown: ${report.markdown}`);
    });
}
