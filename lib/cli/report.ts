/**
 * `cxr report`: the study report (self-contained HTML and Markdown) from the finished runs; a thin call into
 * lib/report/write.ts.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { PROJECT_ROOT } from '../paths';
import { writeReport } from '../report/write';

interface ReportFlags {
  runs: string;
  out: string;
  analysis: boolean;
  resamples: string;
  quiet?: boolean;
}

/** `cxr report [--runs runs/] [--out report/]`: the study report as self-contained HTML and Markdown. */
export function register(program: Command): void {
  program
    .command('report')
    .description('Write the study report (self-contained HTML + Markdown) from the finished runs')
    .option('--runs <dir>', 'folder of run folders', path.join(PROJECT_ROOT, 'runs'))
    .option('--out <dir>', 'report folder (replaced as a whole)', path.join(PROJECT_ROOT, 'report'))
    .option('--no-analysis', 'skip the occlusion test and Grad-CAM (they need the models; stored per run once computed)')
    .option('--resamples <n>', 'bootstrap resamples for the confidence intervals', '2000')
    .option('--quiet', 'no progress output')
    .action(async (flags: ReportFlags) => {
      const resamples = Number(flags.resamples);
      if (!Number.isInteger(resamples) || resamples < 1000) throw new UsageError(`--resamples must be an integer ≥ 1000, got '${flags.resamples}'`);
      const r = await writeReport(path.resolve(flags.runs), path.resolve(flags.out), { analysis: flags.analysis, resamples, quiet: flags.quiet });
      for (const s of r.data.skipped) console.error(`report: left out ${s.dir}: ${s.reason}`);
      console.log(`report: ${r.html} (and ${path.basename(r.markdown)}; ${r.data.runs.length} run(s), ${r.figures} figure(s))`);
    });
}
