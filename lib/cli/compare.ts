import * as path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend';
import { UsageError } from '../errors';
import { progress } from '../io/progress';
import { compareRunsOnFolder, folderComparisonJson, type ComparedRun } from '../eval/compare-runs';
import { operatingPointTable, pairwiseTable } from '../eval/compare-table';
import { DEFAULT_PREVALENCES, type OperatingPoint } from '../eval/operating-point';
import { markdownTable } from '../eval/report-table';

interface CompareFlags {
  runs: string[];
  data: string;
  json?: boolean;
  quiet?: boolean;
  resamples: string;
  seed: string;
  targetSensitivity: string;
  prevalences: string;
}

function parseFlags(flags: CompareFlags) {
  const resamples = Number(flags.resamples);
  const seed = Number(flags.seed);
  const target = Number(flags.targetSensitivity);
  const prevalences = flags.prevalences.split(',').map((s) => Number(s.trim()));
  if (flags.runs.length < 2) throw new UsageError(`--runs needs at least two run folders, got ${flags.runs.length}`);
  if (!Number.isInteger(resamples) || resamples < 1000) throw new UsageError(`--resamples must be an integer ≥ 1000, got '${flags.resamples}'`);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
  if (!(target > 0 && target <= 1)) throw new UsageError(`--target-sensitivity must be in (0, 1], got '${flags.targetSensitivity}'`);
  if (prevalences.some((q) => !(q > 0 && q < 1))) throw new UsageError(`--prevalences must be fractions in (0, 1) separated by commas, got '${flags.prevalences}'`);
  return { resamples, seed, target, prevalences };
}

/** `cxr compare --runs A B [C …] --data DIR [--json]`: paired tests of models scored on the same images. */
export function register(program: Command): void {
  program
    .command('compare')
    .description("Compare trained runs on the same images: DeLong's test of the AUCs, exact McNemar, accuracy difference with a paired patient-bootstrap CI; per run, the operating point for a target COVID sensitivity (threshold from its validation split) with PPV/NPV")
    .requiredOption('--runs <dirs...>', 'two or more run folders (runs/<id>) of the same task')
    .requiredOption('--data <dir>', 'data folder scored by every run (class folders covid/, viral/, normal/; optional manifest.csv for patient ids)')
    .option('--json', 'also print the result as one JSON object on the last line')
    .option('--target-sensitivity <x>', 'COVID sensitivity the validation threshold must reach', '0.95')
    .option('--prevalences <list>', 'prevalences for PPV and NPV, comma-separated', DEFAULT_PREVALENCES.join(','))
    .option('--resamples <n>', 'bootstrap resamples (patients)', '2000')
    .option('--seed <n>', 'bootstrap seed', '0')
    .option('--quiet', 'no progress output')
    .action(async (flags: CompareFlags) => {
      const { resamples, seed, target, prevalences } = parseFlags(flags);
      await initBackend({ quiet: flags.quiet });
      let bar: ReturnType<typeof progress> | undefined;
      let current = '';
      let shown = 0;
      const r = await compareRunsOnFolder(flags.runs, path.resolve(flags.data), {
        bootstrap: { resamples, seed },
        targetSensitivity: target,
        prevalences,
        onProgress: flags.quiet
          ? undefined
          : (name, done, total) => {
              if (name !== current) {
                bar?.done();
                bar = undefined;
                current = name;
                shown = 0;
              }
              bar ??= progress({ label: name, total, unit: 'img' });
              bar.tick(done - shown);
              shown = done;
            },
      });
      bar?.done();
      for (const p of r.problems) console.error(`skipped ${p.file}: ${p.reason}`);
      const points = r.runs.filter((x): x is ComparedRun & { operatingPoint: OperatingPoint } => !('error' in x.operatingPoint));
      const pairs = pairwiseTable(r.pairs);
      const ops = operatingPointTable(points.map((x) => ({ name: x.name, point: x.operatingPoint })));
      const first = r.pairs[0];
      console.log(
        [
          `data: ${r.dataDir} (${first.n} images, ${first.patients} patients${r.problems.length ? `, ${r.problems.length} skipped` : ''})`,
          ...r.runs.map((x) => `run ${x.name}: ${x.dir} (${x.model}, ${x.task})`),
          '',
          `Paired tests (DeLong: ${r.classes.length === 2 ? `AUC of ${r.classes[0]}` : `one-vs-rest per class, Holm-adjusted; headline ${r.classes[0]}`}; McNemar: b = A right and B wrong, c = A wrong and B right, exact; CI: ${resamples} bootstrap resamples of patients, seed ${seed}):`,
          ...markdownTable(pairs.header, pairs.rows),
          '',
          `Operating point for ${r.classes[0]}: the threshold reaching ${(100 * target).toFixed(0)} % sensitivity on each run's validation split, measured on ${r.dataDir}:`,
          ...markdownTable(ops.header, ops.rows),
          ...r.runs.filter((x) => 'error' in x.operatingPoint).map((x) => `${x.name}: no operating point (${(x.operatingPoint as { error: string }).error})`),
        ].join('\n'),
      );
      if (flags.json) console.log(JSON.stringify(folderComparisonJson(r)));
    });
}
