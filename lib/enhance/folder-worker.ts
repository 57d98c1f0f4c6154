// Worker thread for enhanceFolder: enhances the files it is sent, one at a time, and answers each.
import { parentPort, workerData } from 'node:worker_threads';
import { InputFileError, describeError } from '../errors';
import { enhanceFile, type EnhanceFileOptions } from './file';

const opts = workerData as EnhanceFileOptions;

parentPort!.on('message', async (task: { id: number; input: string; output: string }) => {
  try {
    await enhanceFile(task.input, task.output, opts);
    parentPort!.postMessage({ id: task.id, ok: true });
  } catch (err) {
    parentPort!.postMessage({ id: task.id, ok: false, reason: err instanceof InputFileError ? err.reason : describeError(err) });
  }
});
