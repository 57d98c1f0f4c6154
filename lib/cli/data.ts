import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CxrError, UsageError } from '../errors';
import { writeCsvAtomic } from '../io/csv';
import { PROJECT_ROOT } from '../paths';
import { fetchDataset } from '../data/fetch';
import { DEFAULT_SEED, SPLIT_CSV_COLUMNS, parseFractions, splitDataset, splitToCsvRows } from '../data/split';
import { formatSummary, summarize } from '../data/summary';
import { LABELS } from '../data/labels';
import { SPLIT_NAMES } from '../data/types';
import { addDataOptions, dataChoice, scanForCli, type DataFlags } from './data-options';

function integer(name: string, min: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function isInside(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function register(program: Command): void {
  const data = program.command('data').description('scan, summarise, split and fetch the chest X-ray data folder');

  addDataOptions(
    data
      .command('summary')
      .description('counts per class, source, format and age group; sizes, patients, duplicates; confound audit')
      .option('--json', 'print the summary as JSON'),
  ).action(async (o: DataFlags & { json?: boolean }) => {
    const dataset = await scanForCli(o);
    const summary = summarize(dataset);
    const problems = dataset.problems;
    console.log(o.json ? JSON.stringify({ ...summary, problems }, null, 2) : formatSummary(summary));
  });

  addDataOptions(
    data
      .command('split')
      .description('patient-grouped, class-stratified train/val/test split, written as CSV (file,label,patient_id,split)')
      .option('--seed <n>', 'random seed', integer('--seed', 0), DEFAULT_SEED)
      .option('--fractions <train,val,test>', 'split fractions', '0.7,0.15,0.15')
      .requiredOption('--out <file.csv>', 'CSV to write'),
  ).action(async (o: DataFlags & { seed: number; fractions: string; out: string }) => {
    const fractions = parseFractions(o.fractions);
    const out = path.resolve(o.out);
    for (const root of dataChoice(o).dirs) {
      if (isInside(out, root)) throw new UsageError(`--out ${out} is inside the data folder ${root}, which is never written to`);
    }
    const dataset = await scanForCli(o);
    if (dataset.samples.length === 0) throw new CxrError(`${dataset.root}: no usable images to split`);
    const split = splitDataset(dataset.samples, { seed: o.seed, fractions });
    writeCsvAtomic(out, splitToCsvRows(split), SPLIT_CSV_COLUMNS);
    console.log(`split of ${dataset.samples.length} images (seed ${split.seed}) written to ${out}`);
    console.log(`${'split'.padEnd(6)}${LABELS.map((l) => l.padStart(8)).join('')}${'total'.padStart(8)}${'patients'.padStart(10)}`);
    for (const name of SPLIT_NAMES) {
      const s = split[name];
      const perClass = LABELS.map((l) => String(s.filter((x) => x.label === l).length).padStart(8)).join('');
      console.log(`${name.padEnd(6)}${perClass}${String(s.length).padStart(8)}${String(new Set(s.map((x) => x.patientId)).size).padStart(10)}`);
    }
  });

  data
    .command('fetch')
    .description("rebuild the data folder from the public sources its manifest names (or copy a local copy with --from)")
    .option('--out <dir>', 'folder to build', path.join(PROJECT_ROOT, 'data', 'cxr'))
    .option('--from <dir>', 'copy from a local copy instead of downloading (checked against sha256)')
    .option('--manifest <file>', 'manifest to fetch', path.join(PROJECT_ROOT, 'data', 'manifest.csv'))
    .option('--base-url <url>', 'raw-file server: <url>/<repo>/<commit>/<path>', 'https://raw.githubusercontent.com')
    .option('--retries <n>', 'extra attempts per download', integer('--retries', 0), 4)
    .option('--retry-delay <ms>', 'first retry delay, doubling each time', integer('--retry-delay', 0), 1000)
    .option('--concurrency <n>', 'downloads at once', integer('--concurrency', 1), 4)
    .option('--strict', 'stop at the first failed file')
    .action(async (o: { out: string; from?: string; manifest: string; baseUrl: string; retries: number; retryDelay: number; concurrency: number; strict?: boolean }) => {
      const report = await fetchDataset({
        manifest: path.resolve(o.manifest),
        out: path.resolve(o.out),
        from: o.from,
        baseUrl: o.baseUrl,
        retries: o.retries,
        retryDelayMs: o.retryDelay,
        concurrency: o.concurrency,
        strict: o.strict,
      });
      console.log(`${report.fetched.length} fetched, ${report.present.length} already present, ${report.failed.length} failed; manifest of the folder: ${report.manifest}`);
      if (report.hashDiffers.length > 0) {
        console.log(`${report.hashDiffers.length} resized file(s) differ in bytes from the shared copy (expected: the originals matched; resampler and encoder differ)`);
      }
      if (report.failed.length > 0) {
        for (const f of report.failed) console.error(`failed ${f.file}: ${f.reason}`);
        throw new CxrError(`${report.failed.length} of ${report.failed.length + report.fetched.length + report.present.length} file(s) failed; run the same command again to resume`);
      }
    });
}
