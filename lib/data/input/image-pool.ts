import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CxrError, InputFileError } from '../../errors';
import { loadTrainingImage, type ImageJob, type LoadedImage } from './images';

interface Pending {
  job: ImageJob;
  resolve: (img: LoadedImage) => void;
  reject: (err: Error) => void;
}

/** Jobs one worker holds at once: the next image decodes (in sharp's threads) while this one is enhanced. */
const PER_WORKER = 2;

/**
 * Decodes, enhances and augments images on worker threads, so the main thread (TensorFlow) and the
 * image work use both cores. Jobs start in submission order. `workers: 0` loads inline (same results).
 */
export class ImagePool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly queue: { id: number; pending: Pending }[] = [];
  private readonly inFlight = new Map<number, { pending: Pending; slot: number }>();
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(workers: number) {
    const entry = path.join(__dirname, 'image-worker-entry.js');
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(entry, { env: process.env });
      const slot = this.workers.length;
      worker.on('message', (msg: { id: number; data?: Float32Array; channels?: 1 | 3; error?: string }) => {
        const entry = this.inFlight.get(msg.id);
        if (!entry) return;
        this.inFlight.delete(msg.id);
        this.workers[slot].busy--;
        if (msg.error !== undefined) {
          // The worker's message starts with the file path when it is an InputFileError.
          const reason = msg.error.startsWith(entry.pending.job.path + ': ') ? msg.error.slice(entry.pending.job.path.length + 2) : msg.error;
          entry.pending.reject(new InputFileError(entry.pending.job.path, reason));
        } else entry.pending.resolve({ data: msg.data!, channels: msg.channels! });
        this.pump();
      });
      worker.on('error', (err) => this.fail(new CxrError(`image worker failed: ${err.message}`, { cause: err })));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.closed) this.fail(new CxrError(`image worker exited with code ${code}`));
      });
      this.workers.push({ worker, busy: 0 });
    }
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const [, e] of this.inFlight) e.pending.reject(err);
    this.inFlight.clear();
    for (const q of this.queue.splice(0)) q.pending.reject(err);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = -1;
      for (let i = 0; i < this.workers.length; i++) {
        if (this.workers[i].busy < PER_WORKER && (slot < 0 || this.workers[i].busy < this.workers[slot].busy)) slot = i;
      }
      if (slot < 0) return;
      const { id, pending } = this.queue.shift()!;
      this.workers[slot].busy++;
      this.inFlight.set(id, { pending, slot });
      this.workers[slot].worker.postMessage({ id, job: pending.job });
    }
  }

  /** Loads one image (see loadTrainingImage). */
  load(job: ImageJob): Promise<LoadedImage> {
    if (this.closed) return Promise.reject(new Error('ImagePool is closed'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) return loadTrainingImage(job);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, pending: { job, resolve, reject } });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}
