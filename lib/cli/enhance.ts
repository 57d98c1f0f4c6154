/**
 * `cxr enhance`: the study's white balance + grey + CLAHE on one image, or on a whole data folder into another
 * folder (both cores, progress bar, a manifest of what was done), for looking at what the network is fed.
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { progress } from '../io/progress';
import { defaultDataDir } from '../paths';
import { tileGridSize } from '../enhance/clahe';
import { enhanceFile } from '../enhance/file';
import { enhanceFolder } from '../enhance/folder';
import { enhanceKey, type EnhanceOptions } from '../enhance/pipeline';
import { scanForCli } from './data-options';

interface EnhanceFlags {
  size: number;
  keepSize?: boolean;
  whiteBalance: boolean;
  clahe: boolean;
  clipLimit: number;
  tileGrid: [number, number];
  data?: string;
  out?: string;
  strict?: boolean;
  jobs?: number;
}

function positiveInteger(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function clipLimit(text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError('clip limit must be a number >= 0 (0 disables clipping)');
  return x;
}

/** `N` for an N×N grid or `CxR` for C columns and R rows. */
function tileGrid(text: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError('tile grid must be N or CxR, e.g. 16 or 8x4');
  try {
    return tileGridSize([Number(m[1]), Number(m[2] ?? m[1])]);
  } catch {
    throw new InvalidArgumentError('tile grid sizes must be positive integers');
  }
}

function enhanceOptions(flags: EnhanceFlags): EnhanceOptions {
  return {
    whiteBalance: flags.whiteBalance,
    clahe: flags.clahe ? { clipLimit: flags.clipLimit, tileGrid: flags.tileGrid } : null,
  };
}

/** True when `inner` is `outer` or inside it. */
function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function enhanceOne(input: string, output: string, flags: EnhanceFlags): Promise<void> {
  if (path.extname(output).toLowerCase() !== '.png') throw new UsageError(`${output}: the output must be a .png file`);
  const { width, height } = await enhanceFile(input, output, { size: flags.keepSize ? null : flags.size, enhance: enhanceOptions(flags) });
  console.log(`${output} ${width}x${height} ${enhanceKey(enhanceOptions(flags))}`);
}

async function enhanceData(flags: EnhanceFlags): Promise<void> {
  if (!flags.out) throw new UsageError('--data needs --out DIR (the data folder is never written to)');
  const outDir = path.resolve(flags.out);
  const root = path.resolve(flags.data ?? defaultDataDir());
  if (isInside(outDir, root)) throw new UsageError(`${outDir}: the output folder must be outside the data folder ${root}`);
  const dataset = await scanForCli({ data: [root], strict: flags.strict });
  const opts = enhanceOptions(flags);
  const size = flags.keepSize ? null : flags.size;
  const bar = progress({ label: 'enhance', total: dataset.samples.length, unit: 'img' });
  const result = await enhanceFolder(dataset.samples, outDir, {
    size,
    enhance: opts,
    jobs: flags.jobs,
    strict: flags.strict,
    onProgress: () => bar.tick(),
  });
  bar.done();
  // The scan already reported its own problems.
  for (const f of result.failed) console.error(`skipped ${f.file}: ${f.reason}`);
  const failed = [...dataset.problems, ...result.failed];
  writeJsonAtomic(path.join(outDir, 'enhance.json'), {
    source: dataset.root,
    settings: { ...opts, size, key: enhanceKey(opts) },
    written: result.written.length,
    skipped: failed,
  });
  console.log(`${result.written.length} images enhanced into ${outDir} (${enhanceKey(opts)}, ${size === null ? 'original size' : `size ${size}`}); ${failed.length} skipped`);
}

export function register(program: Command): void {
  program
    .command('enhance')
    .description('white balance + grey + CLAHE (the study\'s enhancement) of one image, or of a whole data folder with --data/--out')
    .argument('[input]', 'image file to enhance')
    .argument('[output]', 'output .png (8-bit grey)')
    .option('--size <n>', 'output size, stretched to n x n as the study did', positiveInteger('--size'), 224)
    .option('--keep-size', 'keep the image\'s own size (nothing is resampled)')
    .option('--no-white-balance', 'skip the percentile white balance')
    .option('--no-clahe', 'skip CLAHE')
    .option('--clip-limit <x>', 'CLAHE clip limit', clipLimit, 2.0)
    .addOption(new Option('--tile-grid <n>', 'CLAHE tile grid, N or CxR').argParser(tileGrid).default([16, 16], '16'))
    .option('--data <dir>', 'enhance every image of this data folder (class subfolders)')
    .option('--out <dir>', 'output folder for --data (class subfolders mirrored)')
    .option('--strict', 'with --data: fail at the first bad file instead of skipping it')
    .option('--jobs <n>', 'with --data: worker threads (default: one per core)', positiveInteger('--jobs'))
    .action(async (input: string | undefined, output: string | undefined, flags: EnhanceFlags, cmd: Command) => {
      if (flags.keepSize && cmd.getOptionValueSource('size') === 'cli') throw new UsageError('--size and --keep-size exclude each other');
      if (flags.data !== undefined || flags.out !== undefined) {
        if (input !== undefined) throw new UsageError('give either <input> <output> or --data DIR --out DIR, not both');
        return enhanceData(flags);
      }
      if (input === undefined || output === undefined) throw new UsageError('enhance needs <input> <output.png>, or --data DIR --out DIR');
      return enhanceOne(input, output, flags);
    });
}
