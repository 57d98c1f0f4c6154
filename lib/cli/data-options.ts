/**
 * The data options every command that reads data folders shares: `--data` (repeatable: folders are
 * merged), `--class-map NAME=CLASS` (repeatable) and the scan flags, defined once so that `cxr data`,
 * `train`, `study` and `evaluate` read data the same way.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { parseClassMap, type ClassMap } from '../data/labels';
import { loadData } from '../data/merge';
import type { Dataset } from '../data/types';
import { progress } from '../io/progress';
import { defaultDataDirs } from '../paths';

/**
 * Class map used with the default data folders: `../shared/cxr-adult/pneumonia/` (adult pneumonia of
 * unspecified cause, NIH) joins the viral class as adult non-COVID pneumonia; without it every viral
 * image is a child and "viral" means "paediatric". Given explicitly, `--class-map` replaces it.
 */
export const DEFAULT_CLASS_MAP: ClassMap = Object.freeze({ pneumonia: 'viral' });

export interface DataFlags {
  data?: string[];
  classMap?: string[];
  strict?: boolean;
  verifyPixels?: boolean;
}

/** The data folders and class map a command's flags choose (defaults when `--data` is absent). */
export interface DataChoice {
  dirs: string[];
  classMap: ClassMap;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * Adds `--data <dir>` (repeatable) and `--class-map <name=class>` (repeatable) to a command.
 * @param scanFlags also add `--strict` and `--verify-pixels`
 */
export function addDataOptions(cmd: Command, scanFlags = true): Command {
  const defaults = defaultDataDirs().map((d) => path.relative(process.cwd(), d) || '.').join(' + ');
  cmd
    .option('--data <dir>', `data folder; repeat to merge several (default: ${defaults})`, collect)
    .option('--class-map <name=class>', `read an extra class folder as a class, e.g. pneumonia=viral; repeatable (default with the default folders: pneumonia=viral)`, collect);
  if (scanFlags) {
    cmd
      .option('--strict', 'fail on the first bad file instead of skipping it')
      .option('--verify-pixels', 'also decode every image to catch corruption (slower)');
  }
  return cmd;
}

/** Data folders and class map from the flags: given ones, else the defaults with DEFAULT_CLASS_MAP. */
export function dataChoice(flags: Pick<DataFlags, 'data' | 'classMap'>): DataChoice {
  const given = flags.data && flags.data.length > 0;
  const dirs = given ? flags.data!.map((d) => path.resolve(d)) : defaultDataDirs();
  const classMap = flags.classMap && flags.classMap.length > 0 ? parseClassMap(flags.classMap) : given ? {} : { ...DEFAULT_CLASS_MAP };
  return { dirs, classMap };
}

/** Scans the chosen folders with a progress bar; skipped files go to stderr, one line each. */
export async function scanForCli(flags: DataFlags): Promise<Dataset> {
  const { dirs, classMap } = dataChoice(flags);
  let bar: ReturnType<typeof progress> | undefined;
  const dataset = await loadData(dirs, {
    classMap,
    strict: flags.strict,
    verifyPixels: flags.verifyPixels,
    onProgress: (done, total) => {
      bar ??= progress({ label: 'scan', total, unit: 'img' });
      bar.tick();
      if (done === total) {
        bar.done();
        bar = undefined;
      }
    },
  });
  for (const p of dataset.problems) console.error(`skipped ${p.file}: ${p.reason}`);
  if (dataset.problems.length > 0) console.error(`${dataset.problems.length} file(s) skipped (use --strict to fail instead)`);
  return dataset;
}
