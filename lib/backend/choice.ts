/**
 * The backend names a user may choose, without loading TensorFlow.js: the `cxr` command parses `--backend` before
 * it knows whether the command computes at all.
 */
import { UsageError } from '../errors';

/** `tensorflow-gpu`: @tensorflow/tfjs-node-gpu; `tensorflow`: @tensorflow/tfjs-node; `wasm`; `cpu`: pure JS. */
export type BackendChoice = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Best first. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/**
 * Checks a backend name from the command line or the environment.
 * @param source where the value came from, for the error (e.g. `--backend`, `CXR_BACKEND`)
 * @throws UsageError for a name not in {@link BACKEND_CHOICES}
 */
export function parseBackendChoice(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new UsageError(`${source}: unknown backend '${value}' (choose from ${BACKEND_CHOICES.join(', ')})`);
}
