/**
 * `cxr evaluate`: a trained run's model scored on any data folders (external evaluation: every image is a test
 * image; several folders are merged) or, without `--data`, on the run's own test split; printed as the report
 * prints it (patient-bootstrap CIs, per-class table, confusion matrix), and per source, age group or dataset
 * with `--by`.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend';
import { UsageError } from '../errors';
import { progress } from '../io/progress';
import { evaluateDataset, evaluateRunTest, type Evaluation } from '../eval/evaluate';
import { parseGroupKeys } from '../eval/groups';
import { groupsJson, groupTable } from '../eval/groups-table';
import { confusionTable, formatEstimate, markdownTable } from '../eval/report-table';
import { summaryJson } from '../eval/summary';
import { readRunRecord } from '../train/run-folder';
import { addDataOptions, scanForCli, type DataFlags } from './data-options';

interface EvaluateFlags extends DataFlags {
  run: string;
  by?: string[];
  json?: boolean;
  resamples: string;
  seed: string;
  quiet?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `cxr evaluate --run runs/<id> [--data DIR …] [--by source|age_group|dataset] [--json]`. */
export function register(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description("Score a trained run's model on data folders (every image is a test image) or, without --data, on its own test split: accuracy with a patient-bootstrap CI, per-class sensitivity/specificity, confusion matrix; --by adds the same per source, age group or dataset")
    .requiredOption('--run <dir>', 'run folder (runs/<id>)');
  addDataOptions(cmd);
  // The shared option names the study's default folders; evaluate's default is the run's own test split.
  const data = cmd.options.find((o) => o.long === '--data');
  if (data) data.description = "data folder with class folders covid/, viral/, normal/ (optional manifest.csv); repeat to merge several (default: the run's own test split)";
  cmd
    .option('--by <key>', 'also score per group: source, age_group or dataset (repeatable or comma-separated)', collect)
    .option('--json', 'also print the result as one JSON object on the last line')
    .option('--resamples <n>', 'bootstrap resamples (patients)', '2000')
    .option('--seed <n>', 'bootstrap seed', '0')
    .option('--quiet', 'no progress output')
    .action(async (flags: EvaluateFlags) => {
      const resamples = Number(flags.resamples);
      const seed = Number(flags.seed);
      if (!Number.isInteger(resamples) || resamples < 1000) throw new UsageError(`--resamples must be an integer ≥ 1000, got '${flags.resamples}'`);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
      const by = parseGroupKeys(flags.by);
      const given = (flags.data ?? []).length > 0;
      if (!given && (flags.classMap ?? []).length > 0) throw new UsageError("--class-map needs --data (without --data the run's own folders and class map are used)");
      const runDir = path.resolve(flags.run);
      const bootstrap = { resamples, seed };
      let r: Evaluation;
      if (given) {
        const dataset = await scanForCli(flags);
        await initBackend({ quiet: flags.quiet });
        let bar: ReturnType<typeof progress> | undefined;
        let shown = 0;
        r = await evaluateDataset(runDir, dataset, {
          bootstrap,
          by,
          onProgress: flags.quiet
            ? undefined
            : (done, total) => {
                bar ??= progress({ label: 'evaluate', total, unit: 'img' });
                bar.tick(done - shown);
                shown = done;
              },
        });
        bar?.done();
      } else {
        const { config } = readRunRecord(runDir);
        if (by.length > 0 && config.data.length === 0) throw new UsageError(`${runDir}: the run records no data folder; give --data to group its images`);
        // Grouping needs each test image's source and age: the run's folders are read again as it read them.
        const classMap = Object.entries(config.classMap).map(([name, label]) => `${name}=${label}`);
        const dataset = by.length > 0 ? await scanForCli({ ...flags, data: config.data, classMap }) : null;
        r = evaluateRunTest(runDir, dataset, { bootstrap, by });
      }
      console.log(evaluationLines(r).join('\n'));
      if (flags.json) console.log(JSON.stringify({ ...summaryJson(r.summary), ...(by.length > 0 ? { by: groupsJson(r.by) } : {}) }));
    });
}

/** The text `cxr evaluate` prints: headline, per-class table, confusion matrix, then one table per `--by` key. */
export function evaluationLines(r: Evaluation): string[] {
  const s = r.summary;
  const where = r.testSplit ? `the run's test split (${r.data.join(' + ')})` : r.data.join(' + ');
  const boot = s.bootstrap ? `${s.bootstrap.resamples} bootstrap resamples of patients, seed ${s.bootstrap.seed}` : 'none';
  const lines = [
    `run: ${r.runDir}`,
    `data: ${where} (${s.n} images, ${s.patients} patients${r.problems.length ? `, ${r.problems.length} skipped` : ''})`,
    `accuracy: ${formatEstimate(s.accuracy)}   macro F1: ${formatEstimate(s.macroF1)}   AUC: ${formatEstimate(s.auc, { percent: false })}`,
    `(95 % CIs: ${boot})`,
    '',
    ...markdownTable(
      ['class', 'n', 'sensitivity (95 % CI)', 'specificity (95 % CI)', 'precision', 'F1'],
      s.classes.map((c) => {
        const k = s.perClass[c];
        return [c, String(k.support), formatEstimate(k.sensitivity), formatEstimate(k.specificity), formatEstimate({ point: k.precision }), formatEstimate({ point: k.f1 })];
      }),
    ),
    '',
    'confusion matrix (rows: true class, columns: predicted):',
    ...confusionTable(s.confusion, s.classes),
  ];
  for (const [key, rows] of Object.entries(r.by)) {
    lines.push('', `by ${key.replace('_', ' ')} (%, 95 % CI from resampling each group's own patients; — where undefined):`, ...groupTable(key as keyof Evaluation['by'], rows, r.classes));
  }
  return lines;
}
