/**
 * The one check of a square input side against a minimum, shared by the backbone builders (Keras's own
 * minimum per architecture) and the run configuration, so every entry point rejects a bad size with the
 * same line.
 */
import { UsageError } from '../errors';

/**
 * Checks an input side in pixels.
 * @param model name to show in the message (e.g. `NASNetMobile`, or a run's model)
 * @param size the requested side
 * @param min the smallest side accepted
 * @returns `size`
 * @throws UsageError when `size` is not an integer of at least `min`
 * @example checkInputSize('NASNetMobile', 224, 32) // 224
 */
export function checkInputSize(model: string, size: number, min: number): number {
  if (!Number.isInteger(size) || size < min) throw new UsageError(`${model}: input size must be an integer of at least ${min} px, got ${size}`);
  return size;
}
