import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputFileError } from '../errors';
import { compileInference } from '../graph/inference';
import { loadModel } from '../models/io';
import { preprocessInput } from '../models/preprocess';
import './head'; // registers SeededDropout for loading
import { loadTrainingImage } from '../data/input/images';
import { readRunRecord } from './run';
import { predictedClass, taskSpec } from './tasks';

/** One image's class probabilities under a trained run's model. */
export interface ImagePrediction {
  file: string;
  predicted: string;
  /** Probability per class, in the task's class order. */
  probabilities: Record<string, number>;
}

/** A run's best model with the image settings it was trained with. */
export interface RunPredictor {
  classes: readonly string[];
  predict(files: readonly string[]): Promise<ImagePrediction[]>;
  dispose(): void;
}

/** Loads `runs/<id>/model` and the run's settings (input size, enhancement, preprocessing). */
export async function loadRunPredictor(runDir: string): Promise<RunPredictor> {
  const { config } = readRunRecord(runDir);
  const modelDir = path.join(runDir, 'model');
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) throw new InputFileError(runDir, 'the run has no model yet (training not finished; see --resume)');
  const model = await loadModel(modelDir);
  const inference = compileInference(model);
  const task = taskSpec(config.task);
  return {
    classes: task.classes,
    async predict(files) {
      const out: ImagePrediction[] = [];
      for (const file of files) {
        const img = await loadTrainingImage({ path: path.resolve(file), inputSize: config.inputSize, fit: config.fit, enhance: config.enhance, augment: null });
        const s = config.inputSize;
        const rgb = img.channels === 3 ? img.data : Float32Array.from({ length: s * s * 3 }, (_, i) => img.data[Math.floor(i / 3)]);
        const y = tf.tidy(() => inference.predict(preprocessInput(tf.tensor4d(rgb, [1, s, s, 3]), config.preprocess)) as tf.Tensor);
        const probs = task.probabilities(await y.data());
        y.dispose();
        out.push({ file, predicted: predictedClass(task, probs), probabilities: Object.fromEntries(task.classes.map((c, i) => [c, probs[i]])) });
      }
      return out;
    },
    dispose: () => {
      inference.dispose();
      model.dispose();
    },
  };
}
