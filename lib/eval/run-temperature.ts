/**
 * A run's calibration temperature: fitted on its own validation predictions (predictions.csv), as the report
 * fits it, so `cxr predict` and the page show the same calibrated probabilities the report's reliability
 * diagram describes.
 */
import { readRunFiles } from '../train/run-folder';
import { fitTemperatureToPredictions, logitsFromProbs, softmax, type TemperatureFit } from './calibration';

/**
 * Temperature scaling fitted on the run's val split.
 * @throws InputFileError when the run has no predictions.csv yet
 * @example calibrate(probs, runTemperature('runs/r1').temperature)
 */
export function runTemperature(dir: string): TemperatureFit {
  return fitTemperatureToPredictions(readRunFiles(dir).val);
}

/** Class probabilities rescaled by `temperature` (argmax unchanged). */
export function calibrate(probs: readonly number[], temperature: number): number[] {
  return softmax(logitsFromProbs(probs), temperature);
}
