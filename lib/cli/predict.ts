/**
 * `cxr predict --run runs/<id> <image>...`: each image's class probabilities under a trained run's model,
 * read through the run's own input pipeline (lib/train/run-model.ts), calibrated with the run's temperature
 * and checked by its out-of-distribution gate — what the `cxr serve` page shows, so the two can be compared.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { InputFileError } from '../errors';
import { refusal } from '../eval/colour-gate';
import { mahalanobis2 } from '../eval/ood';
import { calibrate, runTemperature } from '../eval/run-temperature';
import { predictedClass } from '../train/tasks';
import { loadRunModel, predictFile, type ImagePrediction } from '../train/run-model';
import { fileColourShare, gatedInference, loadRunOod } from '../eval/ood-run';

interface PredictFlags {
  run: string;
  json?: boolean;
  uncalibrated?: boolean;
  ood: boolean;
}

/** Registers `cxr predict`. */
export function register(program: Command): void {
  program
    .command('predict')
    .description("Print each image's class probabilities under a trained run's model (calibrated; refused when out of distribution)")
    .requiredOption('--run <dir>', 'run folder (runs/<id>)')
    .option('--json', 'one JSON object per line: {"file","label","probabilities","ood","refusal","distance","colour"}')
    .option('--uncalibrated', "the model's own probabilities, without the run's temperature (what cxr evaluate scores)")
    .option('--no-ood', 'skip the out-of-distribution gate (fitted once per run on first use)')
    .argument('<images...>', 'image files')
    .action(async (images: string[], opts: PredictFlags) => {
      const rm = await loadRunModel(path.resolve(opts.run));
      try {
        const temperature = opts.uncalibrated ? 1 : runTemperature(rm.dir).temperature;
        const ood = opts.ood ? await loadRunOod(rm, (line) => console.error(`note: ${line}`)) : null;
        // With the gate, one pass per image gives the probabilities and the pooled features it scores.
        const gated = ood ? gatedInference(rm) : undefined;
        // Each image on its own: a bad file is reported (exit code 2) without hiding the others' results.
        const results: ImagePrediction[] = [];
        const colours: number[] = [];
        try {
          for (const image of images) {
            try {
              const r = await predictFile(rm, image, gated);
              // The colour test reads the image at full size, as the page does.
              if (ood) colours.push(await fileColourShare(image));
              results.push(r);
            } catch (err) {
              if (!(err instanceof InputFileError)) throw err;
              console.error(`cxr: error: ${err.message}`);
              process.exitCode = err.exitCode;
            }
          }
        } finally {
          gated?.dispose();
        }
        results.forEach((r, i) => {
          const probs = calibrate(rm.classes.map((c) => r.probabilities[c]), temperature);
          const probabilities = Object.fromEntries(rm.classes.map((c, k) => [c, probs[k]]));
          const distance = ood ? mahalanobis2(ood.gate, r.features!) : null;
          const why = ood ? refusal(colours[i], distance!, ood.gate.threshold) : null;
          const refused = ood ? why !== null : null;
          const label = predictedClass(rm.task, probs);
          if (opts.json) console.log(JSON.stringify({ file: r.file, label, probabilities, ood: refused, refusal: why, distance, colour: ood ? colours[i] : null }));
          else {
            const shown = rm.classes.map((c) => `${c} ${probabilities[c].toFixed(4)}`).join('  ');
            const note = why === 'colour' ? 'a colour image, not a chest X-ray' : 'not like the training X-rays';
            console.log(`${r.file}\t${label}\t${shown}${refused ? `\tOUT OF DISTRIBUTION (${note}: no diagnosis)` : ''}`);
          }
        });
      } finally {
        rm.dispose();
      }
    });
}
