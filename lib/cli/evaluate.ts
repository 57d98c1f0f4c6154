/**
 * `cxr evaluate`: a trained run's model scored on any data folder (external evaluation: every image is a test
 * image), printed as the report prints it (patient-bootstrap CIs, per-class table, confusion matrix).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend';
import { UsageError } from '../errors';
import { progress } from '../io/progress';
import { evaluateFolder } from '../eval/evaluate';
import { confusionTable, formatEstimate, markdownTable } from '../eval/report-table';
import { summaryJson } from '../eval/summary';

interface EvaluateFlags {
  run: string;
  data: string;
  json?: boolean;
  resamples: string;
  seed: string;
  quiet?: boolean;
}

/** `cxr evaluate --run runs/<id> --data DIR [--json]`: a trained model scored on any folder (all images are test). */
export function register(program: Command): void {
  program
    .command('evaluate')
    .description("Score a trained run's model on a data folder (every image is a test image): accuracy with a patient-bootstrap CI, per-class sensitivity/specificity, confusion matrix")
    .requiredOption('--run <dir>', 'run folder (runs/<id>)')
    .requiredOption('--data <dir>', 'data folder with class folders covid/, viral/, normal/ (optional manifest.csv for patient ids)')
    .option('--json', 'also print the result as one JSON object on the last line')
    .option('--resamples <n>', 'bootstrap resamples (patients)', '2000')
    .option('--seed <n>', 'bootstrap seed', '0')
    .option('--quiet', 'no progress output')
    .action(async (flags: EvaluateFlags) => {
      const resamples = Number(flags.resamples);
      const seed = Number(flags.seed);
      if (!Number.isInteger(resamples) || resamples < 1000) throw new UsageError(`--resamples must be an integer ≥ 1000, got '${flags.resamples}'`);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
      await initBackend({ quiet: flags.quiet });
      let bar: ReturnType<typeof progress> | undefined;
      let shown = 0;
      const r = await evaluateFolder(path.resolve(flags.run), path.resolve(flags.data), {
        bootstrap: { resamples, seed },
        onProgress: flags.quiet
          ? undefined
          : (done, total) => {
              bar ??= progress({ label: 'evaluate', total, unit: 'img' });
              bar.tick(done - shown);
              shown = done;
            },
      });
      bar?.done();
      for (const p of r.problems) console.error(`skipped ${p.file}: ${p.reason}`);
      const s = r.summary;
      const lines = [
        `run: ${r.runDir}`,
        `data: ${r.dataDir} (${s.n} images, ${s.patients} patients${r.problems.length ? `, ${r.problems.length} skipped` : ''})`,
        `accuracy: ${formatEstimate(s.accuracy)}   macro F1: ${formatEstimate(s.macroF1)}   AUC: ${formatEstimate(s.auc, { percent: false })}`,
        `(95 % CIs: ${s.bootstrap?.resamples} bootstrap resamples of patients, seed ${s.bootstrap?.seed})`,
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
      console.log(lines.join('\n'));
      if (flags.json) console.log(JSON.stringify(summaryJson(s)));
    });
}
