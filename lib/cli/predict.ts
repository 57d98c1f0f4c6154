import * as path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend';
import { InputFileError } from '../errors';
import { loadRunPredictor, type ImagePrediction } from '../train/predict';

/** `cxr predict --run runs/<id> <image>...`: class probabilities of each image. */
export function register(program: Command): void {
  program
    .command('predict')
    .description("Print each image's class probabilities under a trained run's model")
    .requiredOption('--run <dir>', 'run folder (runs/<id>)')
    .option('--json', 'print JSON')
    .argument('<images...>', 'image files')
    .action(async (images: string[], opts: { run: string; json?: boolean }) => {
      await initBackend({ quiet: true });
      const predictor = await loadRunPredictor(path.resolve(opts.run));
      const results: ImagePrediction[] = [];
      try {
        // Each image on its own: a bad file is reported (exit code 2) without hiding the others' results.
        for (const image of images) {
          let r: ImagePrediction;
          try {
            [r] = await predictor.predict([image]);
          } catch (err) {
            if (!(err instanceof InputFileError)) throw err;
            console.error(`cxr: error: ${err.message}`);
            process.exitCode = err.exitCode;
            continue;
          }
          results.push(r);
          if (!opts.json) {
            const probs = predictor.classes.map((c) => `${c} ${r.probabilities[c].toFixed(4)}`).join('  ');
            console.log(`${r.file}\t${r.predicted}\t${probs}`);
          }
        }
        if (opts.json) console.log(JSON.stringify(results, null, 2));
      } finally {
        predictor.dispose();
      }
    });
}
