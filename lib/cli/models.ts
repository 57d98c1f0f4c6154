/**
 * `cxr models` and `cxr weights`: the backbones the toolkit builds, their parameter counts and where their
 * ImageNet weights come from, and fetching those weights into the cache (or saying where to put them offline).
 */
import type { Command } from 'commander';
import { initBackend } from '../backend';
import { BACKBONE_NAMES, BACKBONES, getBackbone } from '../models/registry';
import { fetchWeights, offlineInstructions, weightsCached, weightsPath } from '../models/weights';
import type { BackboneSpec } from '../models/types';

/** What `cxr models` reports for one backbone. */
export interface BackboneRow {
  name: string;
  inputSize: number;
  /** Counted by building the model (no top). */
  params: number;
  weightsSource: string;
  cached: boolean;
  weightsPath: string;
}

function sourceText(spec: BackboneSpec): string {
  const w = spec.weights;
  return w.kind === 'keras-h5' ? `keras ${w.fileName}` : `npm ${w.package}@${w.version}`;
}

/** Builds each backbone (at its smallest input: the parameter count does not depend on it) and checks its cache. */
export async function backboneRows(): Promise<BackboneRow[]> {
  const rows: BackboneRow[] = [];
  for (const name of BACKBONE_NAMES) {
    const spec = BACKBONES[name];
    const model = spec.build({ inputSize: spec.minInputSize });
    const params = model.countParams();
    model.dispose();
    rows.push({ name, inputSize: spec.defaultInputSize, params, weightsSource: sourceText(spec), cached: await weightsCached(spec), weightsPath: weightsPath(spec) });
  }
  return rows;
}

export function formatBackboneRows(rows: BackboneRow[]): string {
  return rows
    .map((r) => [r.name.padEnd(18), String(r.inputSize).padStart(3), r.params.toLocaleString('en-US').padStart(11), r.weightsSource.padEnd(72), r.cached ? 'cached' : 'not cached'].join('  '))
    .join('\n');
}

/** `cxr models`, `cxr weights fetch <model>`, `cxr weights path <model>`. */
export function register(program: Command): void {
  program
    .command('models')
    .description('List the backbones: name, default input size, parameters (no top), ImageNet weights source, cached or not')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { json?: boolean }) => {
      await initBackend({ quiet: true });
      const rows = await backboneRows();
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatBackboneRows(rows));
    });

  const weights = program.command('weights').description('ImageNet weights of the backbones (cache: .cache/weights)');
  weights
    .command('fetch <model>')
    .description('Download (resumable, MD5-checked) or unpack the ImageNet weights into the cache; prints their path')
    .option('--quiet', 'no progress bar')
    .action(async (model: string, opts: { quiet?: boolean }) => {
      console.log(await fetchWeights(getBackbone(model), { silent: opts.quiet }));
    });
  weights
    .command('path <model>')
    .description('Print where the ImageNet weights of <model> are (or go); says on stderr how to get them if missing')
    .action(async (model: string) => {
      const spec = getBackbone(model);
      console.log(weightsPath(spec));
      if (!(await weightsCached(spec))) {
        console.error(`not cached: ${offlineInstructions(spec)}`);
        process.exitCode = 1;
      }
    });
}
