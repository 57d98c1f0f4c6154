import { parentPort } from 'node:worker_threads';
import { describeError } from '../../errors';
import { loadTrainingImage, type ImageJob } from './images';

/** Worker side of ImagePool: one message per image, answered with the pixels (transferred) or an error line. */
parentPort!.on('message', (msg: { id: number; job: ImageJob }) => {
  loadTrainingImage(msg.job).then(
    (img) => parentPort!.postMessage({ id: msg.id, data: img.data, channels: img.channels }, [img.data.buffer as ArrayBuffer]),
    (err: unknown) => parentPort!.postMessage({ id: msg.id, error: describeError(err) }),
  );
});
