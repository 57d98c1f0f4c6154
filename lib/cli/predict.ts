/**
 * `cxr predict --run runs/<id> <image>...`: each image's class probabilities under a trained run's model,
 * read through the run's own input pipeline (lib/train/run-model.ts), so the numbers equal `cxr evaluate`'s.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { InputFileError } from '../errors';
import { loadRunModel, predictFile, type ImagePrediction } from '../train/run-model';

/** Registers `cxr predict`. */
export function register(program: Command): void {
  program
    .command('predict')
    .description("Print each image's class probabilities under a trained run's model")
    .requiredOption('--run <dir>', 'run folder (runs/<id>)')
    .option('--json', 'print JSON')
    .argument('<images...>', 'image files')
    .action(async (images: string[], opts: { run: string; json?: boolean }) => {
      const rm = await loadRunModel(path.resolve(opts.run));
      const results: ImagePrediction[] = [];
      try {
        // Each image on its own: a bad file is reported (exit code 2) without hiding the others' results.
        for (const image of images) {
          let r: ImagePrediction;
          try {
            r = await predictFile(rm, image);
          } catch (err) {
            if (!(err instanceof InputFileError)) throw err;
            console.error(`cxr: error: ${err.message}`);
            process.exitCode = err.exitCode;
            continue;
          }
          results.push(r);
          if (!opts.json) {
            const probs = rm.classes.map((c) => `${c} ${r.probabilities[c].toFixed(4)}`).join('  ');
            console.log(`${r.file}\t${r.predicted}\t${probs}`);
          }
        }
        if (opts.json) console.log(JSON.stringify(results, null, 2));
      } finally {
        rm.dispose();
      }
    });
}
